"""Keep bearer tokens out of the server's logs.

Browsers cannot send an ``Authorization`` header when opening a WebSocket, so the chat takes
its token in the query string (``?token=``); uvicorn's access and WebSocket log lines print
the path with its query. ``TokenRedactor``, a logging filter on uvicorn's loggers, replaces the
value of every ``token=`` / ``access_token=`` query parameter with ``[redacted]``.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"((?:^|[?&;\s])(?:access_)?token=)[^&;\s\"']*", re.IGNORECASE)
UVICORN_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    """``text`` with the value of each ``token=``/``access_token=`` parameter redacted."""
    return _TOKEN.sub(r"\1[redacted]", text)


class TokenRedactor(logging.Filter):
    """Redacts query-string tokens in a record's message and string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def redact_uvicorn_logs() -> None:
    """Install the redactor on uvicorn's loggers (once; safe to call at every startup)."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactor) for f in logger.filters):
            logger.addFilter(TokenRedactor())
