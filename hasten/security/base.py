"""The base class of all security schemes."""

from hasten.openapi.models import SecurityBase as SecurityBaseModel

__all__ = ["SecurityBase"]


class SecurityBase:
    """A security scheme: a callable dependency with an OpenAPI ``model`` and a ``scheme_name``.

    ``scheme_name`` is the key under ``components.securitySchemes`` (the class name by default).
    """

    model: SecurityBaseModel
    scheme_name: str
