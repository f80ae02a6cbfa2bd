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
from web.i18n import has, t
from web.services import Services

# the queue's tabs, in order, and the states each holds: requests waiting for the dispatcher's decision first
TABS = {
    "approve": ("return_requested", "extension_requested", "park_requested"),
    "dispatch": ("filed",),
    "parked": ("parked",),
}
TAB_OF = {state: tab for tab, states in TABS.items() for state in states}
QUEUE_STATES = tuple(TAB_OF)
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
# what a freshly picked case's action box may offer pre-selected: the console's everyday, harmless step. Never a
# destructive one (asking to void, rejecting), and nothing once an action has been taken (a habitual second click
# on Submit must not act again)
PRESELECT = ("dispatch",)


@dataclass(frozen=True)
class Panel:
    case: Case
    boundary_m: float | None
    near_boundary: bool
    suggested: str | None
    alternatives: tuple[str, ...]
    actions: tuple[str, ...]
    deadline: Any  # dispatch.workflow.DeadlineStatus

    @property
    def default_action(self) -> str | None:
        """The action the box offers pre-selected when the case is picked (None: the dispatcher chooses)."""
        return next((a for a in self.actions if a in PRESELECT), None)


def queue(svc: Services, user: User, view: View, now: datetime) -> list[dict[str, Any]]:
    """Cases waiting for the dispatcher, in the user's districts, each with its tab (TABS): requests waiting for
    approval, filed cases waiting for dispatch, parked cases; by tab, then the most pressing deadline. A filed
    case's deadline is its dispatch deadline (派遣时限, counted from filing); `overdue` once it has passed."""
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
                "tab": TAB_OF[f.state],
                "matter": f.matter,
                "urgent": f.urgency == "urgent",
                "overdue": bool(snap.overdue[i]),
                "due": due,
                "district": f.district,
                "subdistrict": f.subdistrict,
            }
        )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    order = list(TABS)
    return sorted(rows, key=lambda r: (order.index(r["tab"]), r["due"] or far, r["no"]))


def tab_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many rows of the queue each tab holds (every tab, in order, even when empty)."""
    counts = dict.fromkeys(TABS, 0)
    for r in rows:
        counts[r["tab"]] += 1
    return counts


def default_tab(counts: dict[str, int]) -> str:
    """The tab the console opens on: requests to approve when there are any, else the cases to dispatch."""
    return "approve" if counts.get("approve") else "dispatch"


def locate(svc: Services, user: User, case_id: int) -> tuple[float, float]:
    """Where a case is (lon, lat), for the map to go there; Forbidden outside the user's districts."""
    case = svc.store.get_case(case_id)
    check(user, "page.dispatch", Target(case.district))
    return case.lon, case.lat


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


def decision(trace: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """A stored rule trace split into the step that decided (None if no rule applied) and the rules skipped
    before it, in the routing table's order."""
    decided = next((s for s in trace if s.get("applies")), None)
    return decided, [s for s in trace if not s.get("applies")]


def rule_name(svc: Services, rule: str, lang: str) -> str:
    """A routing rule's name in words: from the message catalogue (`rule.<id>`), else the routing table's own
    reason for it, else its id."""
    if has(f"rule.{rule}"):
        return t(f"rule.{rule}", lang)
    found = next((r for r in svc.workflow.engine.city.rules if r.rule == rule), None)
    if found is None:
        return rule
    return found.reason_zh if lang == "zh" else found.reason_en


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
