"""Prior cases for similar-case search and leads.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("external_id", sa.String(100), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("unit", sa.String(200)),
        sa.Column("unit_type", sa.String(20)),
        sa.Column("checklist", sa.JSON, nullable=False),
        sa.Column("disposal", sa.String(20)),
        sa.Column("sanction", sa.String(50)),
        sa.Column("year", sa.Integer, index=True),
        sa.Column("inspection", sa.String(200)),
        sa.Column("team", sa.String(100), index=True),
        sa.Column("source", sa.String(20)),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id", ondelete="SET NULL")),
        sa.Column("extra", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cases")
