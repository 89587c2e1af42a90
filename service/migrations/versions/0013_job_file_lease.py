"""Queue workers hold a running file under a lease: ``job_files.lease_until``, renewed by the worker
while it ingests. A file whose lease ran out (its worker was killed or cut off) is taken over when
its task is delivered again; the in-process threads leave it empty.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain nullable ADD COLUMN: no table rebuild on SQLite, instant on PostgreSQL.
    op.add_column("job_files", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_files") as batch:
        batch.drop_column("lease_until")
