"""Hasten's version, in a module of its own (read by packaging and by telemetry)."""

__version__ = "0.1.0"
