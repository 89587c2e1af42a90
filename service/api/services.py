"""The long-lived objects one app instance works with, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from nlp.checklist import Checklist, load_checklist
from service import artefacts, context
from service.api.searching import SyncedSearch
from service.batching import MicroBatcher
from service.cores import spare_cores
from service.jobs import JobRunner
from service.model_lock import ModelLock
from service.originals import OriginalStore
from service.security import AuditLog, SecurityStore
from service.security.throttle import LoginThrottle, SharedLoginThrottle
from service.settings import Settings
from service.storage import SqlRepository
from service.storage.jobs import JobStore
from service.storage.scope import Scopes


@dataclass
class Services:
    settings: Settings
    repository: SqlRepository
    security: SecurityStore
    audit: AuditLog
    scopes: Scopes
    jobs: JobStore
    runner: JobRunner
    """Ingests in this process's threads, or with a broker a QueueDispatcher sending tasks to workers."""
    originals: OriginalStore
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    tag_lock: ModelLock = field(default_factory=ModelLock)
    """Serialises use of the (not necessarily thread-safe) tagger by requests and ingestion jobs;
    requests go before ingestion chunks."""

    @cached_property
    def checklist(self) -> Checklist:
        return load_checklist()

    @cached_property
    def leads(self):
        """Round leads cached until their round or the prior cases change."""
        from service.leads import LeadsCache
        from service.storage.versions import round_version

        return LeadsCache(lambda inspection_id: round_version(self.repository.engine, inspection_id))

    def prepare_leads(self, inspection_id: int) -> None:
        """Compute the round's leads for its team in the background (after an upload finished)."""
        from service.leads import round_leads

        inspection = self.repository.get_inspection(inspection_id)
        if inspection is None:
            return
        teams = {inspection.team}
        def compute():
            with self.tag_lock.background_thread():  # requests go first, as with ingestion
                return round_leads(inspection_id, self.search.synced(), self.search.e5_embed, teams)

        self.leads.prepare(inspection_id, teams, compute)

    @cached_property
    def tag_batch(self) -> MicroBatcher:
        """Tags texts with the trained model; concurrent requests share one model call."""
        def tag(texts: list[str]):
            tagger = artefacts.load_tagger(self.settings)
            with self.tag_lock, spare_cores():
                return tagger.tag(texts)
        return MicroBatcher(tag)

    @cached_property
    def search(self) -> SyncedSearch:
        return SyncedSearch(self.settings, embed_lock=self.tag_lock)


JOB_TAG_CHUNK = 32


def _locked(tag, lock: ModelLock):
    """The ingest tagger, taking the shared lock per chunk of findings as background work: a
    400-finding document otherwise held it for ~30 s and stalled every interactive /api/tag call
    (bench/service.py)."""
    def call(texts: list[str], kind: str | None = None) -> list[dict]:
        tagged: list[dict] = []
        for start in range(0, len(texts), JOB_TAG_CHUNK):
            with lock.background(), spare_cores():
                tagged += tag(texts[start:start + JOB_TAG_CHUNK], kind)
        return tagged
    return call


def build_services(settings: Settings) -> Services:
    repository = context.repository(settings)
    engine = repository.engine
    jobs = JobStore(engine)
    ingestor = context.ingestor(settings, tag=settings.tag_on_ingest)
    lock = ModelLock()
    if ingestor.tagger is not None:
        ingestor.tagger = _locked(ingestor.tagger, lock)
    if settings.files_dir != settings.home:  # staged uploads and originals in XUNCHA_STORE_DIR
        from service.security.files import private_files

        private_files(settings.files_dir)
    if settings.broker_url:  # workers ingest (xuncha worker); this process only stages and enqueues
        from service.workers.dispatch import QueueDispatcher

        runner = QueueDispatcher(settings, jobs, ingestor)
    else:
        runner = JobRunner(jobs, ingestor, settings.uploads_dir, workers=settings.job_workers,
                           file_timeout=settings.file_timeout_seconds)
    services = Services(settings, repository, SecurityStore(engine), AuditLog(engine), Scopes(engine), jobs, runner,
                        ingestor.originals, throttle=SharedLoginThrottle(engine), tag_lock=lock)
    if settings.prepare_leads:
        runner.on_job_done = services.prepare_leads
    return services
