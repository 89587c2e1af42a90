"""Alembic environment: runs on the connection handed over by ``service.storage.sql.migrate``."""

from alembic import context

from service.storage import case_models, job_models, report_models, security_models  # noqa: F401  (register their tables)
from service.rectification import models as rectification_models  # noqa: F401,E402  (register its tables)
from service.storage.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
