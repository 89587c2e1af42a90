"""Rectification ledger (整改台账): ledgers, tasks and their evidence documents.

New tables only (no change to existing ones), so it runs the same on SQLite and PostgreSQL.

Revision ID: 0011
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rectification_ledgers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("inspection_id", sa.Integer, sa.ForeignKey("inspections.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finalised_by", sa.String(100)),
    )
    op.create_table(
        "rectification_tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("inspection_id", sa.Integer, sa.ForeignKey("inspections.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("problem_id", sa.Integer),
        sa.Column("item_id", sa.String(10), nullable=False),
        sa.Column("focus", sa.Integer, nullable=False),
        sa.Column("problem", sa.Text, nullable=False),
        sa.Column("unit", sa.String(200)),
        sa.Column("person", sa.String(100)),
        sa.Column("measures", sa.Text, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(100)),
        sa.Column("submitted_by", sa.String(100)),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("approved_by", sa.String(100)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("inspection_id", "item_id"),
    )
    op.create_table(
        "rectification_evidence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("rectification_tasks.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("added_by", sa.String(100)),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("task_id", "document_id"),
    )


def downgrade() -> None:
    op.drop_table("rectification_evidence")
    op.drop_table("rectification_tasks")
    op.drop_table("rectification_ledgers")
