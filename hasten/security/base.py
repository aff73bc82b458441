"""The base class of all security schemes, and the few pieces every scheme shares."""

from typing import TypeVar

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.status import HTTP_401_UNAUTHORIZED

from hasten.openapi.models import SecurityBase as SecurityBaseModel

__all__ = ["SecurityBase"]


class SecurityBase:
    """A security scheme: a callable dependency with an OpenAPI ``model`` and a ``scheme_name``.

    ``scheme_name`` is the key under ``components.securitySchemes`` (the class name by default).
    """

    model: SecurityBaseModel
    scheme_name: str


def _set_up(
    scheme: SecurityBase, model: SecurityBaseModel, scheme_name: str | None, auto_error: bool
) -> None:
    """Store what every scheme keeps: its document entry, its name and ``auto_error``."""
    scheme.model = model
    scheme.scheme_name = scheme_name or type(scheme).__name__
    scheme.auto_error = auto_error  # type: ignore[attr-defined]


_Error = TypeVar("_Error", bound=StarletteHTTPException)


def _challenge(headers: dict[str, str], error_class: type[_Error]) -> _Error:
    """The 401 a scheme answers without usable credentials; ``headers`` carry the challenge."""
    return error_class(
        status_code=HTTP_401_UNAUTHORIZED, detail="Not authenticated", headers=headers
    )
