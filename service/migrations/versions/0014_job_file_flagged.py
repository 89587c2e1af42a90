"""Each imported file records how many of its candidate findings the tagger flagged as suspected
problems (``job_files.flagged``), so the upload list can say "N 条候选问题，其中疑似问题 M 条".
Empty for files imported before, and when no model was loaded.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_files", sa.Column("flagged", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_files") as batch:
        batch.drop_column("flagged")
