"""Walking Pydantic core schemas (startup only): what validating a type will do."""

from __future__ import annotations

from typing import Any

# Keys that hold no validation schema: JSON-schema hooks, serializers, the class itself, the
# config (read from its node), a default factory (read from its node) and reference names.
_NOT_VALIDATION = frozenset(
    {"metadata", "serialization", "cls", "config", "default_factory", "ref"}
)

# The nodes of the schemas walked so far, by the schema's identity. The schema itself is kept
# in its entry, so its id cannot be reused by another object while the entry exists. Routes
# share schemas (a model's core schema, the typed dict of equal query parameters): each is
# walked once. A ``model_rebuild`` makes a new schema object, which is walked anew.
_NODES: dict[int, tuple[Any, tuple[dict[str, Any], ...]]] = {}
_NODES_MAX = 4096


def schema_nodes(schema: Any) -> tuple[dict[str, Any], ...]:
    """Every node of a core schema that validates something, each once, in walk order.

    A node is a dict whose ``"type"`` is a string. Other dicts are mappings of fields by name
    (a field may be called ``type``, ``missing`` or ``config``): only their values are nodes.
    """
    known = _NODES.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    nodes = tuple(_walk(schema))
    if len(_NODES) >= _NODES_MAX:
        _NODES.clear()
    _NODES[id(schema)] = (schema, nodes)
    return nodes


def _walk(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    seen: set[int] = set()
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
            continue
        if not isinstance(item, dict) or id(item) in seen:
            continue
        seen.add(id(item))
        if not isinstance(item.get("type"), str):
            stack.extend(item.values())
            continue
        found.append(item)
        stack.extend(value for key, value in item.items() if key not in _NOT_VALIDATION)
    return found
