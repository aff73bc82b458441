"""Jinja2 templates (Starlette's ``Jinja2Templates``; needs ``jinja2``)."""

from starlette.templating import Jinja2Templates as Jinja2Templates

__all__ = ["Jinja2Templates"]
