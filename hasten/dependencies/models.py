"""``Dependant``, FastAPI's name for the analysed form of an endpoint or dependency.

The class belongs to the engine (``hasten._plan.dependant``); this module is the public
path FastAPI code imports it from.
"""

from __future__ import annotations

from .._plan.dependant import Dependant as Dependant

__all__ = ["Dependant"]
