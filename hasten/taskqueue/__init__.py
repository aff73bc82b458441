"""Background work that outgrows the process: tasks on Dramatiq (RabbitMQ), statuses in Redis.

``@queue.task(retries=3)`` declares a task. ``await task.enqueue(...)`` sends it now and returns
its `TaskInfo` (``GET /tasks/{id}`` from `TaskQueue.router`); ``background_tasks.add_task(task,
...)`` sends it after the response, as FastAPI runs any function there. Without a broker the same
code runs the task in-process. ``hasten worker module:queue`` runs the tasks from the broker.
See docs/tasks.md.
"""

from ._model import TaskEvent, TaskInfo, TaskState
from ._queue import QueueTask, TaskQueue, TaskQueueUnavailable
from ._store import MemoryTaskStore, RedisTaskStore, TaskStore

__all__ = [
    "MemoryTaskStore",
    "QueueTask",
    "RedisTaskStore",
    "TaskEvent",
    "TaskInfo",
    "TaskQueue",
    "TaskQueueUnavailable",
    "TaskState",
    "TaskStore",
]
