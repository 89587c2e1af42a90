"""The ordered change log the search replicas follow (table ``index_changes``, migration 0008).

Every write that changes what search holds appends, *in the transaction of the change*, one row per
finding or case touched: a sequence number (``seq``, AUTOINCREMENT so never reused), the collection,
the item's id, ``add`` (added or changed: text or metadata) or ``remove``, and the hash of the text
the index holds for it. A replica remembers the last ``seq`` it applied and, before serving a
search, reads the rows after it and reconciles those ids with the database (so the order in which
concurrent transactions commit does not matter, only that every change has a row). Any number of
processes can follow the same log; nothing here relies on a lock inside one process.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Iterable

from sqlalchemy import DateTime, Index, Integer, String, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.storage.models import Base, utcnow

ADD, REMOVE = "add", "remove"
COLLECTIONS = ("cases", "findings")


class IndexChange(Base):
    __tablename__ = "index_changes"
    __table_args__ = (Index("ix_index_changes_item", "collection", "item_id"), {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection: Mapped[str] = mapped_column(String(10))
    item_id: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(10))
    hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def text_hash(text: str) -> str:
    """The content hash of an indexed text (the log's and the replicas' ``hash``)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def log_changes(session: Session, collection: str, op: str, items: Iterable[tuple[int, str | None]]) -> int:
    """Append one row per ``(id, text)`` to the log inside ``session``'s transaction (``text`` is
    None for removals). Returns the number of rows written."""
    if collection not in COLLECTIONS or op not in (ADD, REMOVE):
        raise ValueError(f"bad change: {collection} {op}")
    now = utcnow()
    rows = [{"collection": collection, "item_id": int(i), "op": op, "created_at": now,
             "hash": None if text is None else text_hash(text)} for i, text in items]
    for start in range(0, len(rows), 500):
        session.execute(insert(IndexChange), rows[start:start + 500])
    return len(rows)


def last_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(IndexChange.seq))) or 0)


def changes_after(session: Session, seq: int, also: Iterable[int] = (), limit: int | None = None
                  ) -> list[IndexChange]:
    """Rows with ``seq`` after ``seq`` (and the rows ``also``, gaps being waited for), in order."""
    query = select(IndexChange).where(IndexChange.seq > seq)
    also = sorted(set(also))
    if also:
        query = select(IndexChange).where((IndexChange.seq > seq) | IndexChange.seq.in_(also))
    query = query.order_by(IndexChange.seq)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
