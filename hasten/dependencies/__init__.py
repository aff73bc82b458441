"""Dependency declarations (``Dependant``) and FastAPI's helper names over Hasten's engine."""
