"""Whether a route's compiled plan still matches its ``dependant``.

Libraries change a built route's dependency graph in place and then ask for its handler again
(fastapi-pagination appends a dependency to ``route.dependant.dependencies`` and sets
``route.app = request_response(route.get_route_handler())``). FastAPI reads the dependant on
each ``get_route_handler()``; Hasten compiles it once, so ``get_route_handler()`` compiles it
again when this check fails. It runs only there, never per request.
"""

from __future__ import annotations

from typing import Any

__all__ = ["graph_unchanged"]


def graph_unchanged(node: Any, dependant: Any) -> bool:
    """Whether ``node`` (a compiled ``Node``) was compiled from ``dependant`` as it is now:
    the same dependant objects, with the same sub-dependencies, all the way down."""
    subs = dependant.dependencies
    if node.dependant is not dependant or len(node.subs) != len(subs):
        return False
    return all(graph_unchanged(n, d) for n, d in zip(node.subs, subs, strict=True))
