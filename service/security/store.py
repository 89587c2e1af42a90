"""Users, API tokens and web sessions in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from service.security import credentials as sec
from service.security.access import ROLES
from service.storage.security_models import ApiToken, User, WebSession


class SecurityError(ValueError):
    """A user-facing (Chinese) reason a security operation was refused."""


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    team: str
    role: str
    active: bool


def _record(row: User) -> UserRecord:
    return UserRecord(row.id, row.name, row.team, row.role, row.active)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class SecurityStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # users
    def add_user(self, name: str, team: str, role: str, password: str) -> UserRecord:
        name, team = name.strip(), team.strip()
        if role not in ROLES:
            raise SecurityError(f"未知的角色：{role}（可选：{'、'.join(ROLES)}）")
        if not name or not team:
            raise SecurityError("用户名和所属巡察组不能为空")
        if len(password) < 8:
            raise SecurityError("密码至少需要 8 个字符")
        try:
            with self._sessions.begin() as session:
                row = User(name=name, team=team, role=role, password_hash=sec.hash_password(password), active=True)
                session.add(row)
                session.flush()
                return _record(row)
        except IntegrityError:
            raise SecurityError(f"用户 {name} 已存在") from None

    def set_password(self, name: str, password: str) -> UserRecord:
        """Replace ``name``'s password and end their web sessions (API tokens stay valid)."""
        if len(password) < 8:
            raise SecurityError("密码至少需要 8 个字符")
        with self._sessions.begin() as session:
            row = session.scalar(select(User).where(User.name == name))
            if row is None:
                raise SecurityError(f"没有名为 {name} 的用户")
            row.password_hash = sec.hash_password(password)
            session.execute(delete(WebSession).where(WebSession.user_id == row.id))
            return _record(row)

    def get_user(self, name: str) -> UserRecord | None:
        with self._sessions() as session:
            row = session.scalar(select(User).where(User.name == name))
            return _record(row) if row else None

    def list_users(self) -> list[UserRecord]:
        with self._sessions() as session:
            return [_record(r) for r in session.scalars(select(User).order_by(User.id))]

    def authenticate(self, name: str, password: str) -> UserRecord | None:
        with self._sessions() as session:
            row = session.scalar(select(User).where(User.name == name))
        ok = sec.verify_password(row.password_hash if row else None, password)
        return _record(row) if ok and row is not None and row.active else None

    # API tokens
    def issue_token(self, user_id: int, label: str | None = None) -> str:
        token = sec.new_token()
        with self._sessions.begin() as session:
            session.add(ApiToken(user_id=user_id, token_hash=sec.digest(token), label=label, revoked=False))
        return token

    def user_for_token(self, token: str) -> UserRecord | None:
        with self._sessions() as session:
            row = session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id).where(
                ApiToken.token_hash == sec.digest(token), ApiToken.revoked.is_(False), User.active.is_(True)))
            return _record(row) if row else None

    # web sessions
    def open_session(self, user_id: int, hours: int) -> str:
        session_id = sec.new_session_id()
        now = datetime.now(timezone.utc)
        with self._sessions.begin() as session:
            session.execute(delete(WebSession).where(WebSession.expires_at < now))
            session.add(WebSession(user_id=user_id, session_hash=sec.digest(session_id),
                                   expires_at=now + timedelta(hours=hours)))
        return session_id

    def user_for_session(self, session_id: str) -> UserRecord | None:
        with self._sessions() as session:
            found = session.execute(select(User, WebSession.expires_at).join(
                WebSession, WebSession.user_id == User.id).where(
                WebSession.session_hash == sec.digest(session_id), User.active.is_(True))).first()
        if found is None or _aware(found[1]) <= datetime.now(timezone.utc):
            return None
        return _record(found[0])

    def close_session(self, session_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(WebSession).where(WebSession.session_hash == sec.digest(session_id)))
