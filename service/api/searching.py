"""The app's search service, kept in step with the database.

Searches run concurrently with ingestion jobs, reviews and deletions (in this process, in a CLI next
to it, or in other API processes). Writers log every change in the database's change log in the
transaction of the change (:mod:`service.storage.changes`); before each search the service applies
what was logged since it last looked (one cheap query when nothing changed). Searches share the read
side of a reader/writer lock and run concurrently; only applying changes takes the write side.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Callable, Sequence

import numpy as np

from index.hybrid import Hit
from nlp.checklist import Checklist
from service import artefacts, context
from service.model_lock import ModelLock
from service.search import SearchFilters, SearchService
from service.settings import Settings
from service.storage.sql import SqlRepository


class SyncedSearch:
    """Same ``search`` / ``repository`` / ``checklist`` surface as :class:`SearchService` (so
    ``service.leads`` works on it), thread-safe and synced with the database on use."""

    def __init__(self, settings: Settings, factory: Callable[[], SearchService] | None = None,
                 embed_lock: ModelLock | None = None) -> None:
        self.settings = settings
        self._embed_lock = embed_lock or ModelLock()
        self._factory = factory or (lambda: context.search_service(settings, refresh=False))
        self._build = threading.Lock()
        self._service: SearchService | None = None

    @property
    def repository(self) -> SqlRepository:
        return context.repository(self.settings)

    @cached_property
    def checklist(self) -> Checklist:
        return self.service().checklist

    def service(self) -> SearchService:
        """The search service, with every change logged so far applied."""
        if self._service is None:
            with self._build:
                if self._service is None:
                    self._service = self._factory()
        self._service.catch_up()
        return self._service

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None,
               teams: set[str] | None = None, collection: str = "all", mode: str = "hybrid") -> list[Hit]:
        return self.service().search(query, k, filters, teams, collection, mode, sync=False)

    def synced(self) -> SyncedView:
        """A view synced once now, for work that runs many searches (leads): the change log is not
        re-read for every one of them."""
        self.service()
        return SyncedView(self)

    @cached_property
    def _e5(self) -> Callable[[Sequence[str]], np.ndarray]:
        try:  # the tagger's embedder: same model and on-disk cache, loaded once per process
            embed = artefacts.load_tagger(self.settings).embed
        except artefacts.ModelMissing:
            embed = None
        return embed or artefacts.embedder_for(self.settings).embed_queries

    def e5_embed(self, texts: Sequence[str]) -> np.ndarray:
        """e5 vectors, the space the lead thresholds were calibrated in. The lock is the tagger's:
        the model's tokenizer must not be used from two threads at once."""
        with self._embed_lock:
            return self._e5(texts)


class SyncedView:
    def __init__(self, owner: SyncedSearch) -> None:
        self._owner = owner
        self.repository, self.checklist = owner.repository, owner.checklist

    def search(self, *args, **kwargs) -> list[Hit]:
        return self._owner._service.search(*args, **kwargs, sync=False)
