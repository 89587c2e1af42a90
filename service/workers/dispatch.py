"""The API side with a broker: uploads are staged in the shared store and every queued file of a
job is sent as one task; nothing is ingested in the API process."""

from __future__ import annotations

import logging

from service.jobs import remove_stale_uploads
from service.settings import Settings
from service.storage.jobs import QUEUE_UNAVAILABLE, JobStore
from service.workers.app import TASK, celery_app, priority
from service.workers.files import DirectoryStore, UploadStore

log = logging.getLogger(__name__)
ORPHAN_SECONDS = 24 * 3600
"""A staged upload without a job is removed at a start once this old (another API process may still
be receiving it)."""


class SendFailed(Exception):
    def __init__(self, sent: int, error: Exception) -> None:
        super().__init__(type(error).__name__)
        self.sent, self.error = sent, error


def send(app, files: list[tuple[str, int, int]]) -> int:
    """Send one task per file (job id, index, estimated cost); :class:`SendFailed` tells how many
    went before the broker failed (after the retries of ``task_publish_retry_policy``)."""
    sent = 0
    try:
        with app.producer_or_acquire() as producer:
            for job_id, index, cost in files:
                app.send_task(TASK, args=(job_id, index), priority=priority(cost), producer=producer)
                sent += 1
    except Exception as error:  # noqa: BLE001 - kombu's own and socket errors
        raise SendFailed(sent, error) from error
    return sent


class QueueDispatcher:
    """Stands where :class:`service.jobs.JobRunner` stands in the API (``services.runner``)."""

    def __init__(self, settings: Settings, store: JobStore, ingestor, uploads: UploadStore | None = None) -> None:
        self.settings = settings
        self.store = store
        self.ingestor = ingestor
        """Used by the API to delete documents with their originals, never to ingest."""
        self.uploads = uploads or DirectoryStore(settings.uploads_dir)
        self.on_job_done = None  # jobs finish in the workers
        self.app = celery_app(settings)

    def staging(self, job_id: str):
        return self.uploads.staging(job_id)

    def recover(self) -> None:
        """On start: only clean-up. Running files belong to workers (a killed worker's are
        redelivered); queued files keep their tasks in the broker."""
        remove_stale_uploads(self.store, self.uploads, orphan_age=ORPHAN_SECONDS)

    def start(self) -> None:
        pass

    def submit(self, job_id: str) -> None:
        """Send a task for each queued file of the job (new or requeued). Files whose task cannot
        be sent (broker unreachable) fail as retryable at once instead of waiting for ever."""
        self.uploads.publish(job_id)
        pending = self.store.queued(job_id)
        try:
            send(self.app, pending)
        except SendFailed as failed:
            log.error("job %s: %d of %d task(s) could not be sent: %s", job_id, len(pending) - failed.sent,
                      len(pending), failed)
            self.store.unqueue(job_id, [index for _, index, _ in pending[failed.sent:]], "queue_unavailable",
                               QUEUE_UNAVAILABLE)

    def shutdown(self, timeout: float = 30.0) -> None:
        self.app.close()  # the producer connections; the app is built again on next use
