"""Walking Pydantic core schemas (startup only): what validating a type will do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Keys that hold no validation schema: JSON-schema hooks, serializers, the class itself, the
# config (read from its node), a default factory (read from its node) and reference names.
_NOT_VALIDATION = frozenset(
    {"metadata", "serialization", "cls", "config", "default_factory", "ref"}
)


def schema_nodes(schema: Any) -> Iterator[dict[str, Any]]:
    """Every node of a core schema that validates something, each once.

    A node is a dict whose ``"type"`` is a string. Other dicts are mappings of fields by name
    (a field may be called ``type``, ``missing`` or ``config``): only their values are nodes.
    """
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
        yield item
        stack.extend(value for key, value in item.items() if key not in _NOT_VALIDATION)
