"""The unit page's services (no Dash here): a unit's own cases (urged first, then by deadline), the urges to show at
the top, one case's panel with the actions the unit may take, and taking them (feedback with after-photos)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.notify import UNIT_STATES
from dispatch.policy import Target, allows, check
from dispatch.workflow import ACTIONS, DeadlineStatus
from store.errors import Invalid, changed_by
from store.models import Case, Media, User
from web.photos import from_data_urls, save_all
from web.services import Services

# what a unit may do on its page; nothing is ever pre-selected (asking to return or park is a decision)
UNIT_ACTIONS = ("feedback", "complete_stage", "request_return", "request_extension", "request_park")
WITH_PHOTOS = ("feedback",)  # after-photos (处置后照片): at least one
OWNER_ACTIONS = ("request_return",)  # name the owner the case belongs to
HOURS_ACTIONS = ("request_extension",)


@dataclass(frozen=True)
class Panel:
    case: Case
    actions: tuple[str, ...]
    deadline: DeadlineStatus
    stage: int  # 1-based stage of a staged matter (0: not staged)
    stages: tuple[str, ...]  # the stages' names
    photos: tuple[Media, ...]


def own(user: User, district: str | None, assignee: str | None) -> bool:
    """Whether a case is this unit's (the policy's assignee scope, as for the case page)."""
    return user.unit is not None and assignee == user.unit and allows(user, "page.case", Target(district, assignee))


def cases(svc: Services, user: User, now: datetime) -> list[dict[str, Any]]:
    """The unit's open cases: urged first, then the nearest deadline (overdue first); handled ones last."""
    snap = svc.board.snapshot()
    idx = [
        i
        for i, f in enumerate(snap.facts)
        if f.state in UNIT_STATES and f.assignee == user.unit and own(user, f.district, f.assignee)
    ]
    facts = [snap.facts[i] for i in idx]
    left, at_risk, overdue = svc.workflow.deadline_flags(facts, now) if facts else ([], [], [])
    rows = []
    for k, f in enumerate(facts):
        running = f.state not in ("handled", "checking")
        rows.append(
            {
                "id": f.id,
                "no": f.case_no,
                "state": f.state,
                "matter": f.matter,
                "urgent": f.urgency == "urgent",
                "urged": "urged" in f.flags and running,
                "reworked": "reworked" in f.flags,
                "due": f.deadline_at,
                "left_s": None if not running or math.isnan(left[k]) else float(left[k]),
                "overdue": bool(overdue[k]) and running,
                "at_risk": bool(at_risk[k]) and running,
                "paused": f.paused_at is not None,
                "lon": f.lon,
                "lat": f.lat,
                "district": f.district,
            }
        )
    far = math.inf
    return sorted(
        rows,
        key=lambda r: (
            not r["urged"],
            r["state"] in ("handled", "checking"),
            r["left_s"] if r["left_s"] is not None else far,
            r["no"],
        ),
    )


def urges(svc: Services, user: User, rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """The urged cases with the reason of their latest urge (from the event log)."""
    out = []
    for r in rows:
        if not r["urged"]:
            continue
        events = [e for e in svc.store.events(r["id"]) if e.action == "urge"]
        out.append((r, events[-1].reason if events else ""))
    return out


def panel(svc: Services, user: User, case_id: int) -> Panel:
    """One of the unit's cases; Forbidden if it is another unit's."""
    case = svc.store.get_case(case_id)
    check(user, "page.case", Target(case.district, case.assignee))
    wf = svc.workflow
    stage, stages = wf.stage(case)
    target = Target(case.district, case.assignee)
    actions = []
    for a in UNIT_ACTIONS:
        if case.state not in ACTIONS[a].from_states or not allows(user, f"action.{a}", target):
            continue
        if a == "complete_stage" and stage >= len(stages):
            continue  # no further stage
        if a == "feedback" and stage < len(stages):
            continue  # the stages first
        actions.append(a)
    return Panel(
        case=case,
        actions=tuple(actions),
        deadline=wf.deadline(case),
        stage=stage,
        stages=tuple(name for name, _ in stages),
        photos=tuple(svc.store.media_of([case.id])),
    )


def hours_of(value: Any) -> float:
    """The extension asked for, from the form's number box."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid("an extension asks for 1 to 720 working hours (hours=…)", code="extension.hours")
    try:
        hours = float(value)
    except ValueError:
        raise Invalid("an extension asks for 1 to 720 working hours (hours=…)", code="extension.hours") from None
    if not math.isfinite(hours):
        raise Invalid("an extension asks for 1 to 720 working hours (hours=…)", code="extension.hours")
    return hours


def act(
    svc: Services,
    user: User,
    case_id: int,
    version: int,
    action: str,
    text: str,
    owner: str | None = None,
    hours: Any = None,
    contents: list[Any] | None = None,
    filenames: list[Any] | None = None,
) -> Case:
    """Take one of the unit's actions; StoreError (Conflict, Forbidden, Invalid) says plainly why not. Photos are
    checked all before any is kept, and only once the action itself would be allowed; nothing is stored when
    anything is wrong."""
    if action not in UNIT_ACTIONS:
        raise Invalid(f"{action[:40]!r} is not an action of the unit page", code="unit.action")
    params: dict[str, Any] = {}
    if action in OWNER_ACTIONS:
        if not owner:
            raise Invalid("a return names the unit the case belongs to", code="return.owner")
        params["disputed_owner"] = owner
    if action in HOURS_ACTIONS:
        params["hours"] = hours_of(hours)
    wf = svc.workflow
    case = svc.store.get_case(case_id)
    if case.version != version:  # before any photo is kept
        raise changed_by(case.case_no, case.updated_by, case.updated_at)
    # every check of the step first (scope, state, reason, parameters): a refused step keeps no photo
    wf.plan(user, case, action, wf.clock(), text.strip(), **params)
    photos = []
    if action in WITH_PHOTOS:
        files = from_data_urls(contents or [], filenames or [])
        if not files:
            raise Invalid("feedback needs at least one photo of the work done", code="unit.photo_needed")
        photos = save_all(files)
    elif contents:
        raise Invalid(f"{action} takes no photos", code="photo.not_here", action=action)
    return wf.act(user, case_id, action, version, reason=text.strip(), photos=photos, **params)
