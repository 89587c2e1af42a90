"""Users, roles, credentials (passwords, API tokens, web sessions) and the audit log."""

from service.security.access import ROLE_LABELS, ROLES, can_read, can_write
from service.security.audit import AuditLog, AuditRecord
from service.security.store import SecurityStore, UserRecord

__all__ = ["ROLES", "ROLE_LABELS", "AuditLog", "AuditRecord", "SecurityStore", "UserRecord", "can_read", "can_write"]
