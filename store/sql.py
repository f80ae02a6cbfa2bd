"""The SQL shared by both backends (SQLAlchemy Core); backends override a few dialect hooks."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store import migrate
from store.accounts import AccountStore
from store.base import BBox, Step, Store
from store.campaigns import CampaignStore
from store.chronic import ChronicStore
from store.errors import Conflict, Invalid, NotFound, changed_by
from store.extras import ExtrasStore, media_rows
from store.models import (
    Case,
    CaseFacts,
    Event,
    Feature,
    LayerVersion,
    Media,
    NewCase,
    OpenRequest,
    Owners,
    arrival,
    as_utc,
    case_prefix,
    change,
    new_case,
)
from store.open311 import Open311Store, request_row
from store.schema import case_events, case_numbers, cases, layer_features, layer_versions, media, open311_requests

CASE_FIELDS = [c.name for c in cases.columns if c.name not in ("geom", "reporter")]
# what an update may change: never the identity, the report itself, or the bookkeeping the store does
CHANGEABLE = frozenset(CASE_FIELDS) - {
    "id",
    "case_no",
    "source",
    "reported_at",
    "version",
    "updated_at",
    "updated_by",
}


def _event_row(e: Event, case_id: int | None = None) -> dict[str, Any]:
    """An event as a row of case_events (the one place events become rows)."""
    return {
        "case_id": e.case_id if case_id is None else case_id,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "reason": e.reason,
        "before": e.before,
        "after": e.after,
    }


def _active_clause(since: datetime) -> sa.ColumnElement[bool]:
    """store.models.active_since in SQL: open, or reported or closed since `since`."""
    return sa.or_(cases.c.closed_at.is_(None), cases.c.closed_at >= since, cases.c.reported_at >= since)


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


class SQLStore(AccountStore, ExtrasStore, Open311Store, ChronicStore, CampaignStore, Store):
    """Everything but the dialect hooks below."""

    def __init__(self, url: str, check: bool = True) -> None:
        self.url = url
        self.engine = self._make_engine(url)
        if check:
            try:
                self.check_schema()
            except BaseException:
                self.engine.dispose()
                raise

    # -- dialect hooks -----------------------------------------------------------------------------
    @abstractmethod
    def _make_engine(self, url: str) -> Engine: ...

    insert: Callable[[sa.Table], Any]  # the dialect's INSERT, which knows ON CONFLICT
    greatest: Any  # the dialect's two-argument maximum

    def _next_serial(self, conn: Connection, prefix: str, count: int = 1) -> int:
        """Reserve `count` consecutive serials for a prefix; returns the first."""
        stmt = self.insert(case_numbers).values(prefix=prefix, last=count)
        stmt = stmt.on_conflict_do_update(index_elements=["prefix"], set_={"last": case_numbers.c.last + count})
        return int(conn.execute(stmt.returning(case_numbers.c.last)).scalar_one()) - count + 1

    def _raise_serial(self, conn: Connection, prefix: str, at_least: int) -> None:
        """Make sure the next serial for prefix is above at_least."""
        stmt = self.insert(case_numbers).values(prefix=prefix, last=at_least)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["prefix"], set_={"last": self.greatest(case_numbers.c.last, stmt.excluded.last)}
            )
        )

    @abstractmethod
    def _bbox_clause(self, bbox: BBox) -> sa.ColumnElement[bool]: ...

    @abstractmethod
    def _polygon_candidates(self, polygon: shapely.Geometry) -> sa.ColumnElement[bool]:
        """A clause selecting at least every case inside the polygon (exactness is _polygon_exact's job)."""

    def _polygon_exact(self, polygon: shapely.Geometry, found: list[Case]) -> list[Case]:
        return found

    @abstractmethod
    def _serialise_writes(self, conn: Connection) -> None:
        """Make write transactions commit in the order they append events (a no-op where the database already
        serialises writers): readers follow `revision()`, the highest event id, and must never pass an id
        that a transaction still open could commit later."""

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction (backends may lock differently for writes)."""
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            self._serialise_writes(conn)
            yield conn

    # -- schema ------------------------------------------------------------------------------------
    def check_schema(self) -> None:
        migrate.check(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- cases -------------------------------------------------------------------------------------
    @staticmethod
    def _case(row: sa.Row[Any]) -> Case:
        m = row._mapping
        values: dict[str, Any] = {k: _aware(m[k]) if k.endswith("_at") else m[k] for k in CASE_FIELDS}
        values["flags"] = tuple(filter(None, m["flags"].split(",")))
        return Case(**values)

    def create_case(
        self,
        new: NewCase,
        owners: Owners,
        state: str,
        actor: str,
        at: datetime,
        photos: Sequence[Media] = (),
        request: OpenRequest | None = None,
    ) -> Case:
        if not (-180 <= new.lon <= 180 and -90 <= new.lat <= 90):
            raise Invalid(f"coordinates out of range: lon {new.lon}, lat {new.lat}")
        case = new_case(new, owners, state, actor, at)
        rows = media_rows(photos, case_id=0)  # checked before anything is written
        with self._write() as conn:
            (case_id,) = self._insert_rows(conn, [(case, [arrival(case, actor, at)])], [new.reporter])
            self._insert_media(conn, [{**r, "case_id": case_id} for r in rows])
            if request is not None:
                conn.execute(open311_requests.insert().values(**request_row(case_id, request)))
        return self.get_case(case_id)

    def insert_history(
        self, history: Sequence[tuple[Case, Sequence[Event]]], photos: Sequence[Sequence[Media]] = ()
    ) -> int:
        if not photos:
            return self.insert_history_batches([history])
        rows = [media_rows(items, case_id=0) for items in photos]  # checked before anything is written
        with self._write() as conn:
            ids = self._insert_rows(conn, history)
            # new cases: no row to find first, so the rows go in at once
            found = [{**r, "case_id": case_id} for case_id, items in zip(ids, rows, strict=False) for r in items]
            if found:
                conn.execute(media.insert(), found)
        return len(ids)

    def insert_history_batches(self, batches: Iterable[Sequence[tuple[Case, Sequence[Event]]]]) -> int:
        with self._write() as conn:  # one transaction: an exception from the iterable rolls every batch back
            return sum(self._insert_batch(conn, history) for history in batches)

    def _insert_batch(self, conn: Connection, history: Sequence[tuple[Case, Sequence[Event]]]) -> int:
        return len(self._insert_rows(conn, history))

    def _insert_rows(
        self, conn: Connection, history: Sequence[tuple[Case, Sequence[Event]]], reporters: Sequence[str] = ()
    ) -> list[int]:
        """Insert cases with their events (numbering those without a case_no); their ids, in order."""
        if not history:
            return []
        rows = []
        for k, (case, _) in enumerate(history):
            row = {k: getattr(case, k) for k in CASE_FIELDS if k != "id"}
            row["flags"] = ",".join(case.flags)
            row["geom"] = shapely.Point(case.lon, case.lat)
            row["reporter"] = reporters[k] if k < len(reporters) else ""
            rows.append(row)
        serials: dict[str, int] = {}
        for case, _ in history:
            if case.case_no:
                prefix, serial = case.case_no[:-5], int(case.case_no[-5:])
                serials[prefix] = max(serials.get(prefix, 0), serial)
        unnumbered: dict[str, list[dict[str, Any]]] = {}
        for row, (case, _) in zip(rows, history, strict=True):
            if not case.case_no:  # number it here, from the same counter as live reports
                unnumbered.setdefault(case_prefix(case.source, case.matter, case.reported_at), []).append(row)
        for prefix, group in unnumbered.items():
            first = self._next_serial(conn, prefix, len(group))
            for k, row in enumerate(group):
                row["case_no"] = f"{prefix}{first + k:05d}"
        ids = list(
            conn.execute(cases.insert().returning(cases.c.id, sort_by_parameter_order=True), rows).scalars().all()
        )
        events = [_event_row(e, case_id) for case_id, (_, evs) in zip(ids, history, strict=True) for e in evs]
        if events:
            conn.execute(case_events.insert(), events)
        for prefix, last in serials.items():  # per batch, so a later batch numbers after these
            self._raise_serial(conn, prefix, last)
        return ids

    def get_case(self, case_id: int) -> Case:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(cases).where(cases.c.id == case_id)).first()
        if row is None:
            raise NotFound(f"no case {case_id}")
        return self._case(row)

    def _apply(
        self,
        conn: Connection,
        current: Case,
        changes: dict[str, Any],
        actor: str,
        action: str,
        reason: str,
        at: datetime,
    ) -> bool:
        values = dict(changes)
        if "flags" in values:
            values["flags"] = ",".join(values["flags"])
        if "lon" in values or "lat" in values:  # the point column follows (a report placed exactly)
            values["geom"] = shapely.Point(values.get("lon", current.lon), values.get("lat", current.lat))
        done = conn.execute(
            cases.update()
            .where(cases.c.id == current.id, cases.c.version == current.version)
            .values(**values, version=current.version + 1, updated_at=at, updated_by=actor)
        ).rowcount
        if done != 1:
            return False
        conn.execute(case_events.insert().values(**_event_row(change(current, changes, actor, action, reason, at))))
        return True

    def update_case(
        self,
        case_id: int,
        expected_version: int,
        changes: dict[str, Any],
        actor: str,
        action: str,
        reason: str,
        at: datetime,
    ) -> Case:
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise Invalid(f"cannot change {', '.join(sorted(unknown))} of a case")
        current = self.get_case(case_id)
        if current.version != expected_version or not self._try_apply(current, changes, actor, action, reason, at):
            now = self.get_case(case_id)
            raise changed_by(now.case_no, now.updated_by, now.updated_at)
        return self.get_case(case_id)

    def _try_apply(
        self, current: Case, changes: dict[str, Any], actor: str, action: str, reason: str, at: datetime
    ) -> bool:
        with self._write() as conn:
            return self._apply(conn, current, changes, actor, action, reason, at)

    def update_many(self, steps: Sequence[Step], actor: str, at: datetime, photos: Sequence[Media] = ()) -> list[Case]:
        for _, _, changes, _, _ in steps:
            unknown = set(changes) - CHANGEABLE
            if unknown:
                raise Invalid(f"cannot change {', '.join(sorted(unknown))} of a case")
        rows = media_rows(photos)
        current = {case_id: self.get_case(case_id) for case_id, *_ in steps}
        for case_id, version, *_ in steps:
            if current[case_id].version != version:
                c = current[case_id]
                raise changed_by(c.case_no, c.updated_by, c.updated_at)
        with self._write() as conn:  # an exception rolls every step back
            for case_id, _, changes, action, reason in steps:
                if not self._apply(conn, current[case_id], changes, actor, action, reason, at):
                    row = conn.execute(sa.select(cases).where(cases.c.id == case_id)).first()
                    now = self._case(row) if row is not None else current[case_id]
                    raise changed_by(now.case_no, now.updated_by, now.updated_at)
            self._insert_media(conn, rows)
        return [self.get_case(case_id) for case_id, *_ in steps]

    def reassign_many(self, changes: dict[int, dict[str, Any]], actor: str, reason: str, at: datetime) -> int:
        if not changes:
            return 0
        with self._write() as conn:
            self._reassign(conn, changes, actor, reason, at)
        return len(changes)

    def _reassign(
        self, conn: Connection, changes: dict[int, dict[str, Any]], actor: str, reason: str, at: datetime
    ) -> None:
        found: dict[int, Case] = {}
        ids = list(changes)
        for start in range(0, len(ids), 10_000):  # stay under the databases' parameter limits
            rows = conn.execute(sa.select(cases).where(cases.c.id.in_(ids[start : start + 10_000]))).all()
            found.update({r.id: self._case(r) for r in rows})
        missing = set(changes) - set(found)
        if missing:
            raise NotFound(f"no cases {sorted(missing)[:5]}")
        for case_id, fields in changes.items():
            if not self._apply(conn, found[case_id], fields, actor, "reassign", reason, at):
                raise Conflict(f"case {found[case_id].case_no} changed during the re-resolve; nothing was saved")

    # -- layers ------------------------------------------------------------------------------------
    def add_layer_version(
        self,
        layer: str,
        features: Sequence[Feature],
        source: str,
        sha256: str,
        effective_from: datetime,
        actor: str,
        reassign: dict[int, dict[str, Any]],
        at: datetime,
    ) -> LayerVersion:
        if not features:
            raise Invalid(f"layer {layer}: a version needs at least one feature")
        ids = [f.feature_id for f in features]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise Invalid(f"layer {layer}: feature id {dup!r} appears more than once")
        with self._write() as conn:
            last = conn.execute(
                sa.select(sa.func.max(layer_versions.c.version)).where(layer_versions.c.layer == layer)
            ).scalar()
            version_id = conn.execute(
                layer_versions.insert()
                .values(
                    layer=layer,
                    version=(last or 0) + 1,
                    effective_from=effective_from,
                    source=source,
                    sha256=sha256,
                    feature_count=len(features),
                    reassigned=len(reassign),
                    created_at=at,
                    created_by=actor,
                )
                .returning(layer_versions.c.id)
            ).scalar_one()
            conn.execute(
                layer_features.insert(),
                [
                    {
                        "version_id": version_id,
                        "feature_id": f.feature_id,
                        "properties": f.properties,
                        "geom": f.geometry,
                    }
                    for f in features
                ],
            )
            self._reassign(conn, reassign, actor, f"layer {layer} version {(last or 0) + 1} from {source}", at)
        return next(v for v in self.layer_versions(layer) if v.id == version_id)

    def layer_versions(self, layer: str | None = None) -> list[LayerVersion]:
        q = sa.select(layer_versions).order_by(layer_versions.c.layer, layer_versions.c.version)
        if layer is not None:
            q = q.where(layer_versions.c.layer == layer)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            LayerVersion(
                id=r.id,
                layer=r.layer,
                version=r.version,
                effective_from=as_utc(r.effective_from),
                source=r.source,
                sha256=r.sha256,
                feature_count=r.feature_count,
                reassigned=r.reassigned,
                created_at=as_utc(r.created_at),
                created_by=r.created_by,
            )
            for r in rows
        ]

    def layer_features(self, version_id: int) -> list[Feature]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(layer_features).where(layer_features.c.version_id == version_id).order_by(layer_features.c.id)
            ).all()
        return [Feature(r.feature_id, r.properties, r.geom) for r in rows]

    def _select(self, *where: sa.ColumnElement[bool], limit: int | None = None) -> list[Case]:
        q = sa.select(cases).where(*where).order_by(cases.c.reported_at.desc(), cases.c.id.desc())
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [self._case(r) for r in conn.execute(q)]

    @staticmethod
    def _state_clause(states: Sequence[str] | None) -> list[sa.ColumnElement[bool]]:
        return [cases.c.state.in_(list(states))] if states is not None else []

    def cases(
        self,
        states: Sequence[str] | None = None,
        districts: Sequence[str] | None = None,
        limit: int | None = None,
        active_since: datetime | None = None,
    ) -> list[Case]:
        where = self._state_clause(states)
        if districts is not None:
            where.append(cases.c.district.in_(list(districts)))
        if active_since is not None:
            where.append(_active_clause(active_since))
        return self._select(*where, limit=limit)

    def reported_matters(self, reporter: str, limit: int = 8) -> list[str]:
        newest = sa.func.max(cases.c.id)
        query = (
            sa.select(cases.c.matter)
            .where(cases.c.reporter == reporter)
            .group_by(cases.c.matter)
            .order_by(newest.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(query).all()]

    def cases_in_bbox(self, bbox: BBox, states: Sequence[str] | None = None) -> list[Case]:
        minx, miny, maxx, maxy = bbox
        if not (minx <= maxx and miny <= maxy):
            raise Invalid(f"bounding box {bbox} is not min lon, min lat, max lon, max lat")
        return self._select(self._bbox_clause(bbox), *self._state_clause(states))

    def cases_in_polygon(self, polygon: shapely.Geometry, states: Sequence[str] | None = None) -> list[Case]:
        if not shapely.is_valid(polygon):
            raise Invalid(f"invalid polygon: {shapely.is_valid_reason(polygon)}")
        found = self._select(self._polygon_candidates(polygon), *self._state_clause(states))
        return self._polygon_exact(polygon, found)

    def events(self, case_id: int) -> list[Event]:
        return self._events(case_events.c.case_id == case_id)

    def events_of(self, active_since: datetime | None = None, districts: Sequence[str] | None = None) -> list[Event]:
        which = sa.select(cases.c.id)
        if active_since is not None:
            which = which.where(_active_clause(active_since))
        if districts is not None:
            which = which.where(cases.c.district.in_(list(districts)))
        return self._events(case_events.c.case_id.in_(which), by_case=True)

    def _events(self, where: sa.ColumnElement[bool], by_case: bool = False) -> list[Event]:
        order = (case_events.c.case_id, case_events.c.id) if by_case else (case_events.c.id,)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(case_events).where(where).order_by(*order)).all()
        return [
            Event(
                id=r.id,
                case_id=r.case_id,
                at=as_utc(r.at),
                actor=r.actor,
                action=r.action,
                from_state=r.from_state,
                to_state=r.to_state,
                reason=r.reason,
                before=r.before,
                after=r.after,
            )
            for r in rows
        ]

    def case_facts(
        self,
        active_since: datetime | None = None,
        changed_after: int | None = None,
        districts: Sequence[str] | None = None,
    ) -> list[CaseFacts]:
        cols = [cases.c[f] for f in CaseFacts.__dataclass_fields__]
        q = sa.select(*cols)
        if districts is not None:
            q = q.where(cases.c.district.in_(list(districts)))
        if changed_after is not None:
            # the event log's primary key finds the changed cases without a scan of cases
            q = q.where(cases.c.id.in_(sa.select(case_events.c.case_id).where(case_events.c.id > changed_after)))
        if active_since is not None:
            q = q.where(_active_clause(active_since))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        out = []
        for r in rows:
            m = dict(r._mapping)
            for k in m:
                if k.endswith("_at"):
                    m[k] = _aware(m[k])
            m["flags"] = tuple(filter(None, m["flags"].split(",")))
            out.append(CaseFacts(**m))
        return out

    def count_by_state(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(cases.c.state, sa.func.count()).group_by(cases.c.state)).all()
        return {r[0]: int(r[1]) for r in rows}

    def revision(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(case_events.c.id), 0))).scalar_one())
