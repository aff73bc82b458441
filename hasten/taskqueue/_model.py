"""A task's status record: its states, its stored form (flat string fields) and `TaskInfo`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

TaskState = Literal["queued", "running", "succeeded", "failed", "retrying", "lost", "dead"]
"""``queued`` (sent, not started), ``running`` (an attempt holds it, its worker beats),
``succeeded`` (``result`` set), ``failed`` (raised an exception the task ``throws``: not retried),
``retrying`` (an attempt failed or its worker was lost; the next one is scheduled), ``lost``
(``running`` whose worker stopped beating: killed or cut off; the queue redelivers it), ``dead``
(retries exhausted: in the engine's dead-letter queue)."""

TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "dead"})
"""States after which the task never runs again."""


class TaskEvent(BaseModel):
    """One change of state, in the order they happened."""

    state: TaskState
    at: datetime
    attempt: int
    error: str | None = None


class TaskInfo(BaseModel):
    """What ``GET /tasks/{id}`` answers: the same from every process sharing the store."""

    id: str
    name: str
    state: TaskState
    attempts: int
    """Attempts started so far (1 for the first run; a lost attempt counts)."""
    max_retries: int
    result: Any = None
    error: str | None = None
    enqueued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    updated_at: datetime
    history: list[TaskEvent] = []


def now() -> float:
    """Seconds since the epoch (records carry wall-clock times: several hosts read them)."""
    return time.time()


def _dt(value: str | None) -> datetime | None:
    return None if not value else datetime.fromtimestamp(float(value), UTC)


def encode_result(value: Any) -> str:
    """The JSON text of a task's return value (models, dataclasses and dates included)."""
    return json.dumps(to_jsonable_python(value, fallback=repr))


def describe(exc: BaseException) -> str:
    """``Type: message``, as the status shows an error."""
    return f"{type(exc).__name__}: {exc}"


def fields_for(state: TaskState, attempt: int, *, at: float, **extra: Any) -> dict[str, str]:
    """The fields a transition to ``state`` writes (``extra``: other fields, None skipped)."""
    fields = {"state": state, "attempts": str(attempt), "updated_at": repr(at)}
    fields.update({key: str(value) for key, value in extra.items() if value is not None})
    return fields


def event_for(state: TaskState, attempt: int, at: float, error: str | None = None) -> str:
    """The stored form of one `TaskEvent`."""
    return json.dumps({"state": state, "at": at, "attempt": attempt, "error": error})


def effective_state(fields: dict[str, str], at: float) -> str:
    """The stored state, or ``lost`` for ``running`` whose heartbeat is older than its timeout."""
    state = fields.get("state", "queued")
    if state == "running":
        beat = float(fields.get("heartbeat_at") or fields.get("started_at") or 0)
        if at - beat > float(fields.get("heartbeat_timeout") or "inf"):
            return "lost"
    return state


def to_info(task_id: str, fields: dict[str, str], history: list[str], at: float) -> TaskInfo:
    """Build the `TaskInfo` of a stored record read at time ``at``."""
    events = [json.loads(item) for item in history]
    state = effective_state(fields, at)
    if state == "lost" and (not events or events[-1]["state"] != "lost"):
        attempt = int(fields.get("attempts") or 0)
        events.append({"state": "lost", "at": at, "attempt": attempt, "error": None})
    result = fields.get("result")
    return TaskInfo(
        id=task_id,
        name=fields.get("name", ""),
        state=state,  # type: ignore[arg-type]
        attempts=int(fields.get("attempts") or 0),
        max_retries=int(fields.get("max_retries") or 0),
        result=None if result is None else json.loads(result),
        error=fields.get("error") or None,
        enqueued_at=_dt(fields.get("enqueued_at")) or datetime.fromtimestamp(at, UTC),
        started_at=_dt(fields.get("started_at")),
        finished_at=_dt(fields.get("finished_at")),
        heartbeat_at=_dt(fields.get("heartbeat_at")),
        updated_at=_dt(fields.get("updated_at")) or datetime.fromtimestamp(at, UTC),
        history=[TaskEvent.model_validate(event) for event in events],
    )
