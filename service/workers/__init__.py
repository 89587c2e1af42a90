"""Ingestion by a fleet of Celery workers on a broker (Redis; RabbitMQ also works).

Without ``XUNCHA_BROKER_URL`` nothing here runs: the API process ingests with its own threads
(:class:`service.jobs.JobRunner`). With it:

- the API streams an upload into the shared upload store, creates the job's rows and sends one
  task per file (:class:`service.workers.dispatch.QueueDispatcher`, built by
  ``service.api.services.build_services``); job and per-file progress live in the database, so any
  API process reports them;
- ``xuncha worker [--concurrency N]`` (:func:`service.workers.app.run_worker`) consumes the tasks:
  each runs :meth:`service.jobs.JobRunner.run_file` — claim that file under a lease, ingest with
  the checkpoint, record the outcome — the same per-file code as the in-process threads.

Delivery guarantees: tasks are acknowledged late (``acks_late``, ``task_reject_on_worker_lost``,
prefetch 1), so a worker killed mid-document leaves its task unacknowledged and the broker
delivers it again (Redis: after ``XUNCHA_BROKER_VISIBILITY_SECONDS``). Tasks are idempotent: a file
already finished is a no-op; a file running under a live lease (``XUNCHA_WORKER_LEASE_SECONDS``,
renewed every third of it) makes the task wait and look again; a file whose lease ran out is
taken over (leases are times of the workers' clocks: keep the machines' clocks in step, e.g. NTP,
well within a lease). A stopped worker (SIGTERM) finishes its running files first; SIGKILL leaves
them to redelivery. Each document is stored in one transaction and a content hash already stored in the
round makes a re-run a duplicate, so nothing is half-stored or stored twice. Small files go first
(task priority by estimated cost) and a large running file lets much smaller queued files run in
between, as in-process.

Settings every API process and worker needs alike: ``XUNCHA_BROKER_URL``,
``XUNCHA_DATABASE_URL`` (a server every process reaches; or one machine's SQLite file),
``XUNCHA_STORE_DIR`` (staged uploads and originals; default ``XUNCHA_HOME``; a shared mount across
machines), ``XUNCHA_MODELS_DIR``, and the ingestion settings (``XUNCHA_TAG_ON_INGEST``,
``XUNCHA_OCR``, caps and timeouts). A test starts a worker as a subprocess::

    subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--concurrency", "1"],
                     env={**os.environ, "XUNCHA_HOME": ..., "XUNCHA_BROKER_URL": ...})

(``tests/redis_fixtures.py``: ``redis_url`` starts a Redis server, ``running_worker`` a worker).
Modules: :mod:`.files` (the upload store interface), :mod:`.app` (Celery app factory, the task,
the worker entry point), :mod:`.dispatch` (sending tasks). Celery is imported only by the last two.
"""
