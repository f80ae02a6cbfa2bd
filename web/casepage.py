"""What /case/<id> shows about one case (no Dash here): the case, who may see it, its deadlines, its timeline from
the event log in words, and its photos by step.

Access is the policy's "page.case": everyone at the centre within their districts, inspectors of the district,
and a unit only for the cases assigned to it. A case the user may not see is answered exactly like a case that
does not exist (`Hidden`), so a page never confirms that a number belongs to another district or unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from dispatch.policy import Target, check
from store.errors import NotFound, StoreError
from store.models import STAGES, Case, Event, Media, User
from web import names
from web.auth import Denied, current_user, require
from web.i18n import has, t
from web.services import Services

MAX_ID = 10**12
# fields an event may change, by how they read: times, units, areas, and the rest as they are
TIME_FIELDS = ("deadline_at", "paused_at", "filed_at", "dispatched_at", "closed_at", "reported_at", "updated_at")
UNIT_FIELDS = ("assignee", "squad", "lead_department")
AREA_FIELDS = {"district": "districts", "subdistrict": "subdistricts", "community": "communities"}
HIDDEN_FIELDS = ("state", "version", "updated_at", "updated_by", "ownership")  # shown otherwise, or noise


class Hidden(Exception):
    """No such case, or one the user may not see: the same answer for both."""


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str
    link: int | None = None  # a case the change points to (a duplicate's case)


@dataclass(frozen=True)
class Step:
    """One row of the timeline, ready to read."""

    at: datetime
    who: str
    action: str
    before: str | None
    after: str | None
    reason: str
    changes: tuple[Change, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CaseView:
    case: Case
    deadline: Any  # dispatch.workflow.DeadlineStatus
    steps: tuple[Step, ...]
    photos: dict[str, tuple[Media, ...]]  # by stage, in STAGES order; stages without photos are absent
    duplicate_no: str | None  # the case number of the case this duplicate was merged into
    people: dict[str, str]  # username -> display name


def case_id_of(raw: Any) -> int:
    """A case id from the URL: a whole number, else Hidden (a page for "abc" is a page for no case)."""
    text = str(raw or "")
    if not text.isdigit() or int(text) >= MAX_ID or int(text) < 1:
        raise Hidden(text[:20])
    return int(text)


def open_case(svc: Services, raw_id: Any) -> tuple[User, Case]:
    """The user and the case if the policy lets them open it; Denied (401) when nobody is signed in, Denied (403)
    for a role that opens no case (the wall), Hidden for a missing case and for one outside the user's reach."""
    user = current_user()
    if user is None:
        raise Denied("sign in first", 401, code="policy.signed_out")
    case_id = case_id_of(raw_id)
    try:
        case = svc.store.get_case(case_id)
    except NotFound:
        raise Hidden(str(case_id)) from None
    try:
        if case.district is not None:
            require("page.case", case.district, case.assignee)
        else:  # a case outside every district: only accounts that cover the whole city (or its unit)
            check(user, "page.case", Target(None, case.assignee))
    except (Denied, StoreError) as exc:
        if getattr(exc, "code", "") == "policy.role":
            raise Denied(str(exc), 403, code="policy.role", role=user.role) from None
        raise Hidden(str(case_id)) from None
    return user, case


def load(svc: Services, raw_id: Any) -> CaseView:
    """Everything the case page shows (see open_case for who may see it)."""
    _user, case = open_case(svc, raw_id)
    wf = svc.workflow
    tz = wf.calendar.tz
    people = {u.username: u.display_name or u.username for u in svc.store.list_users()}
    steps = tuple(step(e, tz, people.get) for e in svc.store.events(case.id))
    by_stage: dict[str, list[Media]] = {}
    for m in svc.store.media_of([case.id]):
        by_stage.setdefault(m.stage, []).append(m)
    duplicate_no = None
    if case.duplicate_of is not None:
        try:
            duplicate_no = svc.store.get_case(case.duplicate_of).case_no
        except NotFound:
            duplicate_no = str(case.duplicate_of)
    return CaseView(
        case=case,
        deadline=wf.deadline(case),
        steps=steps,
        photos={s: tuple(by_stage[s]) for s in STAGES if s in by_stage},
        duplicate_no=duplicate_no,
        people=people,
    )


def local(at: datetime | None, tz: tzinfo) -> str:
    """A time in the city's zone, to the minute ("—" for none)."""
    return "—" if at is None else f"{at.astimezone(tz):%Y-%m-%d %H:%M}"


def hours_left(seconds: float | None) -> str:
    """Working time left, in hours and minutes ("—" when no clock runs); negative when overdue."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    minutes = int(abs(seconds) // 60)
    return t("casepage.hours", sign=sign, h=minutes // 60, m=minutes % 60)


def readable(name: str, value: Any, tz: tzinfo) -> str:
    """A value of a case's field as the event log keeps it, in words for a reader."""
    if value is None or value == "" or value == []:
        return "—"
    if name in TIME_FIELDS and isinstance(value, str):
        try:
            return local(datetime.fromisoformat(value), tz)
        except ValueError:
            return value
    if name in UNIT_FIELDS:
        return names.squad(str(value))
    if name in AREA_FIELDS:
        return names.area(AREA_FIELDS[name], str(value))
    if name == "matter":
        return names.matter(str(value))
    if name == "work_seconds" and isinstance(value, int | float):
        return hours_left(float(value))
    if name == "urgency" and has(f"urgency.{value}"):
        return t(f"urgency.{value}")
    if isinstance(value, bool):
        return t("casepage.yes") if value else t("casepage.no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def field_label(name: str) -> str:
    return t(f"casepage.field.{name}") if has(f"casepage.field.{name}") else name


def step(e: Event, tz: tzinfo, person: Callable[[str], str | None]) -> Step:
    """An event of the log as a timeline row: who (display name), what (the action's name), when (local time),
    the state before and after, the reason, and the other fields it changed."""
    changes = []
    for k in sorted(set(e.before) | set(e.after)):
        if k in HIDDEN_FIELDS:
            continue
        before, after = e.before.get(k), e.after.get(k)
        if before == after:
            continue
        link = int(after) if k == "duplicate_of" and isinstance(after, int) else None
        changes.append(Change(k, field_label(k), readable(k, before, tz), readable(k, after, tz), link))
    return Step(
        at=e.at,
        who=person(e.actor) or e.actor,
        action=t(f"action.{e.action}") if has(f"action.{e.action}") else e.action,
        before=t(f"state.{e.from_state}") if e.from_state and has(f"state.{e.from_state}") else e.from_state,
        after=t(f"state.{e.to_state}") if e.to_state and has(f"state.{e.to_state}") else e.to_state,
        reason=e.reason,
        changes=tuple(changes),
    )


def case_url(case_id: int) -> str:
    return f"/case/{case_id}"
