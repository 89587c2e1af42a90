"""Users, API tokens and web sessions in the database.

API tokens expire ``token_days`` after they were issued (checked against their creation time, so a
shorter setting also applies to tokens already handed out); web sessions at the ``expires_at`` fixed
at login. Revoking a user's access revokes every API token and ends every web session; a disabled
user's credentials are refused (and the user cannot log in) until enabled again; a password reset
ends the user's web sessions and revokes their API tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from service.security import credentials as sec
from service.security.access import ROLES
from service.storage.security_models import ApiToken, User, WebSession

DEFAULT_TOKEN_DAYS = 90

# Why a credential was refused (CredentialCheck.reason), as told to the client in the 401.
REFUSALS = {
    "unknown": "API 令牌无效或已被吊销",
    "revoked": "API 令牌已被吊销，请联系管理员重新生成",
    "expired": "API 令牌已过期，请联系管理员重新生成",
    "disabled": "该账号已被停用，请联系管理员",
    "session": "登录已过期，请重新登录",
}
DISABLED_LOGIN = "该账号已被停用，无法登录，请联系管理员"


class SecurityError(ValueError):
    """A user-facing (Chinese) reason a security operation was refused."""


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    team: str
    role: str
    active: bool


@dataclass(frozen=True)
class CredentialCheck:
    """A checked token or session: ``user`` when accepted; otherwise ``reason`` (a REFUSALS key)
    and, when the credential was real, ``owner`` (whose it was, for the audit log)."""

    user: UserRecord | None
    reason: str | None = None
    owner: UserRecord | None = None

    @property
    def message(self) -> str:
        return REFUSALS.get(self.reason or "unknown", REFUSALS["unknown"])


@dataclass(frozen=True)
class Revoked:
    tokens: int
    sessions: int


def _record(row: User) -> UserRecord:
    return UserRecord(row.id, row.name, row.team, row.role, row.active)


def _verdict(owner: UserRecord, refused: str | None) -> CredentialCheck:
    """A real credential of ``owner``: refused for ``refused`` (revoked, expired…), or for a
    disabled account, else accepted."""
    if refused is None and not owner.active:
        refused = "disabled"
    return CredentialCheck(None, refused, owner) if refused else CredentialCheck(owner)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class SecurityStore:
    def __init__(self, engine: Engine, token_days: int = DEFAULT_TOKEN_DAYS) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.token_days = token_days

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

    def _user_row(self, session, name: str) -> User:
        row = session.scalar(select(User).where(User.name == name))
        if row is None:
            raise SecurityError(f"没有名为 {name} 的用户")
        return row

    @staticmethod
    def _revoke(session, user_id: int) -> Revoked:
        tokens = session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
                                 .values(revoked=True)).rowcount or 0
        sessions = session.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount or 0
        return Revoked(tokens, sessions)

    def set_password(self, name: str, password: str) -> UserRecord:
        """Replace ``name``'s password, end their web sessions and revoke their API tokens."""
        if len(password) < 8:
            raise SecurityError("密码至少需要 8 个字符")
        with self._sessions.begin() as session:
            row = self._user_row(session, name)
            row.password_hash = sec.hash_password(password)
            self._revoke(session, row.id)
            return _record(row)

    def revoke(self, name: str) -> Revoked:
        """Revoke every API token of ``name`` and end every web session."""
        with self._sessions.begin() as session:
            return self._revoke(session, self._user_row(session, name).id)

    def set_active(self, name: str, active: bool) -> UserRecord:
        """Disable (or enable again) ``name``: a disabled user cannot log in and every credential of
        theirs is refused; their web sessions end. API tokens are kept and work again once enabled."""
        with self._sessions.begin() as session:
            row = self._user_row(session, name)
            row.active = active
            if not active:
                session.execute(delete(WebSession).where(WebSession.user_id == row.id))
            return _record(row)

    def get_user(self, name: str) -> UserRecord | None:
        with self._sessions() as session:
            row = session.scalar(select(User).where(User.name == name))
            return _record(row) if row else None

    def list_users(self) -> list[UserRecord]:
        with self._sessions() as session:
            return [_record(r) for r in session.scalars(select(User).order_by(User.id))]

    def verify(self, name: str, password: str) -> UserRecord | None:
        """The user whose password this is, active or not (None when wrong or unknown)."""
        with self._sessions() as session:
            row = session.scalar(select(User).where(User.name == name))
        ok = sec.verify_password(row.password_hash if row else None, password)
        return _record(row) if ok and row is not None else None

    def authenticate(self, name: str, password: str) -> UserRecord | None:
        user = self.verify(name, password)
        return user if user is not None and user.active else None

    # API tokens
    def issue_token(self, user_id: int, label: str | None = None) -> str:
        token = sec.new_token()
        with self._sessions.begin() as session:
            session.add(ApiToken(user_id=user_id, token_hash=sec.digest(token), label=label, revoked=False))
        return token

    def token_expiry(self, issued: datetime, days: int | None = None) -> datetime:
        return _aware(issued) + timedelta(days=self.token_days if days is None else days)

    def check_token(self, token: str, days: int | None = None) -> CredentialCheck:
        """Accept a token that exists, is not revoked, is younger than ``days`` (default
        ``token_days``) and whose user is active."""
        with self._sessions() as session:
            found = session.execute(select(User, ApiToken.revoked, ApiToken.created_at).join(
                ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == sec.digest(token))).first()
        if found is None:
            return CredentialCheck(None, "unknown")
        revoked, issued = found[1], found[2]
        return _verdict(_record(found[0]), "revoked" if revoked else
                        "expired" if self.token_expiry(issued, days) <= _now() else None)

    def user_for_token(self, token: str) -> UserRecord | None:
        return self.check_token(token).user

    # web sessions
    def open_session(self, user_id: int, hours: int) -> str:
        session_id = sec.new_session_id()
        now = _now()
        with self._sessions.begin() as session:
            session.execute(delete(WebSession).where(WebSession.expires_at < now))
            session.add(WebSession(user_id=user_id, session_hash=sec.digest(session_id),
                                   expires_at=now + timedelta(hours=hours)))
        return session_id

    def check_session(self, session_id: str) -> CredentialCheck:
        with self._sessions() as session:
            found = session.execute(select(User, WebSession.expires_at).join(
                WebSession, WebSession.user_id == User.id).where(
                WebSession.session_hash == sec.digest(session_id))).first()
        if found is None:
            return CredentialCheck(None, "session")
        return _verdict(_record(found[0]), "session" if _aware(found[1]) <= _now() else None)

    def user_for_session(self, session_id: str) -> UserRecord | None:
        return self.check_session(session_id).user

    def close_session(self, session_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(WebSession).where(WebSession.session_hash == sec.digest(session_id)))
