"""Documents carry the year of their own date and when their kind was corrected; rounds can be
marked as demo material. Existing documents get their year from their stored fields and text, and
the demo round created by earlier versions of ``xuncha serve`` is marked as demo.

Revision ID: 0007
Revises: 0006
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEMO_TEAM = "示例巡察组"
DEMO_INSPECTION = "示例巡察（2024年第二轮）"


def _datetime(value):
    from datetime import datetime

    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch (copy-and-drop) table rebuild: with SQLite's foreign keys on,
    # dropping the old inspections or documents table would cascade-delete every document and finding.
    op.add_column("documents", sa.Column("year", sa.Integer, nullable=True))
    op.add_column("documents", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_documents_year", "documents", ["year"])
    op.add_column("inspections", sa.Column("demo", sa.Boolean, nullable=False, server_default=sa.false()))

    from service.storage.years import document_year

    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, fields, text, kind, created_at FROM documents")).fetchall()
    for row in rows:
        fields = row.fields if isinstance(row.fields, dict) else json.loads(row.fields or "{}")
        year = document_year(fields, row.text, row.kind, _datetime(row.created_at))
        connection.execute(sa.text("UPDATE documents SET year = :year WHERE id = :id"), {"year": year, "id": row.id})
    connection.execute(sa.text("UPDATE inspections SET demo = :demo WHERE team = :team AND name = :name"),
                       {"demo": True, "team": DEMO_TEAM, "name": DEMO_INSPECTION})


def downgrade() -> None:
    op.drop_column("inspections", "demo")
    op.drop_index("ix_documents_year", "documents")
    op.drop_column("documents", "updated_at")
    op.drop_column("documents", "year")
