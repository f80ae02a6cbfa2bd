"""The dispatch console's services (no Dash here): the queue, a case's panel, and the actions a user may take."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from dispatch.board import View
from dispatch.policy import Target, allows, check
from dispatch.workflow import ACTIONS, NO_CASE_FLAGS, Workflow
from geo.crs import transformer
from store.errors import Invalid
from store.models import Case, User
from web.services import Services

QUEUE_STATES = ("filed", "return_requested", "extension_requested", "park_requested", "parked")
BOUNDARY_WARNING_M = 30.0
STORAGE = "EPSG:4326"
# the console offers these; the rest belong to other roles' screens
CONSOLE_ACTIONS = (
    "dispatch",
    "approve_return",
    "reject_return",
    "approve_extension",
    "reject_extension",
    "approve_park",
    "reject_park",
    "unpark",
    "request_void",
    "urge",
)


@dataclass(frozen=True)
class Panel:
    case: Case
    boundary_m: float | None
    near_boundary: bool
    suggested: str | None
    alternatives: tuple[str, ...]
    actions: tuple[str, ...]
    deadline: Any  # dispatch.workflow.DeadlineStatus


def queue(svc: Services, user: User, view: View, now: datetime) -> list[dict[str, Any]]:
    """Cases waiting for the dispatcher, in the user's districts: filed cases waiting for dispatch first, then
    requests waiting for approval (and parked cases), each by the most pressing deadline. A filed case's deadline
    is its dispatch deadline (派遣时限, counted from filing); `overdue` once it has passed."""
    snap = svc.board.snapshot()
    scope = View(view.classes, (), view.sources, view.within_h, tuple(user.districts) or view.districts)
    wf = svc.workflow
    rows = []
    for i in snap.select(scope, now):
        f = snap.facts[i]
        if f.state not in QUEUE_STATES:
            continue
        due = wf.due(f)
        rows.append(
            {
                "id": f.id,
                "no": f.case_no,
                "state": f.state,
                "matter": f.matter,
                "urgent": f.urgency == "urgent",
                "overdue": bool(snap.overdue[i]),
                "due": due,
                "district": f.district,
                "subdistrict": f.subdistrict,
            }
        )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(rows, key=lambda r: (r["state"] != "filed", r["due"] or far, r["no"]))


def alternatives(wf: Workflow, case: Case, radius_m: float = BOUNDARY_WARNING_M) -> tuple[str, ...]:
    """Other owners: who the rules would pick `radius_m` away in eight directions, then the district squads."""
    crs = wf.engine.city.metric_crs
    x, y = transformer(STORAGE, crs).transform(case.lon, case.lat)
    angles = np.arange(8) * math.pi / 4
    lon, lat = transformer(crs, STORAGE).transform(x + radius_m * np.cos(angles), y + radius_m * np.sin(angles))
    found: list[str] = []
    for lo, la in zip(lon, lat, strict=True):
        o = wf.engine.resolve(float(lo), float(la), case.matter, case.reported_at)
        for unit in (o.squad, o.lead_department):
            if unit and unit not in found:
                found.append(unit)
    if case.district:
        for suffix in ("LI", "AD"):
            unit = f"SQ{case.district}{suffix}"
            if unit not in found and unit in set(wf.engine.city.layers["squads"]["id"]):
                found.append(unit)
    own = case.squad or case.lead_department
    allowed = wf.units_for(case.matter)  # never offer a unit the dispatch would refuse
    return tuple(u for u in found if u != own and u in allowed)


def panel(svc: Services, user: User, case_id: int) -> Panel:
    """Everything the console shows about one case; Forbidden outside the user's districts."""
    case = svc.store.get_case(case_id)
    check(user, "page.dispatch", Target(case.district))
    distance = case.ownership.get("boundary_distance_m")
    wf = svc.workflow
    target = Target(case.district, case.assignee)
    # a case reported where and when it was lawful (stored before such reports were refused) has no owner to
    # suggest, and its neighbours' owners are no better: the dispatcher voids it or names a unit deliberately
    lawful = any(f in NO_CASE_FLAGS for f in case.flags)
    actions = tuple(
        a for a in CONSOLE_ACTIONS if case.state in ACTIONS[a].from_states and allows(user, f"action.{a}", target)
    )
    return Panel(
        case=case,
        boundary_m=distance,
        near_boundary=distance is not None and distance < BOUNDARY_WARNING_M,
        suggested=None if lawful else case.squad or case.lead_department,
        alternatives=() if lawful else alternatives(wf, case),
        actions=actions,
        deadline=wf.deadline(case),
    )


def act(svc: Services, user: User, case_id: int, version: int, action: str, unit: Any, reason: str) -> Case:
    """Take a console action; StoreError (Conflict, Forbidden, Invalid) says plainly why not."""
    if action not in CONSOLE_ACTIONS:
        raise Invalid(f"{action[:40]!r} is not an action of the dispatch console", code="console.action")
    if unit is not None and not isinstance(unit, str):
        raise Invalid("the unit must be a unit code", code="dispatch.unit", unit=type(unit).__name__, matter="")
    params = {"unit": unit} if action == "dispatch" and unit else {}
    return svc.workflow.act(user, case_id, action, version, reason=reason.strip(), **params)
