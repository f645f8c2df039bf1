"""The embedded mode's stand-in for Celery beat: one daemon thread that runs CELERY_BEAT_SCHEDULE's
interval tasks through the same task queue as everything else. Production runs `celery beat` instead."""

import importlib
import logging
import threading
import time

from django.conf import settings

from config.celery import app
from config.task_queue import dispatch

logger = logging.getLogger(__name__)
_started = threading.Event()


def start() -> None:
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_loop, name="switchboard-beat", daemon=True).start()


def _loop() -> None:
    schedule = {name: entry for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    next_run = {name: time.monotonic() + 5 for name in schedule}
    while True:
        now = time.monotonic()
        for name, entry in schedule.items():
            if now >= next_run[name]:
                next_run[name] = now + entry["schedule"].total_seconds()
                try:
                    # Task modules register themselves on import; the web process may not have imported them.
                    importlib.import_module(entry["task"].rsplit(".", 1)[0])
                    dispatch(app.tasks[entry["task"]], ())
                except Exception:
                    logger.exception("Embedded beat could not run %s", name)
        time.sleep(1)
