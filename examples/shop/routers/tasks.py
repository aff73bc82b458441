"""``/tasks``: the status of background work (its id is returned when the work is queued)."""

from __future__ import annotations

from typing import Annotated

from sqlalchemy.ext.asyncio import AsyncSession

from hasten import APIRouter, Depends, HTTPException, status

from ..db import get_db
from ..models import Task
from ..ratelimit import rate_limit
from ..schemas import TaskOut, TaskStepOut, documented
from ..tasks import overall_status

router = APIRouter(
    prefix="/tasks", tags=["tasks"], dependencies=[Depends(rate_limit)], responses=documented(429)
)


@router.get(
    "/{task_id}",
    response_model=TaskOut,
    responses={404: {"description": "Unknown task"}},
    summary="A background task's status",
)
async def get_task(task_id: str, db: Annotated[AsyncSession, Depends(get_db)]) -> TaskOut:
    """``pending``, ``running``, ``done`` or ``failed`` (with each step's error)."""
    task = await db.get(Task, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Task not found")
    steps = [TaskStepOut.model_validate(step) for step in task.steps]
    return TaskOut(
        id=task.id,
        kind=task.kind,
        status=overall_status([s.status for s in steps]),  # type: ignore[arg-type]
        steps=steps,
    )
