"""Runnable examples of Hasten applications."""
