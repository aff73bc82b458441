"""``/tasks``: the status of background work, as ``hasten.taskqueue`` records it (its id is
returned when the work is queued)."""

from __future__ import annotations

from hasten import APIRouter, Depends, HTTPException, Request, status
from hasten.taskqueue import TaskInfo, TaskQueue

from ..ratelimit import rate_limit
from ..schemas import documented

router = APIRouter(
    prefix="/tasks", tags=["tasks"], dependencies=[Depends(rate_limit)], responses=documented(429)
)


@router.get(
    "/{task_id}",
    response_model=TaskInfo,
    responses={
        404: {"description": "Unknown task"},
        503: {"description": "The task store cannot be reached"},
    },
    summary="A background task's status",
)
async def get_task(task_id: str, request: Request) -> TaskInfo:
    """The queue's record: ``queued``, ``running``, ``succeeded`` (each step's outcome in
    ``result``), ``failed`` (the failed steps in ``error``), ``retrying``, ``lost`` or ``dead``,
    with the attempts and the history. The same from every server process when the statuses
    are in Redis (``SHOP_TASK_BROKER_URL``)."""
    queue: TaskQueue = request.app.state.user_work.queue
    info = await queue.status(task_id)
    if info is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Task not found")
    return info
