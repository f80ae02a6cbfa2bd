"""Who has what waiting: each user's counts of new tasks, urges, returns and overdue cases (the top bar's badges),
escalation of cases long overdue to the shift lead and the district head, and the messages the webhook's outbox
keeps (store.enqueue_delivery; dispatch/webhook.py sends them).

Counts are worked out from the board's light case records (every page load asks: no query per user); an
escalation is a workflow step ("escalate", by the system on the shift lead's authority) that sets the flag
"escalated", so each case escalates once however many processes sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dispatch.policy import Target, allows
from dispatch.workflow import TO_FILE, Workflow
from store.errors import StoreError
from store.models import Case, CaseFacts, User

SYSTEM = User(0, "system", "系统", "shift_lead", (), None)  # who escalates (the event log names "system")
ESCALATED = "escalated"
# a unit's own open cases: waiting for it (running clocks) and those it is done with
UNIT_WAITING = ("dispatched",)
UNIT_STATES = (
    "dispatched",
    "return_requested",
    "extension_requested",
    "park_requested",
    "void_requested",
    "parked",
    "handled",
    "checking",
)
APPROVALS = ("return_requested", "extension_requested", "park_requested")
# workflow steps that make a webhook message: the step -> the message's kind
MESSAGES = {
    "urge": "urge",
    "escalate": "escalation",
    "request_return": "return_requested",
    "send_verify": "task",
    "send_check": "task",
    "feedback": "task",  # a handled case waits for its inspector's check
    "dispatch": "dispatched",
}


@dataclass(frozen=True)
class Badge:
    """One count in the top bar: what (a key of the [notify] messages), how many, the page that lists them."""

    kind: str
    count: int
    href: str


@dataclass(frozen=True)
class Facts:
    """The open cases with their deadline positions (from the board's snapshot): what counts are made of."""

    cases: Sequence[CaseFacts]
    overdue: NDArray[np.bool_]
    escalating: NDArray[np.bool_]  # overdue longer than the settings' limit


def late_seconds(
    wf: Workflow, cases: Sequence[CaseFacts], overdue: NDArray[np.bool_], now: datetime
) -> NDArray[np.float64]:
    """Working seconds each case is past its deadline (0 where it is not overdue); only the overdue are computed."""
    late = np.zeros(len(cases))
    idx = np.flatnonzero(overdue)
    if len(idx):
        left, _, _ = wf.deadline_flags([cases[int(i)] for i in idx], now)
        # NaN: working time unknown (outside the calendar's years); past the deadline instant still counts as late
        late[idx] = np.where(np.isnan(left), np.inf, -left)
    return late


def facts_of(
    wf: Workflow, cases: Sequence[CaseFacts], overdue: NDArray[np.bool_], now: datetime, after_h: float
) -> Facts:
    """The records counts are made of, with which cases are overdue by more than `after_h` working hours."""
    late = late_seconds(wf, cases, overdue, now)
    return Facts(cases, overdue, overdue & (late > after_h * 3600))


def badges(user: User, facts: Facts, tasks: int = 0) -> list[Badge]:
    """The counts a user's top bar shows (only those above zero), by role; `tasks` is an inspector's task count
    (Workflow.tasks). Every case counted lies in the user's scope (the policy decides, as for the pages)."""
    f = facts
    role = user.role
    mine = np.array(
        [_sees(user, c) for c in f.cases] if f.cases else [], dtype=bool
    )  # in the user's districts (a unit: its own cases)
    state = np.array([c.state for c in f.cases], dtype=object)
    flagged = {k: np.array([k in c.flags for c in f.cases], dtype=bool) for k in ("urged", "reworked", ESCALATED)}
    out: list[tuple[str, int, str]] = []

    def n(mask: NDArray[np.bool_]) -> int:
        return int((mask & mine).sum()) if len(mask) else 0

    if role == "acceptor":
        out += [("new_reports", n(np.isin(state, TO_FILE)), "/intake"), ("to_close", n(state == "checked"), "/intake")]
        out += [("overdue", n(f.overdue & np.isin(state, TO_FILE)), "/intake")]
    elif role == "dispatcher":
        out += [
            ("to_dispatch", n(state == "filed"), "/dispatch"),
            ("to_approve", n(np.isin(state, APPROVALS)), "/dispatch"),
        ]
        out += [("returns", n(state == "return_requested"), "/dispatch"), ("overdue", n(f.overdue), "/dispatch")]
    elif role == "shift_lead":
        out += [("void_requests", n(state == "void_requested"), "/intake"), ("escalated", n(f.escalating), "/dispatch")]
    elif role == "unit":
        waiting = np.isin(state, UNIT_WAITING)
        out += [
            ("unit_waiting", n(waiting), "/unit"),
            ("urged", n(flagged["urged"] & np.isin(state, UNIT_STATES)), "/unit"),
        ]
        out += [("returned", n(flagged["reworked"] & waiting), "/unit"), ("overdue", n(f.overdue & waiting), "/unit")]
    elif role == "supervisor":
        out += [("tasks", tasks, "/field")]
    elif role == "district_head" and user.districts:
        href = f"/district/{user.districts[0]}"
        out += [("overdue", n(f.overdue), href), ("escalated", n(f.escalating), href)]
    return [Badge(k, c, h) for k, c, h in out if c > 0]


def _sees(user: User, c: CaseFacts) -> bool:
    if user.role == "unit":
        return (
            user.unit is not None
            and c.assignee == user.unit
            and allows(user, "page.case", Target(c.district, c.assignee))
        )
    return user.covers(c.district)


# -- escalation ----------------------------------------------------------------------------------------------
def escalate_due(wf: Workflow, facts: Facts, now: datetime) -> list[Case]:
    """Escalate every case overdue past the limit that has not been escalated yet (a workflow step by the system:
    the event log says so, and a case escalates once: another process that got there first wins the version)."""
    done = []
    for c, due in zip(facts.cases, facts.escalating, strict=True):
        if not due or ESCALATED in c.flags:
            continue
        try:
            done.append(wf.act(SYSTEM, c.id, "escalate", c.version, reason="overdue"))
        except StoreError:  # changed meanwhile (it is looked at again on the next sweep), or escalated already
            continue
    return done


def sweep(wf: Workflow, now: datetime, after_h: float) -> list[Case]:
    """Look at every open case now and escalate those overdue by more than `after_h` working hours."""
    cases = [c for c in wf.store.case_facts(active_since=now) if c.state not in ("closed", "voided")]
    _, _, overdue = wf.deadline_flags(cases, now)
    return escalate_due(wf, facts_of(wf, cases, overdue, now, after_h), now)


# -- the outbox ----------------------------------------------------------------------------------------------
def message(wf: Workflow, case: Case, action: str, reason: str, at: datetime) -> dict[str, Any] | None:
    """The webhook message a workflow step makes (None: the step tells nobody)."""
    kind = MESSAGES.get(action)
    if kind is None:
        return None
    to: dict[str, Any]
    if kind in ("urge", "dispatched"):
        to = {"unit": case.assignee}
    elif kind == "escalation":
        to = {"roles": ["shift_lead", "district_head"], "district": case.district}
    elif kind == "return_requested":
        to = {"roles": ["dispatcher"], "district": case.district}
    else:
        to = {"inspectors": list(wf.inspectors(case)), "district": case.district}
    deadline = case.deadline_at.isoformat() if case.deadline_at else None
    return {
        "kind": kind,
        "to": to,
        "case": {"id": case.id, "no": case.case_no, "state": case.state, "matter": case.matter,
                 "district": case.district, "assignee": case.assignee, "deadline_at": deadline,
                 "lon": case.lon, "lat": case.lat, "url": f"/case/{case.id}"},
        "reason": reason[:500],
        "at": at.isoformat(),
    }  # fmt: skip


class Outbox:
    """A workflow listener that keeps a message for each step that tells someone (the webhook sends them)."""

    def __init__(self, wf: Workflow) -> None:
        self.wf = wf

    def __call__(self, actor: User, case: Case, action: str, reason: str, at: datetime) -> None:
        payload = message(self.wf, case, action, reason, at)
        if payload is not None:
            self.wf.store.enqueue_delivery(payload["kind"], payload, at)


def with_outbox(wf: Workflow) -> Workflow:
    """The workflow, keeping a webhook message for every step that tells someone."""
    wf.listeners.append(Outbox(wf))
    return wf
