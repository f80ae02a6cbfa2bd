"""Who may do what: one declarative table of pages, data routes, exports, callbacks and workflow actions × roles
× scope, and the one check every entry point calls.

A role's grant on an entry is a scope rule:
- DISTRICT: the target (a case, a district page, a map layer) lies in the user's district scope (an account
  with no districts covers the whole city);
- ASSIGNEE: as DISTRICT, and the case is assigned to the unit the account acts for;
- PATROL: as DISTRICT, and the case lies in a grid cell the inspector patrols (a cell nobody patrols is every
  inspector's of the district).
An entry that is about one district (`needs_district`) refuses a request that names none. A page's callbacks
answer to the page's entry; the web layer also checks every callback request against it before it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from store.errors import Forbidden
from store.models import ROLES, User


class Scope(StrEnum):
    DISTRICT = "district"
    ASSIGNEE = "assignee"
    PATROL = "patrol"


@dataclass(frozen=True)
class Entry:
    grants: Mapping[str, Scope]  # role -> scope rule; a role that is absent is refused
    needs_district: bool = False  # the request must name a district (a page or export about one district)


@dataclass(frozen=True)
class Target:
    """What a request is about: a district (None: outside every district) and, for a case, its assignee."""

    district: str | None = None
    assignee: str | None = None
    inspectors: tuple[str, ...] = ()  # who patrols the case's cell (empty: nobody, so any inspector of the district)


def _grant(roles: str, scope: Scope = Scope.DISTRICT) -> dict[str, Scope]:
    return dict.fromkeys(roles.split(), scope)


_MAP_VIEWERS = "wall admin shift_lead dispatcher acceptor district_head"
# who may open one case (its page, timeline and photos): everyone at the centre in their district scope, the
# inspectors of the district, and the unit that holds it
_CASE_VIEWERS = {
    **_grant("admin shift_lead dispatcher acceptor district_head supervisor"),
    **_grant("unit", Scope.ASSIGNEE),
}

POLICY: dict[str, Entry] = {
    # pages (and their callbacks)
    "page.wall": Entry(_grant("wall admin shift_lead dispatcher acceptor")),
    "page.dispatch": Entry(_grant("dispatcher shift_lead admin")),
    "page.district": Entry(_grant("district_head admin shift_lead dispatcher"), needs_district=True),
    "page.field": Entry(_grant("supervisor")),  # the inspector's phone page: report, verify and check tasks
    "page.intake": Entry(_grant("acceptor shift_lead admin")),  # new reports, checked cases, void requests
    "page.unit": Entry(_grant("unit")),  # the unit's own cases
    "page.case": Entry(_CASE_VIEWERS),  # one case: timeline, photos, owners
    # the evaluation (its XLSX too): a district head's counts only their districts' cases
    "page.scores": Entry(_grant("district_head shift_lead admin")),
    "route.scores.people": Entry(_grant("shift_lead admin")),  # the levels that rate people
    # chronic places (疑难杂症) and their fast-track cases: a district head sees their districts'
    "page.chronic": Entry(_grant("district_head shift_lead dispatcher admin")),
    # model streets and dog-keeping model communities with their figures: a district head sees their districts'
    "page.model": Entry(_grant("district_head shift_lead dispatcher admin")),
    # campaigns (周期集群仗): a district head sees those whose area touches their districts; leads create them
    "page.campaigns": Entry(_grant("district_head shift_lead dispatcher admin")),
    "action.campaign_create": Entry(_grant("shift_lead admin")),
    # a photo: served to whoever may open one of the cases it belongs to
    "route.photo": Entry(_CASE_VIEWERS),
    # Dash's page router (its callbacks render a page's layout, which checks that page's own entry)
    "route.pages": Entry(_grant(" ".join(ROLES))),
    # data routes: the map's layers, grid cells and basemap tiles, for whoever has a map page (a unit's page maps
    # only its own cases, on the city's land, districts and zones: no case data comes by these routes)
    "route.map": Entry(_grant(_MAP_VIEWERS + " unit")),
    # exports
    "export.district": Entry(_grant("district_head admin shift_lead dispatcher"), needs_district=True),
    # the workflow (dispatch/workflow.py ACTIONS say from which states; this says who)
    "action.report": Entry(_grant("supervisor acceptor admin")),
    "action.send_verify": Entry(_grant("acceptor")),
    "action.verify": Entry(_grant("supervisor", Scope.PATROL)),
    "action.verify_fail": Entry(_grant("supervisor", Scope.PATROL)),
    "action.accept": Entry(_grant("acceptor")),
    "action.file": Entry(_grant("acceptor shift_lead")),
    "action.refuse": Entry(_grant("acceptor shift_lead")),
    "action.merge": Entry(_grant("acceptor shift_lead")),
    "action.relocate": Entry(_grant("acceptor shift_lead")),
    "action.dispatch": Entry(_grant("dispatcher")),
    "action.feedback": Entry(_grant("unit", Scope.ASSIGNEE)),
    "action.complete_stage": Entry(_grant("unit", Scope.ASSIGNEE)),
    "action.send_check": Entry(_grant("acceptor shift_lead")),
    "action.check_pass": Entry(_grant("supervisor", Scope.PATROL)),
    "action.check_fail": Entry(_grant("supervisor", Scope.PATROL)),
    "action.close": Entry(_grant("acceptor shift_lead")),
    "action.rework": Entry(_grant("acceptor shift_lead")),
    "action.request_return": Entry(_grant("unit", Scope.ASSIGNEE)),
    "action.approve_return": Entry(_grant("dispatcher")),
    "action.reject_return": Entry(_grant("dispatcher")),
    "action.request_extension": Entry(_grant("unit", Scope.ASSIGNEE)),
    "action.approve_extension": Entry(_grant("dispatcher")),
    "action.reject_extension": Entry(_grant("dispatcher")),
    "action.request_park": Entry(_grant("unit", Scope.ASSIGNEE)),
    "action.approve_park": Entry(_grant("dispatcher")),
    "action.reject_park": Entry(_grant("dispatcher")),
    "action.unpark": Entry(_grant("dispatcher")),
    "action.request_void": Entry({**_grant("acceptor dispatcher"), **_grant("unit", Scope.ASSIGNEE)}),
    "action.approve_void": Entry(_grant("shift_lead")),
    "action.reject_void": Entry(_grant("shift_lead")),
    # admin: the system account (dispatch/fast_track.SYSTEM) urges a chronic place's fast-track case
    "action.urge": Entry(_grant("supervisor shift_lead dispatcher district_head admin")),
    "action.self_handle": Entry(_grant("supervisor")),
    # the system escalates on the shift lead's authority (dispatch/notify.py); a shift lead may escalate by hand
    "action.escalate": Entry(_grant("shift_lead")),
    # a chronic place's fast track (dispatch/fast_track.py runs as the system account, role admin)
    "action.fast_track": Entry(_grant("admin")),
    "action.repeat": Entry(_grant("admin")),
    "action.reopen": Entry(_grant("admin shift_lead")),
}
assert all(set(e.grants) <= set(ROLES) for e in POLICY.values()), "a policy grant names an unknown role"


def refusal(user: User | None, what: str, target: Target | None = None) -> Forbidden | None:
    """Why `user` may not do `what` to `target` (None if they may)."""
    entry = POLICY.get(what)
    if entry is None:
        return Forbidden(f"{what!r} is not in the access policy", code="policy.unknown", what=what)
    if user is None or not user.active:
        return Forbidden("sign in first", code="policy.signed_out", what=what)
    scope = entry.grants.get(user.role)
    if scope is None:
        return Forbidden(f"{user.username} ({user.role}) may not {what}", code="policy.role", what=what, role=user.role)
    if target is not None and target.district is not None and not isinstance(target.district, str):
        return Forbidden("a district is a code", code="policy.no_district", what=what)
    if entry.needs_district and (target is None or not target.district):
        return Forbidden(f"{what} needs a district", code="policy.no_district", what=what)
    if target is not None and not user.covers(target.district):
        return Forbidden(
            f"{what} in district {target.district} is outside {user.username}'s scope",
            code="policy.district",
            what=what,
            district=target.district or "",
        )
    if scope is Scope.ASSIGNEE and (target is None or user.unit is None or target.assignee != user.unit):
        return Forbidden(
            f"the case is assigned to {target.assignee if target else None}, not to {user.unit} ({user.username})",
            code="policy.assignee",
            what=what,
            unit=user.unit or "",
            assignee=(target.assignee if target else None) or "",
        )
    if scope is Scope.PATROL and target is not None and target.inspectors and user.username not in target.inspectors:
        return Forbidden(
            f"the case lies in a cell patrolled by {', '.join(target.inspectors)}, not by {user.username}",
            code="policy.patrol",
            what=what,
            inspectors=", ".join(target.inspectors),
        )
    return None


def allows(user: User | None, what: str, target: Target | None = None) -> bool:
    """Whether `user` may do `what` to `target`."""
    return refusal(user, what, target) is None


def check(user: User | None, what: str, target: Target | None = None) -> None:
    """Raise Forbidden (with a code and parameters the UI translates) unless `user` may do `what` to `target`."""
    problem = refusal(user, what, target)
    if problem is not None:
        raise problem


def roles_for(what: str) -> tuple[str, ...]:
    """The roles the policy grants `what` to (in any scope)."""
    return tuple(POLICY[what].grants)
