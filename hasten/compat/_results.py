"""Record test outcomes as JSON lines, for ``scripts/compat`` (PYTEST_DONT_REWRITE).

Active only in the pytest controller process (not in xdist workers, whose reports reach the
controller anyway) and only when ``HASTEN_COMPAT_RESULTS`` names the output file. One line per
report: ``{"nodeid", "when", "outcome", "xfail", "message"}``; ``when`` is ``"collect"`` for a
collection error.
"""

from __future__ import annotations

import json
from typing import IO, Any

__all__ = ["ResultRecorder", "first_error_line"]

_MAX_MESSAGE = 300


def first_error_line(longrepr: Any) -> str:
    """First line of the exception behind a failed report, e.g. ``ModuleNotFoundError: ...``."""
    if longrepr is None:
        return ""
    crash = getattr(longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if isinstance(message, str) and message.strip():
        return _clip(message.strip().splitlines()[0])
    text = str(longrepr)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    marked = [ln for ln in lines if ln.startswith("E ")]
    if marked:
        return _clip(marked[-1][1:].strip())
    return _clip(lines[-1].strip()) if lines else ""


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


class ResultRecorder:
    """A pytest plugin object that appends one JSON line per interesting report."""

    def __init__(self, path: str) -> None:
        self._file: IO[str] = open(path, "w", encoding="utf-8")

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self._write(
                {
                    "nodeid": report.nodeid,
                    "when": "collect",
                    "outcome": "error",
                    "xfail": False,
                    "message": first_error_line(report.longrepr),
                }
            )
        elif report.skipped and report.nodeid:
            self._write(
                {
                    "nodeid": report.nodeid,
                    "when": "collect",
                    "outcome": "skipped",
                    "xfail": False,
                    "message": "",
                }
            )

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when != "call" and report.passed:
            return  # setup/teardown that went fine: nothing to say
        failed = report.failed
        self._write(
            {
                "nodeid": report.nodeid,
                "when": report.when,
                "outcome": report.outcome,
                "xfail": hasattr(report, "wasxfail"),
                "message": first_error_line(report.longrepr) if failed else "",
            }
        )

    def pytest_unconfigure(self) -> None:
        self._file.close()
