"""The serializer keywords of a route's response model, and a dump function that passes them.

FastAPI dumps a response model with all six ``response_model_*`` options as keywords. A call
of pydantic-core's ``to_json`` with a ``**`` mapping costs about 1.5k instructions more than
the same call with none, and each keyword a few hundred; per request, for a few bytes of JSON.
Hasten passes only the options that differ from pydantic-core's own defaults, which give the
same output by definition. ``by_alias`` (True unless ``response_model_by_alias=False``) is
left out too when nothing in the model's schema has a name or a serializer it could change
(:func:`alias_free`): then True, False and pydantic's default give the same JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["alias_free", "dump_keywords", "json_dumper", "python_dumper"]

#: Core schema types whose serializer reads no alias and infers nothing at run time (their
#: children, walked as well, may). ``any``, plain and wrap validator functions, instance
#: checks and everything not named here serialize by inference or by user code: a model
#: instance inside them is dumped with ``by_alias``.
_PLAIN_TYPES = frozenset(
    {
        "none", "bool", "int", "float", "decimal", "str", "bytes", "date", "time",
        "datetime", "timedelta", "uuid", "url", "multi-host-url", "literal", "enum",
        "list", "set", "frozenset", "tuple", "dict", "nullable", "default",
        "union", "tagged-union", "definitions", "definition-ref",
        "model", "model-fields", "model-field", "typed-dict", "typed-dict-field",
        "dataclass", "dataclass-args", "dataclass-field",
        "function-after", "function-before", "lax-or-strict", "json-or-python", "chain",
    }
)  # fmt: skip
#: Containers whose item schema, when missing, means ``any``.
_ITEMS = {"list": ("items_schema",), "set": ("items_schema",), "frozenset": ("items_schema",),
          "tuple": ("items_schema",), "dict": ("keys_schema", "values_schema")}  # fmt: skip
#: Keys that make a schema node's output depend on ``by_alias`` or on user code.
_ALIAS_KEYS = ("serialization_alias", "serialization", "extras_schema")
#: pydantic-core's defaults of the serializer's keywords (``by_alias``'s, None, reads the
#: model's config, which FastAPI's True overrides).
_DEFAULTS: dict[str, Any] = {
    "include": None,
    "exclude": None,
    "exclude_unset": False,
    "exclude_defaults": False,
    "exclude_none": False,
}
#: Keys of a schema that hold no schema: a class, JSON-schema hooks, a validator function.
_NOT_SCHEMAS = frozenset({"cls", "metadata", "function"})


def alias_free(schema: Any) -> bool:
    """Whether dumping a value of the core ``schema`` gives the same JSON with any
    ``by_alias``: no field has a serialization alias, no computed field, no serializer of the
    user's, no extra keys kept, no ``any`` (a model inside would be dumped by alias), and
    every ``definition-ref`` points into the schema. False for anything unknown."""
    refs: set[str] = set()
    wanted: set[str] = set()
    stack = [schema]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if isinstance(kind, str):  # a schema (else: fields by name, a config, a value)
            if not _node_plain(node, kind):
                return False
            refs.add(str(node.get("ref")))
            if kind == "definition-ref":
                wanted.add(str(node.get("schema_ref")))
        elif node.get("extra_fields_behavior") == "allow":  # a model's config
            return False
        stack.extend(value for key, value in node.items() if key not in _NOT_SCHEMAS)
    return wanted <= refs


def _node_plain(node: dict[str, Any], kind: str) -> bool:
    if kind not in _PLAIN_TYPES:
        return False
    if any(key in node for key in _ALIAS_KEYS) or node.get("computed_fields"):
        return False
    if node.get("extra_behavior") == "allow":
        return False
    return all(key in node for key in _ITEMS.get(kind, ()))


def dump_keywords(options: dict[str, Any], schema: Any) -> dict[str, Any]:
    """``options`` (the six ``response_model_*`` keywords) without those at pydantic-core's
    default, and without ``by_alias`` when ``schema`` is :func:`alias_free`."""
    kept = {
        name: value
        for name, value in options.items()
        if name not in _DEFAULTS or value is not _DEFAULTS[name]
    }
    if alias_free(schema):  # ``by_alias`` has no default to compare with: it is always given
        kept.pop("by_alias", None)
    return kept


def json_dumper(to_json: Callable[..., bytes], keywords: dict[str, Any]) -> Callable[[Any], bytes]:
    """``value -> to_json(value, **keywords)``, made as cheap as the keywords allow: ``to_json``
    itself with none, a literal keyword for ``by_alias`` alone."""
    if not keywords:
        return to_json
    if keywords == {"by_alias": True}:

        def by_alias(value: Any) -> bytes:
            return to_json(value, by_alias=True)

        return by_alias

    def dump(value: Any) -> bytes:
        return to_json(value, **keywords)

    return dump


def python_dumper(to_python: Callable[..., Any], keywords: dict[str, Any]) -> Callable[[Any], Any]:
    """``value -> to_python(value, mode="json", **keywords)`` (a model's content for a response
    class of its own), with the keywords written out when none or ``by_alias`` alone."""
    if not keywords:

        def plain(value: Any) -> Any:
            return to_python(value, mode="json")

        return plain
    if keywords == {"by_alias": True}:

        def by_alias(value: Any) -> Any:
            return to_python(value, mode="json", by_alias=True)

        return by_alias

    def dump(value: Any) -> Any:
        return to_python(value, mode="json", **keywords)

    return dump
