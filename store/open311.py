"""Open311 clients in SQL shared by both backends (a mixin of SQLStore, like store/accounts.py): API keys (only
their sha256), each key's fixed-window POST counter, the log of calls, and the private record of each request
posted through the API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.errors import Conflict, Invalid, NotFound
from store.models import CHANNELS, ApiKey, Case, OpenRequest, as_utc
from store.schema import api_calls, api_keys, api_rate, cases, open311_requests


def _key(row: sa.Row[Any]) -> ApiKey:
    m = row._mapping
    revoked = m["revoked_at"]
    return ApiKey(m["id"], m["name"], m["channel"], m["rate_per_minute"], as_utc(m["created_at"]),
                  None if revoked is None else as_utc(revoked))  # fmt: skip


def request_row(case_id: int, request: OpenRequest) -> dict[str, Any]:
    """The private record of an Open311 request as a row of `open311_requests`."""
    return {
        "case_id": case_id,
        "key_name": request.key_name[:64],
        "contact": dict(request.contact),
        "attributes": dict(request.attributes),
        "media_url": request.media_url[:500],
        "address_string": request.address_string[:255],
    }


class Open311Store:
    """API keys, rate counters, the call log and Open311 requests (a mixin: it uses the engine, the write
    transaction, the dialect's INSERT and the case reader of the store)."""

    engine: Engine
    _write: Callable[[], AbstractContextManager[Connection]]
    insert: Callable[[sa.Table], Any]
    _case: Callable[[sa.Row[Any]], Case]

    # -- keys --------------------------------------------------------------------------------------
    def add_api_key(self, name: str, channel: str, key_hash: str, rate_per_minute: int, at: datetime) -> ApiKey:
        """Store a new client key by its sha256; Conflict if the name is taken."""
        if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
            raise Invalid(f"API key name {name[:64]!r}: 1 to 64 letters, digits, '-', '_' or '.'")
        if channel not in CHANNELS:
            raise Invalid(f"unknown channel {channel!r}; channels: {', '.join(CHANNELS)}")
        if not 1 <= rate_per_minute <= 100_000:
            raise Invalid(f"rate limit {rate_per_minute}: 1 to 100000 POSTs a minute")
        if len(key_hash) != 64:
            raise Invalid("a key is stored by its sha256 (64 hex digits)")
        with self._write() as conn:
            if conn.execute(sa.select(api_keys.c.id).where(api_keys.c.name == name)).first() is not None:
                raise Conflict(f"an API key named {name!r} exists already")
            conn.execute(
                api_keys.insert().values(
                    name=name, channel=channel, key_hash=key_hash, rate_per_minute=rate_per_minute, created_at=at
                )
            )
        return self.api_key(name)

    def api_key(self, name: str) -> ApiKey:
        """One key by name; NotFound if there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.name == name)).first()
        if row is None:
            raise NotFound(f"no API key named {name[:64]!r}")
        return _key(row)

    def api_keys(self) -> list[ApiKey]:
        """Every key, oldest first (revoked ones too)."""
        with self.engine.connect() as conn:
            return [_key(r) for r in conn.execute(sa.select(api_keys).order_by(api_keys.c.id))]

    def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key whose sha256 this is (revoked or not), if any."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.key_hash == key_hash)).first()
        return None if row is None else _key(row)

    def revoke_api_key(self, name: str, at: datetime) -> ApiKey:
        """Revoke a key from `at` on (a revoked key stays revoked); NotFound if there is none."""
        with self._write() as conn:
            done = conn.execute(
                api_keys.update().where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None)).values(revoked_at=at)
            ).rowcount
            if not done and conn.execute(sa.select(api_keys.c.id).where(api_keys.c.name == name)).first() is None:
                raise NotFound(f"no API key named {name[:64]!r}")
        return self.api_key(name)

    # -- rate and log ------------------------------------------------------------------------------
    def count_api_post(self, key_name: str, window: timedelta, at: datetime) -> int:
        """Count one POST of a key in its fixed window (windows start at whole multiples of `window` since the
        epoch); the count so far in this window, this one included. Atomic, so processes share it."""
        step = window.total_seconds()
        start = datetime.fromtimestamp(at.timestamp() // step * step, UTC)
        t = api_rate
        stmt = self.insert(t).values(key_name=key_name[:64], window_start=start, count=1)
        same = t.c.window_start == stmt.excluded.window_start
        stmt = stmt.on_conflict_do_update(
            index_elements=["key_name"],
            set_={"count": sa.case((same, t.c.count + 1), else_=1), "window_start": stmt.excluded.window_start},
        )
        with self._write() as conn:
            return int(conn.execute(stmt.returning(t.c.count)).scalar_one())

    def log_api_call(self, at: datetime, key_name: str, method: str, path: str, status: int) -> None:
        """Append a call made with a key to the log."""
        with self._write() as conn:
            row = {"at": at, "key_name": key_name[:64], "method": method[:8], "path": path[:255], "status": status}
            conn.execute(api_calls.insert().values(**row))

    def api_calls_since(self, since: datetime) -> dict[str, int]:
        """Calls per key name since a time."""
        c = api_calls.c
        q = sa.select(c.key_name, sa.func.count()).where(c.at >= since).group_by(c.key_name)
        with self.engine.connect() as conn:
            return {r[0]: int(r[1]) for r in conn.execute(q)}

    # -- requests ----------------------------------------------------------------------------------
    def open_requests(self, case_ids: Sequence[int]) -> dict[int, OpenRequest]:
        """The private records of the cases among these that came in through Open311."""
        ids = sorted(set(case_ids))
        out: dict[int, OpenRequest] = {}
        with self.engine.connect() as conn:
            for k in range(0, len(ids), 500):  # bound the IN list
                q = sa.select(open311_requests).where(open311_requests.c.case_id.in_(ids[k : k + 500]))
                for r in conn.execute(q):
                    m = r._mapping
                    out[m["case_id"]] = OpenRequest(m["key_name"], dict(m["contact"]), dict(m["attributes"]),
                                                    m["media_url"], m["address_string"])  # fmt: skip
        return out

    def cases_by_number(self, case_nos: Sequence[str]) -> list[Case]:
        """The cases with these numbers (unknown numbers are left out), newest first."""
        nos = sorted({n for n in case_nos if n})[:1000]
        if not nos:
            return []
        q = sa.select(cases).where(cases.c.case_no.in_(nos)).order_by(cases.c.reported_at.desc(), cases.c.id.desc())
        with self.engine.connect() as conn:
            return [self._case(r) for r in conn.execute(q)]

    def cases_reported(
        self,
        start: datetime,
        end: datetime,
        matters: Sequence[str] | None = None,
        states: Sequence[str] | None = None,
        limit: int = 1000,
    ) -> list[Case]:
        """Cases reported in [start, end], of some matters and states (None: any), newest first, at most `limit`."""
        q = sa.select(cases).where(cases.c.reported_at >= start, cases.c.reported_at <= end)
        if matters is not None:
            q = q.where(cases.c.matter.in_(list(matters)))
        if states is not None:
            q = q.where(cases.c.state.in_(list(states)))
        q = q.order_by(cases.c.reported_at.desc(), cases.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [self._case(r) for r in conn.execute(q)]
