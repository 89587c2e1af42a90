"""The Celery app (one per broker configuration and process), the ingestion task and the worker's
entry point. See :mod:`service.workers` for the design."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from functools import lru_cache

from celery import Celery

from service.settings import Settings, get_settings

log = logging.getLogger(__name__)

TASK = "xuncha.ingest_file"
QUEUE = "xuncha.ingest"
ERROR_RETRIES = 20
"""A task whose run raised (e.g. the database was unreachable while recording) is sent again this
many times, a lease apart, before it is given up (its file then stays for the next worker start)."""
SLOW_CHECKPOINT_ENV = "XUNCHA_TEST_SLOW_CHECKPOINT"
"""Tests only: seconds every checkpoint of a worker sleeps, so a document is still running when the
test kills its worker."""


def transport_options(settings: Settings) -> dict:
    """Redis: redeliver an unacknowledged task after the visibility timeout (looked for a few times
    within it) and take small files first (ten priority levels, 0 first)."""
    if not settings.broker_url.startswith(("redis://", "rediss://", "redis+socket://")):
        return {}
    visibility = max(1, settings.broker_visibility_seconds)
    return {"visibility_timeout": visibility, "unacked_restore_interval": max(1, min(10, visibility // 4)),
            "unacked_restore_throttle": 1, "priority_steps": list(range(10)), "sep": ":",
            "queue_order_strategy": "priority"}


@lru_cache(maxsize=4)
def _app(broker_url: str, options: tuple, lease: int) -> Celery:
    app = Celery("xuncha", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=QUEUE, task_serializer="json", accept_content=["json"], task_ignore_result=True,
        broker_transport_options=dict(options), broker_connection_retry_on_startup=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
        worker_send_task_events=False,
        broker_heartbeat=0)

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
    def ingest_file(task, job_id: str, index: int) -> str:
        try:
            state = _runner().run_file(job_id, int(index), _worker_name())
        except Exception as error:  # noqa: BLE001 - the file stays claimable; look again later
            log.error("job %s file %s: %s; the task is sent again", job_id, index, type(error).__name__)
            raise task.retry(countdown=max(1, lease // 2), max_retries=ERROR_RETRIES, exc=error) from None
        if state == "busy":  # another live worker runs it; if that worker dies, this delivery takes over
            raise task.retry(countdown=max(1, lease // 2))
        return state

    return app


def celery_app(settings: Settings | None = None) -> Celery:
    """The Celery app of ``settings`` (``XUNCHA_BROKER_URL`` must be set)."""
    settings = settings or get_settings()
    if not settings.broker_url:
        raise ValueError("XUNCHA_BROKER_URL is not set")
    options = tuple(sorted((key, tuple(value) if isinstance(value, list) else value)
                           for key, value in transport_options(settings).items()))
    return _app(settings.broker_url, options, settings.worker_lease_seconds)


def priority(cost: int) -> int:
    """Task priority of a file of estimated ``cost`` (0 first: a one-page file before a 1,000-page one)."""
    return min(9, (max(1, cost).bit_length() - 1) // 2)


# ----- inside a worker process

_local = threading.Lock()
_runners: list = []


def _worker_name() -> str:
    """A name for one run of one task (the lease's holder): host, process, a random tag."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _runner():
    """This process's JobRunner (built on first use: in a prefork child, after the fork)."""
    with _local:
        if not _runners:
            from service import context
            from service.jobs import JobRunner
            from service.storage.jobs import JobStore

            settings = get_settings()
            ingestor = context.ingestor(settings, tag=settings.tag_on_ingest)
            if ingestor.tagger is not None:
                ingestor.tagger = _serialised(ingestor.tagger)
            runner = JobRunner(JobStore(context.repository(settings).engine), ingestor, settings.uploads_dir,
                               file_timeout=settings.file_timeout_seconds, lease=settings.worker_lease_seconds)
            delay = float(os.environ.get(SLOW_CHECKPOINT_ENV) or 0)
            if delay > 0:
                runner._checkpoint = _slowed(runner._checkpoint, delay)
            _runners.append(runner)
        return _runners[0]


def _serialised(tag):
    """The tagger behind a lock (a threads pool runs several files in one process)."""
    lock = threading.Lock()

    def call(texts, kind=None):
        with lock:
            return tag(texts, kind)
    return call


def _slowed(checkpoint, delay: float):
    import time

    def slow(running):
        time.sleep(delay)
        return checkpoint(running)
    return slow


def run_worker(settings: Settings, concurrency: int, pool: str = "prefork", loglevel: str = "INFO",
               resend: bool = False) -> None:
    """Run a Celery worker consuming the ingestion tasks until it is stopped (blocks).

    Before it starts, files left running under an expired lease (their worker died; their task may
    be lost) get a task again, and with ``resend`` so do all queued files (after the broker lost its
    data); extra deliveries are no-ops."""
    from service import context
    from service.security.files import private_files
    from service.storage.jobs import JobStore
    from service.workers.dispatch import send

    private_files(settings.files_dir)
    engine = context.repository(settings).engine  # also migrates a new database
    store = JobStore(engine)
    app = celery_app(settings)
    pending = [(job_id, index, 1) for job_id, index in store.stale()]
    if resend:
        pending += store.queued()
    if pending:
        send(app, pending)
        log.info("sent %d task(s) again for files left running or queued", len(pending))
    engine.dispose()  # no pooled connection may be inherited by the pool processes forked next
    node = f"xuncha{os.getpid()}@{socket.gethostname()}"
    app.worker_main(["worker", f"--concurrency={max(1, concurrency)}", f"--pool={pool}", f"--loglevel={loglevel}",
                     f"--hostname={node}", f"--queues={QUEUE}", "--without-gossip", "--without-mingle",
                     "--without-heartbeat"])
