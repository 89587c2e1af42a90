"""Ids that are never reused, and the ordered change log the search replicas follow.

SQLite hands out ``max(id) + 1`` for a plain ``INTEGER PRIMARY KEY``, so deleting the newest
document and uploading another gave the new one the deleted ids (issue 14 item 4). Documents,
findings and cases become ``AUTOINCREMENT`` tables (SQLite batch rebuild, rows and ids kept;
``service.storage.sql.migrate`` runs migrations with foreign keys off, so dropping the old table
cascades nothing). PostgreSQL sequences never reuse values, so nothing changes there.

``index_changes`` is the ordered log of every finding or case added, changed or removed, written by
the storage layer in the transaction of the change, with the hash of the text the index holds.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("documents", "findings", "cases")


def upgrade() -> None:
    op.create_table(
        "index_changes",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("collection", sa.String(10), nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("op", sa.String(10), nullable=False),
        sa.Column("hash", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_index_changes_item", "index_changes", ["collection", "item_id"])
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
                pass
    op.drop_index("ix_index_changes_item", "index_changes")
    op.drop_table("index_changes")
