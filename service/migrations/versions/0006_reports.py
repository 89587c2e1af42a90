"""Report drafts (问题清单初稿) and their problems.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("inspection_id", sa.Integer, sa.ForeignKey("inspections.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(100)),
    )
    op.create_table(
        "report_problems",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("item_id", sa.String(10), nullable=False),
        sa.Column("focus", sa.Integer, nullable=False),
        sa.Column("wording", sa.Text, nullable=False),
        sa.Column("generated_wording", sa.Text, nullable=False),
        sa.Column("alternatives", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("included", sa.Boolean, nullable=False),
        sa.Column("wording_edited", sa.Boolean, nullable=False),
        sa.Column("included_edited", sa.Boolean, nullable=False),
        sa.Column("edited_by", sa.String(100)),
        sa.Column("edited_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("report_id", "item_id"),
    )


def downgrade() -> None:
    op.drop_table("report_problems")
    op.drop_table("reports")
