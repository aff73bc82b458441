"""Form support: python-multipart presence check."""

from __future__ import annotations

from ..exceptions import HastenError

multipart_not_installed_error = (
    'Form data requires "python-multipart" to be installed. \n'
    'You can install "python-multipart" with: \n\n'
    "pip install python-multipart\n"
)
multipart_incorrect_install_error = (
    'Form data requires "python-multipart" to be installed. '
    'It seems you installed "multipart" instead. \n'
    'You can remove "multipart" with: \n\n'
    "pip uninstall multipart\n\n"
    'And then install "python-multipart" with: \n\n'
    "pip install python-multipart\n"
)


def ensure_multipart_is_installed() -> None:
    """Raise at startup when a form is declared but python-multipart is missing."""
    try:
        from python_multipart import __version__

        assert __version__ > "0.0.12"
    except (ImportError, AssertionError):
        try:
            from multipart import __version__ as version  # type: ignore[import-untyped,no-redef,unused-ignore]

            assert version
            try:
                from multipart.multipart import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
                    parse_options_header,
                )

                assert parse_options_header
            except ImportError:
                raise HastenError(multipart_incorrect_install_error) from None
        except ImportError:
            raise HastenError(multipart_not_installed_error) from None
