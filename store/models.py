"""Domain records the store hands out: plain frozen dataclasses, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
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


def jsonable(value: Any) -> Any:
    """A value as the event log stores it (times as ISO 8601 text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
