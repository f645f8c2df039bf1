"""Hand a Celery task its work after the current transaction commits, the way `TASK_RUNNER` says:

- "worker": to the broker, for a separate Celery worker process (production, CI's real-service run);
- "thread": to one background thread inside the web process (the embedded `make run`: the in-memory
  channel layer only reaches sockets of this process, and one thread serialises SQLite writes);
- "eager": at once, in the caller (tests on the embedded default).
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from celery import Task
from django.conf import settings
from django.db import close_old_connections, connection, transaction

logger = logging.getLogger(__name__)
_embedded_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="switchboard-task")


def enqueue(task: Task, *args, countdown: float = 0) -> None:
    """Run `task(*args)` once the surrounding transaction (if any) has committed, and no sooner than
    `countdown` seconds from then ("eager" ignores the delay: tests do not wait)."""
    transaction.on_commit(partial(dispatch, task, args, countdown))


def dispatch(task: Task, args: tuple, countdown: float = 0) -> None:
    runner = settings.TASK_RUNNER
    if runner == "worker":
        task.apply_async(args=args, countdown=countdown or None)
    elif runner == "thread":
        if countdown > 0:
            timer = threading.Timer(countdown, _embedded_executor.submit, args=(_run_in_thread, task, args))
            timer.daemon = True
            timer.start()
        else:
            _embedded_executor.submit(_run_in_thread, task, args)
    else:
        task.apply(args=args, throw=True)


def _run_in_thread(task: Task, args: tuple) -> None:
    close_old_connections()
    try:
        result = task.apply(args=args)
        if result.failed():
            logger.error("Task %s%r failed: %s", task.name, args, result.result)
    finally:
        connection.close()
