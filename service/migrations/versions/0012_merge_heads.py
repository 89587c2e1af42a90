"""One head again: the index change log (0008), per-file job rows (0010) and the rectification
ledger (0011) were written side by side off 0007; they touch different tables.

Revision ID: 0012
Revises: 0008, 0010, 0011
"""

revision = "0012"
down_revision = ("0008", "0010", "0011")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
