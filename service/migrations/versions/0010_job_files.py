"""Ingestion is scheduled per file: one ``job_files`` row per uploaded file (its team, size/page
cost estimate, status and result), so the next file to run is picked by a query (fair across
teams, small files first) and any executor — the in-process threads today, queue workers later —
can claim it. Jobs get ``cancelled_at`` (a cancel request). Files of existing jobs move from the
``jobs.files`` JSON into rows.

Revision ID: 0010
Revises: 0007
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

_RESULT = ("document_id", "kind", "pages", "findings", "code", "message")


def upgrade() -> None:
    op.create_table(
        "job_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(500), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("cost", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("document_id", sa.Integer),
        sa.Column("kind", sa.String(20)),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("findings", sa.Integer, nullable=False),
        sa.Column("code", sa.String(40)),
        sa.Column("message", sa.String(500)),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("worker", sa.String(64)),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("job_id", "idx"),
    )
    op.create_index("ix_job_files_status_team", "job_files", ["status", "team"])
    op.create_index("ix_job_files_team_started", "job_files", ["team", "started_at"])
    # Plain ADD COLUMN, never a batch table rebuild (dropping the old jobs table would cascade).
    op.add_column("jobs", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT jobs.id, jobs.files, jobs.created_at, inspections.team FROM jobs "
        "JOIN inspections ON inspections.id = jobs.inspection_id")).fetchall()
    insert = sa.text(
        "INSERT INTO job_files (job_id, idx, team, filename, size, cost, status, document_id, kind, pages, "
        "findings, code, message, warnings, queued_at, finished_at) VALUES (:job_id, :idx, :team, :filename, "
        ":size, :cost, :status, :document_id, :kind, :pages, :findings, :code, :message, :warnings, :queued_at, "
        ":finished_at)")
    for row in rows:
        files = row.files if isinstance(row.files, list) else json.loads(row.files or "[]")
        for position, entry in enumerate(files):
            status = entry.get("status") or "queued"
            ended = status not in ("queued", "running")
            connection.execute(insert, {
                "job_id": row.id, "idx": entry.get("index", position), "team": row.team,
                "filename": str(entry.get("filename") or "未命名文件")[:500], "size": int(entry.get("size") or 0),
                "cost": 1, "status": status, **{key: entry.get(key) for key in _RESULT},
                "pages": int(entry.get("pages") or 0), "findings": int(entry.get("findings") or 0),
                "warnings": json.dumps(entry.get("warnings") or [], ensure_ascii=False),
                "queued_at": row.created_at, "finished_at": row.created_at if ended else None})


def downgrade() -> None:
    op.drop_column("jobs", "cancelled_at")
    op.drop_index("ix_job_files_team_started", "job_files")
    op.drop_index("ix_job_files_status_team", "job_files")
    op.drop_table("job_files")
