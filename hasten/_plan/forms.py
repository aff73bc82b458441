"""Form support: is python-multipart (the package Starlette parses forms with) importable?

Checked once per ``Form``/``File`` parameter at declaration, never per request. The two
messages are FastAPI's, word for word (its tests match on them).
"""

from __future__ import annotations

import importlib
from typing import Any

from ..exceptions import HastenError

_NEEDS_IT = 'Form data requires "python-multipart" to be installed.'
_INSTALL_IT = "pip install python-multipart\n"

#: No python-multipart at all.
multipart_not_installed_error = (
    f'{_NEEDS_IT} \nYou can install "python-multipart" with: \n\n{_INSTALL_IT}'
)
#: The unrelated ``multipart`` package answers the import name instead.
multipart_incorrect_install_error = (
    f'{_NEEDS_IT} It seems you installed "multipart" instead. \n'
    'You can remove "multipart" with: \n\npip uninstall multipart\n\n'
    f'And then install "python-multipart" with: \n\n{_INSTALL_IT}'
)


def _lookup(module: str, attribute: str) -> Any:
    """``module.attribute`` read now (tests patch these), or None when either is missing."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(found, attribute, None)


def _multipart_problem() -> str | None:
    """The message to raise, or None when a usable python-multipart is installed."""
    current = _lookup("python_multipart", "__version__")
    if current is not None and current > "0.0.12":
        return None
    # Older python-multipart releases are imported as ``multipart`` (a name the unrelated
    # "multipart" package also uses): only python-multipart has ``multipart.multipart``.
    if not _lookup("multipart", "__version__"):
        return multipart_not_installed_error
    if _lookup("multipart.multipart", "parse_options_header") is None:
        return multipart_incorrect_install_error
    return None


def ensure_multipart_is_installed() -> None:
    """Raise at startup when a form is declared but python-multipart is missing."""
    problem = _multipart_problem()
    if problem is not None:
        raise HastenError(problem)
