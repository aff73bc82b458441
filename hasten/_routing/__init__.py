"""Route lookup that does not slow down as routes are added."""

from .matcher import Matcher

__all__ = ["Matcher"]
