"""The acceptor's intake page's services (no Dash here): the queue of new reports, checked cases and void
requests; a report's panel with its photos, owners and possible duplicates; the actions a user may take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.duplicates import Candidate
from dispatch.policy import Target, allows, check
from dispatch.workflow import ACTIONS, REFUSALS, DeadlineStatus
from store.errors import Invalid, NotFound
from store.models import Case, CaseFacts, Event, Media, User
from web.services import Services

# the queue's tabs, in order, and the states each holds
TABS = {
    "new": ("reported", "verifying", "accepted"),  # new reports from every channel; "verifying" waits on site
    "close": ("checked",),  # checked on site: to close, or to send back for rework
    "void": ("void_requested",),  # requests to void: the shift lead approves or rejects
}
TAB_OF = {state: tab for tab, states in TABS.items() for state in states}
BOUNDARY_WARNING_M = 30.0
# the page's actions (a duplicate is merged from the list of possible duplicates, or by its case number)
INTAKE_ACTIONS = ("send_verify", "file", "refuse", "merge", "close", "rework", "approve_void", "reject_void")
# what a freshly picked report's action box may offer pre-selected: the everyday, harmless next step. Never a
# destructive one (refuse, merge, void), and nothing after an action
PRESELECT = ("file", "send_verify")  # in order of preference
KINDS = tuple(k for k in REFUSALS if k != "duplicate")  # a duplicate is merged, naming its case
MAX_CASE_NO = 32


@dataclass(frozen=True)
class Panel:
    case: Case
    photos: tuple[Media, ...]
    actions: tuple[str, ...]
    deadline: DeadlineStatus
    duplicates: tuple[Candidate, ...]
    inspectors: tuple[str, ...]  # who patrols the report's cell (empty: any inspector of its district)
    boundary_m: float | None
    request: Event | None = None  # a void request waiting: who asked, when, why

    @property
    def near_boundary(self) -> bool:
        return self.boundary_m is not None and self.boundary_m < BOUNDARY_WARNING_M

    @property
    def default_action(self) -> str | None:
        return next((a for a in PRESELECT if a in self.actions), None)


def queue(svc: Services, user: User, now: datetime) -> list[dict[str, Any]]:
    """The work waiting at intake in the user's districts, each row with its tab: new reports by their filing
    deadline (which runs from the report: oldest first), then checked cases and void requests, oldest first.
    A new report carries how many cases it may repeat."""
    snap = svc.board.snapshot()
    wf = svc.workflow
    picked = [i for i, f in enumerate(snap.facts) if f.state in TAB_OF and user.covers(f.district)]
    dups = svc.duplicates.find_many([snap.facts[i] for i in picked if TAB_OF[snap.facts[i].state] == "new"], now)
    rows = []
    for i in picked:
        f = snap.facts[i]
        rows.append(
            {
                "id": f.id,
                "no": f.case_no,
                "state": f.state,
                "tab": TAB_OF[f.state],
                "matter": f.matter,
                "source": f.source,
                "urgent": f.urgency == "urgent",
                "overdue": bool(snap.overdue[i]),
                # only the filing clock is intake's; a checked case or a void request waits by its age
                "due": wf.due(f) if TAB_OF[f.state] == "new" else None,
                "reported": f.reported_at,
                "dups": len(dups.get(f.id, ())),
            }
        )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    order = list(TABS)
    return sorted(rows, key=lambda r: (order.index(r["tab"]), r["due"] or far, r["reported"], r["no"]))


def tab_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(TABS, 0)
    for r in rows:
        counts[r["tab"]] += 1
    return counts


def next_in(rows: list[dict[str, Any]], case_id: int) -> int | None:
    """The row after `case_id` in a list the user saw (the one before it when it was last; None if alone)."""
    ids = [r.get("id") for r in rows if isinstance(r, dict)]
    if case_id not in ids:
        return ids[0] if ids else None
    k = ids.index(case_id)
    rest = ids[k + 1 :] or ids[:k][-1:]
    return rest[0] if rest else None


def offered(user: User, case: Case) -> tuple[str, ...]:
    """The page's actions the policy and the case's state allow (the rest are not shown at all)."""
    target = Target(case.district, case.assignee)
    found = tuple(
        a for a in INTAKE_ACTIONS if case.state in ACTIONS[a].from_states and allows(user, f"action.{a}", target)
    )
    if case.state == "reported" and case.source != "supervisor":
        # the workflow files a public report only once an inspector confirmed it (action.verify_first)
        found = tuple(a for a in found if a != "file")
    return found


def panel(svc: Services, user: User, case_id: int) -> Panel:
    """Everything the page shows about one case; Forbidden outside the user's districts."""
    case = svc.store.get_case(case_id)
    check(user, "page.intake", Target(case.district))
    wf = svc.workflow
    dups = svc.duplicates.find(case, wf.clock()) if TAB_OF.get(case.state) == "new" else []
    return Panel(
        case=case,
        photos=tuple(svc.store.media_of([case.id])),
        actions=offered(user, case),
        deadline=wf.deadline(case),
        duplicates=tuple(dups),
        inspectors=wf.inspectors(case),
        boundary_m=case.ownership.get("boundary_distance_m"),
        request=next((e for e in reversed(svc.store.events(case.id)) if e.action == "request_void"), None)
        if case.state == "void_requested"
        else None,
    )


def locate(svc: Services, user: User, case_id: int) -> tuple[float, float]:
    case = svc.store.get_case(case_id)
    check(user, "page.intake", Target(case.district))
    return case.lon, case.lat


def find_case_no(svc: Services, case_no: str) -> CaseFacts:
    """An open or recent case by its number (what the duplicate index holds); NotFound names it."""
    wanted = case_no.strip().upper()[:MAX_CASE_NO]
    found = svc.duplicates.by_number(wanted, svc.workflow.clock())
    if found is None:
        raise NotFound(f"no open case numbered {wanted!r}", code="intake.no_case", case_no=wanted)
    return found


def act(
    svc: Services,
    user: User,
    case_id: int,
    version: int,
    action: str,
    reason: str = "",
    urgency: str | None = None,
    refusal: str | None = None,
    into_no: str = "",
) -> Case:
    """Take one of the page's actions on the case the user saw at `version`; StoreError says why not."""
    if action not in INTAKE_ACTIONS:
        raise Invalid(f"{action[:40]!r} is not an action of the intake page", code="intake.action")
    params: dict[str, Any] = {}
    if action == "file":
        params["urgency"] = urgency or "normal"
    elif action == "refuse":
        if refusal not in KINDS:
            raise Invalid("a refusal names its kind", code="refuse.kind", kinds=", ".join(KINDS))
        params["refusal"] = refusal
    elif action == "merge":
        if not into_no.strip():
            raise Invalid("a duplicate names the case it repeats", code="merge.into")
        into = find_case_no(svc, into_no)
        return merge(svc, user, case_id, version, into.id, into.version, reason)
    return svc.workflow.act(user, case_id, action, version, reason=reason.strip(), **params)


def merge(
    svc: Services, user: User, case_id: int, version: int, into: int, into_version: int, reason: str = ""
) -> Case:
    """Close a report as a duplicate of case `into` (both at the versions the user saw)."""
    return svc.workflow.act(
        user, case_id, "merge", version, reason=reason.strip(), into=into, into_version=into_version
    )
