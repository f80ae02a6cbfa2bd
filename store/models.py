"""Domain records the store hands out: plain frozen dataclasses, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

ROLES = (
    "supervisor",  # 监督员: reports, verifies, checks, self-handles small issues
    "acceptor",  # 受理员: registers reports, sends verify/check tasks
    "shift_lead",  # 值班长: files with a deadline, closes, approves voiding
    "dispatcher",  # 派遣员: dispatches; approves returns, extensions, parking
    "unit",  # 处置单位: a department or squad that handles cases
    "district_head",  # 区领导: reviews their own district
    "wall",  # 大屏: read-only wall display
    "admin",  # 管理员: accounts and layers
)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    districts: tuple[str, ...]  # empty: every district
    unit: str | None  # for role "unit": the squad or department code it acts for
    active: bool = True

    def covers(self, district: str | None) -> bool:
        """Whether the user's district scope includes a district (None: a case outside every district)."""
        return not self.districts or (district is not None and district in self.districts)


OWNER_COLUMNS = ("district", "subdistrict", "community", "cell", "squad", "lead_department")


@dataclass(frozen=True)
class Owners:
    """Who owns a case and why: the ownership answer as stored with the case (columns for the six owners, JSON
    for the rest), with the layer versions that decided it. Reports, imports, the demo and re-ownership after a
    layer version all carry this one record."""

    district: str | None
    subdistrict: str | None
    community: str | None
    cell: str | None
    squad: str | None
    lead_department: str | None
    supporting_departments: tuple[str, ...]
    rule: str | None
    flag: str | None
    zones: dict[str, Any]  # vendor_zone, vendor_zone_open, storefront_zone, …, signboard_segment
    boundary_distance_m: float | None
    trace: tuple[dict[str, Any], ...]  # each step: rule, applies, zh, en
    layer_version: str  # the built city's sources and each stored layer version in effect

    def columns(self) -> dict[str, str | None]:
        """The owners a case keeps in its own columns (indexed, filtered on)."""
        return {k: getattr(self, k) for k in OWNER_COLUMNS}

    @property
    def flags(self) -> tuple[str, ...]:
        return (self.flag,) if self.flag else ()

    def to_json(self) -> dict[str, Any]:
        """The record as the store keeps it in the case's `ownership` column."""
        return {
            **self.columns(),
            "supporting_departments": list(self.supporting_departments),
            "rule": self.rule,
            "flag": self.flag,
            "flags": list(self.flags),
            "zones": dict(self.zones),
            "boundary_distance_m": self.boundary_distance_m,
            "trace": [dict(t) for t in self.trace],
            "layer_version": self.layer_version,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Owners:
        return cls(
            **{k: d.get(k) for k in OWNER_COLUMNS},
            supporting_departments=tuple(d.get("supporting_departments") or ()),
            rule=d.get("rule"),
            flag=d.get("flag"),
            zones=dict(d.get("zones") or {}),
            boundary_distance_m=d.get("boundary_distance_m"),
            trace=tuple(d.get("trace") or ()),
            layer_version=str(d.get("layer_version") or ""),
        )


@dataclass(frozen=True)
class NewCase:
    matter: str
    lon: float
    lat: float
    source: str
    reported_at: datetime
    description: str = ""
    urgency: str = "normal"
    reporter: str = ""


@dataclass(frozen=True)
class Case:
    id: int
    case_no: str
    state: str
    matter: str
    source: str
    urgency: str
    description: str
    lon: float
    lat: float
    reported_at: datetime
    district: str | None
    subdistrict: str | None
    community: str | None
    cell: str | None
    squad: str | None
    lead_department: str | None
    assignee: str | None
    ownership: dict[str, Any]
    deadline_at: datetime | None
    work_seconds: float | None  # the working time allowed, from dispatch
    paused_at: datetime | None
    filed_at: datetime | None
    dispatched_at: datetime | None
    closed_at: datetime | None
    closed_on_time: bool | None
    flags: tuple[str, ...]
    version: int
    updated_at: datetime
    updated_by: str
    reports: int = 1  # this report and the duplicates merged into it
    duplicate_of: int | None = None  # a duplicate report: the id of the case it was merged into

    @property
    def owners(self) -> Owners:
        return Owners.from_json(self.ownership)


@dataclass(frozen=True)
class CaseFacts:
    """The columns the wall, the map and the evaluation need (no ownership JSON, no text): cheap in bulk."""

    id: int
    case_no: str
    state: str
    matter: str
    source: str
    urgency: str
    lon: float
    lat: float
    district: str | None
    subdistrict: str | None
    community: str | None
    cell: str | None
    squad: str | None
    lead_department: str | None
    reported_at: datetime
    filed_at: datetime | None
    dispatched_at: datetime | None
    deadline_at: datetime | None
    paused_at: datetime | None
    work_seconds: float | None
    closed_at: datetime | None
    closed_on_time: bool | None
    flags: tuple[str, ...]
    version: int
    assignee: str | None = None  # the unit handling it (its own counts and notifications)


@dataclass(frozen=True)
class Event:
    id: int
    case_id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


STAGES = ("report", "verify", "feedback", "check")  # the steps a photo is taken at


@dataclass(frozen=True)
class Media:
    """A photo of a case: the row; the file is on disk under its sha256 (dispatch/media.py)."""

    id: int
    case_id: int
    stage: str
    sha256: str
    content_type: str
    bytes: int
    width: int
    height: int
    uploaded_by: str
    uploaded_at: datetime
    synthetic: bool = False
    public: bool = False


@dataclass(frozen=True)
class Delivery:
    """A webhook message in the outbox."""

    id: int
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    next_at: datetime
    delivered_at: datetime | None
    failed: bool
    last_error: str


CHRONIC_STATES = ("open", "quiet", "closed")  # a chronic place: recurring; no recurrence for quiet_days; closed


@dataclass(frozen=True)
class ChronicPlace:
    """A place where one matter keeps recurring (疑难杂症), and the fast-track case that deals with it."""

    id: int
    matter: str
    cell: str | None
    district: str | None
    lon: float
    lat: float
    fast_track_case_id: int | None  # None only until the fast track run has created it
    case_ids: tuple[int, ...]  # the repeats
    first_at: datetime
    last_at: datetime
    state: str
    quiet_days: int  # the rule in effect when the place was found
    radius_m: float
    created_at: datetime
    updated_at: datetime


CAMPAIGN_KINDS = ("difficult", "congestion", "blind_spot", "other")  # 治难点, 通堵点, 扫盲点, 其他
CAMPAIGN_NAME_MAX = 80


@dataclass(frozen=True)
class NewCampaign:
    """A campaign (周期集群仗) as drafted: its area a lon/lat (Multi)Polygon, its period whole local days."""

    name: str
    kind: str
    area: Any  # shapely (Multi)Polygon, EPSG:4326
    area_source: str  # how the area was given: "cells:A,B", "communities:…", "model_streets:…", "file:name"
    districts: tuple[str, ...]  # the districts the area touches (a district head's scope)
    starts_on: date
    ends_on: date  # inclusive
    matters: tuple[str, ...]  # matter codes; empty: every matter


@dataclass(frozen=True)
class Campaign(NewCampaign):
    id: int = 0
    created_by: str = ""
    created_at: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    updated_at: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    version: int = 1


@dataclass(frozen=True)
class CampaignEvent:
    id: int
    campaign_id: int
    at: datetime
    actor: str
    action: str  # create | update
    before: dict[str, Any]  # the changed fields' values before (empty on create)


@dataclass(frozen=True)
class LayerVersion:
    id: int
    layer: str
    version: int
    effective_from: datetime
    source: str
    sha256: str
    feature_count: int
    reassigned: int
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Feature:
    feature_id: str
    properties: dict[str, Any]
    geometry: Any  # a shapely geometry in lon/lat


def case_prefix(source: str, matter: str, reported_at: datetime) -> str:
    """Case numbers: kind letter (A patrol, B public) + 5-digit matter + UTC date; a 5-digit serial follows."""
    return f"{'A' if source == 'supervisor' else 'B'}{matter}{reported_at.astimezone(UTC):%Y%m%d}"


def new_case(new: NewCase, owners: Owners, state: str, actor: str, at: datetime, case_no: str = "",
             extra_flags: tuple[str, ...] = ()) -> Case:  # fmt: skip
    """A case as it stands right after it came in (case_no "": the store numbers it)."""
    return Case(
        id=0,
        case_no=case_no,
        state=state,
        matter=new.matter,
        source=new.source,
        urgency=new.urgency,
        description=new.description,
        lon=new.lon,
        lat=new.lat,
        reported_at=new.reported_at,
        district=owners.district,
        subdistrict=owners.subdistrict,
        community=owners.community,
        cell=owners.cell,
        squad=owners.squad,
        lead_department=owners.lead_department,
        assignee=None,
        ownership=owners.to_json(),
        deadline_at=None,
        work_seconds=None,
        paused_at=None,
        filed_at=None,
        dispatched_at=None,
        closed_at=None,
        closed_on_time=None,
        flags=tuple(dict.fromkeys((*extra_flags, *owners.flags))),
        version=1,
        updated_at=at,
        updated_by=actor,
    )


def arrival(case: Case, actor: str, at: datetime, action: str = "report", reason: str = "", **after: Any) -> Event:
    """The event that brings a case in (report, import …)."""
    return Event(0, case.id, at, actor, action, None, case.state, reason, {}, {"state": case.state, **after})


def change(case: Case, changes: dict[str, Any], actor: str, action: str, reason: str, at: datetime) -> Event:
    """The event of `changes` made to `case`: the fields before and after."""
    return Event(
        0,
        case.id,
        at,
        actor,
        action,
        case.state,
        changes.get("state", case.state),
        reason,
        {k: jsonable(getattr(case, k)) for k in changes if hasattr(case, k)},
        {k: jsonable(v) for k, v in changes.items()},
    )


def active_since(reported_at: datetime, closed_at: datetime | None, since: datetime) -> bool:
    """The rule for which cases a period's figures, the board and the exports hold: open (not closed), or
    reported or closed since `since` (store.sql's `_active_clause` is the same rule in SQL; a test checks)."""
    return closed_at is None or closed_at >= since or reported_at >= since


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def jsonable(value: Any) -> Any:
    """A value as the event log stores it (times as ISO 8601 text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


CHANNELS = ("hotline", "app", "partner")  # what an Open311 client is: the hotline's system, a public app, a partner


@dataclass(frozen=True)
class ApiKey:
    """A client of the Open311 API (the key itself is never stored, only its sha256)."""

    id: int
    name: str
    channel: str
    rate_per_minute: int
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class OpenRequest:
    """What a request posted through Open311 brought besides the case: kept privately, never published."""

    key_name: str
    contact: dict[str, str] = field(default_factory=dict)  # first_name, last_name, email, phone, device_id, account_id
    attributes: dict[str, Any] = field(default_factory=dict)
    media_url: str = ""
    address_string: str = ""
