"""The logger Hasten writes its own messages to."""

import logging

__all__ = ["logger"]

logger = logging.getLogger("hasten")
