"""Accounts, sign-in sessions and the sign-in throttle, in SQL shared by both backends.

Passwords are hashed with argon2. A session is a random token in the browser's cookie and its sha256 here, so
signing out, changing an account's password, role, scope or unit, or disabling it ends its sessions at once.
Sign-in attempts are counted here rather than in a server process, so every process (and a restart) shares them.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from store.errors import Conflict, Forbidden, Invalid, NotFound
from store.models import ROLES, User, as_utc
from store.schema import sessions, sign_in_attempts, users

# XIUHUA_PASSWORD_PROFILE=cheapest is for test suites only: it makes hashing fast and weak
_hasher = (
    PasswordHasher.from_parameters(profiles.CHEAPEST)
    if os.environ.get("XIUHUA_PASSWORD_PROFILE") == "cheapest"
    else PasswordHasher()
)
# checked when the account does not exist, so a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
USERNAME_MAX = 64


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}; roles: {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise Invalid("a password needs at least 8 characters")
    if len(password) > 1024:
        raise Invalid("a password may have at most 1024 characters")


def _check_username(username: str) -> None:
    allowed = all(c.isascii() and (c.isalnum() or c in "._-") for c in username)
    if not (username and len(username) <= USERNAME_MAX and allowed):
        raise Invalid(f"user name {username!r}: use 1 to {USERNAME_MAX} ASCII letters, digits, '.', '_' or '-'")


class AccountStore:
    """The account part of SQLStore (a mixin: it uses the engine and the write transaction of the store)."""

    engine: Engine
    insert: Callable[[sa.Table], Any]
    _write: Callable[[], AbstractContextManager[Connection]]

    # -- accounts ----------------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        districts: Sequence[str] = (),
        display_name: str = "",
        unit: str | None = None,
    ) -> User:
        _check_role(role)
        _check_username(username)
        _check_password(password)
        if len(display_name) > 128:
            raise Invalid("a display name may have at most 128 characters")
        row = {
            "username": username,
            "display_name": display_name or username,
            "password_hash": _hasher.hash(password),
            "role": role,
            "districts": ",".join(districts),
            "unit": unit,
            "active": True,
            "created_at": datetime.now(UTC),
        }
        try:
            with self._write() as conn:
                conn.execute(users.insert().values(**row))
        except sa.exc.IntegrityError:
            raise Conflict(f"user {username!r} already exists") from None
        return self.get_user(username)

    def update_user(
        self,
        username: str,
        *,
        password: str | None = None,
        role: str | None = None,
        districts: Sequence[str] | None = None,
        active: bool | None = None,
        unit: str | None = None,
    ) -> User:
        values: dict[str, Any] = {}
        if password is not None:
            _check_password(password)
            values["password_hash"] = _hasher.hash(password)
        if role is not None:
            _check_role(role)
            values["role"] = role
        if districts is not None:
            values["districts"] = ",".join(districts)
        if active is not None:
            values["active"] = active
        if unit is not None:
            values["unit"] = unit or None
        if not values:
            raise Invalid("nothing to change")
        with self._write() as conn:
            done = conn.execute(users.update().where(users.c.username == username).values(**values)).rowcount
            # whatever changed (password, role, scope, unit, enabled), the account signs in again
            conn.execute(sessions.delete().where(sessions.c.username == username))
        if done != 1:
            raise NotFound(f"no user {username!r}")
        return self.get_user(username)

    @staticmethod
    def _user(row: sa.Row[Any]) -> User:
        return User(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            role=row.role,
            districts=tuple(filter(None, row.districts.split(","))),
            unit=row.unit,
            active=bool(row.active),
        )

    def get_user(self, username: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is None:
            raise NotFound(f"no user {username!r}")
        return self._user(row)

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [self._user(r) for r in conn.execute(sa.select(users).order_by(users.c.username))]

    def authenticate(self, username: str, password: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username[:USERNAME_MAX])).first()
        try:
            # the hash is checked whether or not the account exists: timing does not tell which names exist
            _hasher.verify(_DUMMY_HASH if row is None else row.password_hash, password[:1024])
            if row is None or not row.active:
                raise VerificationError
        except (VerificationError, InvalidHashError):
            raise Forbidden("wrong user name or password") from None
        return self._user(row)

    # -- sessions ----------------------------------------------------------------------------------
    def start_session(self, username: str, at: datetime) -> str:
        token = secrets.token_urlsafe(32)
        with self._write() as conn:
            conn.execute(sessions.insert().values(id=_token_id(token), username=username, created_at=at, seen_at=at))
        return token

    def session_user(
        self, token: str, at: datetime, idle: timedelta, lifetime: timedelta, touch_every: timedelta
    ) -> User | None:
        if not token or len(token) > 128:
            return None
        sid = _token_id(token)
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(sessions.c.created_at, sessions.c.seen_at, users)
                .join(users, users.c.username == sessions.c.username)
                .where(sessions.c.id == sid)
            ).first()
        if row is None:
            return None
        created, seen = as_utc(row.created_at), as_utc(row.seen_at)
        if at - seen > idle or at - created > lifetime or not row.active:
            self.end_session(token)
            return None
        if at - seen > touch_every:  # not on every request: a wall polls every few seconds
            with self._write() as conn:
                conn.execute(sessions.update().where(sessions.c.id == sid).values(seen_at=at))
        return self._user(row)

    def end_session(self, token: str) -> None:
        with self._write() as conn:
            conn.execute(sessions.delete().where(sessions.c.id == _token_id(token)))

    def end_sessions(self, username: str) -> int:
        with self._write() as conn:
            return int(conn.execute(sessions.delete().where(sessions.c.username == username)).rowcount)

    def prune_sessions(self, before: datetime) -> int:
        with self._write() as conn:
            return int(conn.execute(sessions.delete().where(sessions.c.seen_at < before)).rowcount)

    # -- sign-in throttle --------------------------------------------------------------------------
    def count_attempts(self, keys: Sequence[str], window: timedelta, at: datetime) -> list[int]:
        cutoff = at - window
        t = sign_in_attempts
        counts = []
        with self._write() as conn:
            # counters whose window has passed are dropped, so probing many names does not grow the table
            conn.execute(t.delete().where(t.c.window_start < cutoff))
            for key in keys:
                stmt = self.insert(t).values(key=key[:200], window_start=at, count=1)
                stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"count": t.c.count + 1})
                counts.append(int(conn.execute(stmt.returning(t.c.count)).scalar_one()))
        return counts

    def forgive_attempts(self, reset: Sequence[str], decrement: Sequence[str]) -> None:
        t = sign_in_attempts
        with self._write() as conn:
            conn.execute(t.delete().where(t.c.key.in_([k[:200] for k in reset])))
            for key in decrement:
                conn.execute(t.update().where(t.c.key == key[:200], t.c.count > 0).values(count=t.c.count - 1))
