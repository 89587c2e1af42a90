"""Cheap fingerprints of what a computation read, for caches that must never serve stale results.

A round's version changes whenever a document, finding, review or index-visible finding change of
that round does; the cases' version whenever the prior-case collection changes (ids are never
reused and every index-visible change has a row in ``index_changes``, so counts, maximum ids and
sequence numbers together see additions, deletions and edits)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

_ROUND = text("""
    select
      (select count(*) from documents where inspection_id = :round),
      (select max(updated_at) from documents where inspection_id = :round),
      (select max(id) from documents where inspection_id = :round),
      (select count(*) from findings f join documents d on f.document_id = d.id where d.inspection_id = :round),
      (select max(f.id) from findings f join documents d on f.document_id = d.id where d.inspection_id = :round),
      (select count(*) from tag_feedback t join findings f on t.finding_id = f.id
         join documents d on f.document_id = d.id where d.inspection_id = :round),
      (select max(t.id) from tag_feedback t join findings f on t.finding_id = f.id
         join documents d on f.document_id = d.id where d.inspection_id = :round),
      (select max(c.seq) from index_changes c join findings f on c.collection = 'findings' and c.item_id = f.id
         join documents d on f.document_id = d.id where d.inspection_id = :round),
      (select max(seq) from index_changes where collection = 'cases')
""")


def round_version(engine: Engine, inspection_id: int) -> tuple:
    """The version of one round's documents, findings, reviews and of the prior cases."""
    with engine.connect() as connection:
        return tuple(str(v) if v is not None else None
                     for v in connection.execute(_ROUND, {"round": inspection_id}).one())
