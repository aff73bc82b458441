"""``hasten worker module:queue``: run a `TaskQueue`'s tasks from its broker in this process."""

from __future__ import annotations

import importlib
import os
import sys

from ._queue import TaskQueue


def load_queue(target: str) -> TaskQueue:
    """The `TaskQueue` named by ``module:attribute`` (imported from the current directory)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected module:attribute, got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    queue = getattr(importlib.import_module(module_name), attribute, None)
    if not isinstance(queue, TaskQueue):
        raise ValueError(f"{target} is not a hasten.taskqueue.TaskQueue")
    if not queue.distributed:
        raise ValueError(f"{target} has no broker_url: its tasks run in the server processes")
    return queue


def serve(target: str, *, threads: int) -> int:
    """Consume the queue's messages until SIGTERM or SIGINT; returns the exit status."""
    from ._dramatiq import run_worker

    queue = load_queue(target)
    names = ", ".join(sorted(queue.tasks)) or "no tasks"

    def ready() -> None:
        print(
            f"hasten worker: queue {queue.queue_name!r} ({names}), {threads} threads, ready",
            flush=True,
        )

    run_worker(queue.broker, threads=threads, ready=ready)
    return 0
