"""The closed loop (数字城管): report → accept/verify → file → dispatch → handle → check → close.

Every action is a row of ACTIONS (data): the states it may start from, the state it leads to, the roles that
may take it. Each call checks the actor's role, district scope and (for units) that the case is theirs,
the case's state and its version; then the store applies the change and appends the event in one
transaction, so two people acting at once cannot both win.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from dispatch.areas import LOCATED_BY_AREA
from dispatch.calendar import OutsideCalendar, WorkingCalendar, parse_allowance
from dispatch.chronic import FAST_TRACK, PLACE_FLAG
from dispatch.limits import check_text
from dispatch.media import Photo, check_count
from dispatch.policy import POLICY, Scope, Target, allows, check
from geo.ownership import Ownership, OwnershipEngine
from geo.registry import ZONE_LAYERS
from store.base import Step, Store
from store.errors import Invalid, changed_by
from store.models import OWNER_COLUMNS, Case, CaseFacts, NewCase, OpenRequest, Owners, User

log = logging.getLogger(__name__)
OPEN = (
    "reported",
    "verifying",
    "accepted",
    "filed",
    "dispatched",
    "return_requested",
    "extension_requested",
    "park_requested",
    "parked",
    "void_requested",
    "handled",
    "checking",
    "checked",
)
CLOSED = ("closed", "voided")
SOURCES = ("supervisor", "hotline", "video", "citizen", "media", "superior")
URGENCIES = ("normal", "urgent")
UNTIMED = ("handled", "checking", "checked")
TASK_STATES = ("verifying", "handled", "checking")  # cases waiting for an inspector on site
TASK_ACTION = {
    "verifying": "verify",
    "handled": "check_pass",
    "checking": "check_pass",
}  # the unit is done: its clock no longer runs
RUNNING = ("dispatched", "return_requested", "extension_requested", "park_requested", "void_requested")
# before dispatch, each step has its own time limit (the calendar's [steps]): filing runs from the report,
# dispatch from filing
TO_FILE = ("reported", "verifying", "accepted")
TO_DISPATCH = ("filed",)
NO_CASE_FLAGS = ("lawful_in_zone",)  # routing flags that mean "lawful here and now: no case" (不立案)
# why an acceptor refuses a report (不予立案): not a city-management case; lawful at that place and time; outside
# the catalogue; a duplicate (a duplicate is merged into its case with the action "merge", which names it)
REFUSALS = ("not_a_case", "lawful", "outside_catalogue", "duplicate")
# the step a photo taken with an action documents
PHOTO_STAGE = {"report": "report", "verify": "verify", "verify_fail": "verify", "feedback": "feedback",
               "check_pass": "check", "check_fail": "check"}  # fmt: skip


@dataclass(frozen=True)
class Action:
    """A step of the loop: the states it may start from and the state it leads to. Who may take it, and on which
    cases, is the access policy's (dispatch/policy.py, entry "action.<name>")."""

    name: str
    from_states: tuple[str, ...]
    to_state: str | None  # None: stays where it is (urge), or back to where it was (reject_void)
    needs_reason: bool = False


ACTIONS = {
    a.name: a
    for a in (
        Action("send_verify", ("reported",), "verifying"),
        Action("verify", ("verifying",), "accepted"),
        Action("verify_fail", ("verifying",), "reported", needs_reason=True),  # not confirmed on site
        Action("accept", ("reported",), "accepted"),
        # an inspector's own report needs no separate acceptance: the acceptor files it at once
        Action("file", ("reported", "accepted"), "filed"),
        Action("refuse", TO_FILE, "voided", needs_reason=True),
        Action("merge", TO_FILE, "voided"),  # a duplicate report joins the case it repeats
        Action("relocate", TO_FILE, None),  # the acceptor places a report exactly (e.g. one located by area)
        Action("dispatch", ("filed",), "dispatched"),
        Action("feedback", ("dispatched",), "handled"),
        Action("complete_stage", ("dispatched",), "dispatched"),
        Action("send_check", ("handled",), "checking"),
        # the inspector whose cells hold a handled case checks it (the acceptor may also send the task explicitly)
        Action("check_pass", ("handled", "checking"), "checked"),
        Action("check_fail", ("handled", "checking"), "dispatched", needs_reason=True),
        Action("close", ("checked",), "closed"),
        Action("rework", ("handled", "checking", "checked"), "dispatched", needs_reason=True),
        Action("request_return", ("dispatched",), "return_requested", needs_reason=True),
        Action("approve_return", ("return_requested",), "filed"),
        Action("reject_return", ("return_requested",), "dispatched", needs_reason=True),
        Action("request_extension", ("dispatched",), "extension_requested", needs_reason=True),
        Action("approve_extension", ("extension_requested",), "dispatched"),
        Action("reject_extension", ("extension_requested",), "dispatched", needs_reason=True),
        Action("request_park", ("dispatched",), "park_requested", needs_reason=True),
        Action("approve_park", ("park_requested",), "parked"),
        Action("reject_park", ("park_requested",), "dispatched", needs_reason=True),
        Action("unpark", ("parked",), "dispatched"),
        Action("request_void", ("reported", "verifying", "accepted", "filed", "dispatched"), "void_requested", True),
        Action("approve_void", ("void_requested",), "voided"),
        Action("reject_void", ("void_requested",), None, needs_reason=True),
        Action("urge", OPEN, None, needs_reason=True),
        # overdue past the settings' limit: the shift lead and the district head are told (once: flag "escalated")
        Action("escalate", OPEN, None, needs_reason=True),
        Action("self_handle", ("reported",), "closed"),
        # a chronic place (dispatch/chronic.py): its one case, filed urgent at once; its later repeats noted on
        # it; reopened when the matter recurs after it closed
        Action("fast_track", ("reported",), "filed"),
        Action("repeat", OPEN, None, needs_reason=True),
        Action("reopen", ("closed",), "filed", needs_reason=True),
    )
}
assert set(POLICY) >= {f"action.{a}" for a in ACTIONS}, "every workflow action needs an access policy entry"


@dataclass(frozen=True)
class DeadlineStatus:
    deadline_at: datetime | None
    seconds_left: float | None  # working seconds; negative when overdue
    at_risk: bool
    overdue: bool
    paused: bool
    step: str | None = None  # whose clock runs: "file", "dispatch" (before dispatch) or "handle" (the unit's)


def owners_of(o: Ownership, layer_version: str) -> Owners:
    """The engine's answer as the record a case keeps, with the layer versions that decided it."""
    return Owners(
        **{k: getattr(o, k) for k in OWNER_COLUMNS},
        supporting_departments=tuple(o.supporting_departments),
        rule=o.rule,
        flag=o.flag,
        zones={
            "vendor_zone": o.vendor_zone,
            "vendor_zone_open": o.vendor_zone_open,
            "storefront_zone": o.storefront_zone,
            "storefront_zone_open": o.storefront_zone_open,
            "model_street": o.model_street,
            "signboard_segment": o.signboard_segment,
        },
        boundary_distance_m=o.boundary_distance_m,
        trace=tuple({"rule": t.rule, "applies": t.applies, "zh": t.zh, "en": t.en} for t in o.trace),
        layer_version=layer_version,
    )


class Workflow:
    def __init__(
        self,
        store: Store,
        engine: OwnershipEngine,
        calendar: WorkingCalendar,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        layer_version: str = "",
    ) -> None:
        self.store = store
        self.engine = engine
        self.calendar = calendar
        self.clock = clock
        self.layer_version = layer_version
        self._units: dict[str, frozenset[str]] = {}
        # told of every action once it is stored (the webhook's outbox, dispatch/notify.Outbox)
        self.listeners: list[Callable[[User, Case, str, str, datetime], None]] = []
        m = engine.city.matters.set_index("code")
        self.allowance = {code: parse_allowance(d, calendar) for code, d in m["deadline"].items()}
        # staged matters (私搭乱建: stop work -> penalty -> demolition): each stage has its own deadline
        self.stages: dict[str, list[tuple[str, float]]] = {}
        for code, text in (m["stages"] if "stages" in m.columns else pd.Series(dtype=str)).items():
            parts = [p.partition(":") for p in text.split(";") if p] if isinstance(text, str) else []
            if parts:
                self.stages[str(code)] = [(name, parse_allowance(a, calendar)) for name, _, a in parts]
                self.allowance[str(code)] = self.stages[str(code)][0][1]
        self.rules = {r.rule: r for r in engine.city.rules}

    # -- reporting ---------------------------------------------------------------------------------
    def report(
        self,
        actor: User,
        new: NewCase,
        photos: Sequence[Photo] = (),
        request: OpenRequest | None = None,
        public: bool = False,
    ) -> Case:
        """A new case from any source, with its ownership answer computed now by geo/, and its photos (already
        checked and kept on disk by dispatch/media.PhotoStore; `public`: they may be shown to anyone), and what an
        Open311 request brought besides (kept privately)."""
        check_count(list(photos), "report")
        owners = self.check_report(actor, new)
        new = self.routed(new, owners)
        now = self.clock()
        rows = [p.row(0, "report", actor.username, now, public=public) for p in photos]
        return self.store.create_case(new, owners, "reported", actor.username, now, rows, request)

    def owners(self, o: Ownership) -> Owners:
        """An answer of this workflow's engine as a case's record (with the layer versions it used)."""
        return owners_of(o, self.layer_version)

    def routed(self, new: NewCase, owners: Owners) -> NewCase:
        """A report as its deciding routing rule has it: urgent if the rule says so (a signboard matter on a
        premium segment); otherwise as reported."""
        rule = self.rules.get(owners.rule or "")
        return replace(new, urgency="urgent") if rule is not None and rule.urgency == "urgent" else new

    def work_seconds(self, case: Case, urgency: str) -> float:
        """The working time a case gets at filing: its matter's, halved when urgent, times its deciding routing
        rule's deadline factor (a controlled signboard segment shortens it)."""
        rule = self.rules.get(case.owners.rule or "")
        factor = rule.deadline_factor if rule is not None else 1.0
        return self.allowance[case.matter] * (0.5 if urgency == "urgent" else 1.0) * factor

    def check_report(self, actor: User, new: NewCase, owners: Owners | None = None) -> Owners:
        """Check a report and return its ownership answer (computed now unless given)."""
        check(actor, "action.report")
        check_text("description", new.description)
        check_text("reporter", new.reporter)
        if new.source not in SOURCES:
            raise Invalid(f"unknown source {new.source!r}; sources: {', '.join(SOURCES)}", code="report.source")
        if new.urgency not in URGENCIES:
            raise Invalid(f"unknown urgency {new.urgency!r}; use normal or urgent", code="report.urgency")
        if new.matter not in self.allowance:
            raise Invalid(f"unknown matter code {new.matter!r}", code="report.matter", matter=str(new.matter)[:8])
        if owners is None:
            owners = self.owners(self.engine.resolve(new.lon, new.lat, new.matter, new.reported_at))
        if owners.district is None:
            raise Invalid(f"({new.lon}, {new.lat}) lies outside the city", code="report.outside")
        check(actor, "action.report", Target(owners.district))
        if owners.flag in NO_CASE_FLAGS:
            raise Invalid(f"no case: {self.lawful_reason(owners, new.matter, new.reported_at)}", code="report.lawful")
        return owners

    def lawful_reason(self, owners: Owners, matter: str, at: datetime) -> str:
        """Why an ownership answer flagged lawful is no case: the rule, its zone and the zone's hours."""
        rule = next((r for r in self.engine.city.rules if r.rule == owners.rule), None)
        zone = rule.zone if rule is not None else "zone"
        zone_id = owners.zones.get(zone)
        where = f"{zone} {zone_id}"
        if zone in ZONE_LAYERS and zone_id:
            layer = self.engine.city.layers[ZONE_LAYERS[zone]].set_index("id")
            if zone_id in layer.index:
                row = layer.loc[zone_id]
                where += f" ({row['name']})" if "name" in layer.columns else ""
                where += f", open {row['hours']}" if "hours" in layer.columns else ""
        why = f" ({rule.reason_en})" if rule is not None else ""
        return f"{matter} at {at.astimezone(self.calendar.tz):%Y-%m-%d %H:%M} lies in {where}: lawful{why}"

    # -- every other action --------------------------------------------------------------------------
    def act(
        self,
        actor: User,
        case_id: int,
        action: str,
        version: int,
        reason: str = "",
        photos: Sequence[Photo] = (),
        **params: Any,
    ) -> Case:
        """Take `action` on a case the actor last saw at `version`, with the photos that document it."""
        case = self.store.get_case(case_id)
        if case.version != version:
            raise changed_by(case.case_no, case.updated_by, case.updated_at)
        stage = PHOTO_STAGE.get(action)
        if photos and stage is None:
            raise Invalid(f"{action} takes no photos", code="photo.not_here", action=action)
        check_count(list(photos), stage or "report")
        now = self.clock()
        changes = self.plan(actor, case, action, now, reason, **params)
        rows = [p.row(case_id, stage, actor.username, now) for p in photos] if stage else []
        steps: list[Step] = [(case_id, version, changes, action, reason)]
        if action == "merge":
            steps.append(self._merge_into(case, changes["duplicate_of"], int(params.get("into_version", -1))))
            rows += [replace(m, id=0, case_id=changes["duplicate_of"]) for m in self.store.media_of([case_id])]
        done = self.store.update_many(steps, actor.username, now, rows)[0]
        for listener in self.listeners:
            try:
                listener(actor, done, action, reason, now)
            except Exception:  # the action is stored: a failing listener must not report it as failed
                log.exception("a workflow listener failed after %s on case %s", action, done.case_no)
        return done

    def _merge_into(self, dup: Case, into_id: int, into_version: int) -> Step:
        """The step that counts a duplicate's reports into the case it repeats (which keeps its photos)."""
        into = self.store.get_case(into_id)
        if into_version != into.version:
            raise changed_by(into.case_no, into.updated_by, into.updated_at)
        changes = {"reports": into.reports + dup.reports}
        return (into.id, into.version, changes, "merge_in", f"{dup.case_no}")

    def inspectors(self, case: Case | CaseFacts) -> tuple[str, ...]:
        """Who patrols a case's cell (empty: nobody, so every inspector of its district may take its tasks)."""
        return self.store.inspectors_of([case.cell]).get(case.cell, ()) if case.cell else ()

    def tasks(self, user: User) -> list[Case]:
        """An inspector's verify and check tasks: cases waiting on site in their cells (or in cells nobody
        patrols, in their districts), oldest first."""
        found = self.store.cases(states=TASK_STATES, districts=user.districts or None)
        cells = {c.cell for c in found if c.cell}
        patrol = self.store.inspectors_of(sorted(cells))
        mine = [c for c in found if allows(user, f"action.{TASK_ACTION[c.state]}", self._target(c, patrol))]
        return sorted(mine, key=lambda c: c.updated_at)

    @staticmethod
    def _target(case: Case | CaseFacts, patrol: dict[str, tuple[str, ...]]) -> Target:
        assignee = case.assignee if isinstance(case, Case) else None
        return Target(case.district, assignee, patrol.get(case.cell or "", ()))

    def plan(
        self, actor: User, case: Case, action: str, now: datetime, reason: str = "", **params: Any
    ) -> dict[str, Any]:
        """The changes `action` makes to `case` at `now`, after every check; nothing is stored."""
        spec = ACTIONS.get(action)
        if spec is None:
            raise Invalid(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}", code="action.unknown")
        self._allowed(actor, case, spec, reason)
        self._check_params(case, spec, params)
        return self._changes(actor, case, spec, now, reason, params)

    def units_for(self, matter: str) -> frozenset[str]:
        """The units a case of `matter` may be dispatched to: the city's squads (unless the matter is for its
        departments only) and the matter's lead and supporting departments ("": every unit of the city)."""
        found = self._units.get(matter)
        if found is None:
            city = self.engine.city
            squads = set(city.layers["squads"]["id"].astype(str))
            if not matter:  # every unit of the city
                depts = set(city.departments["code"].astype(str))
            else:
                m = city.matters.set_index("code").loc[matter]
                depts = {str(m["lead_department"]), *str(m["supporting_departments"] or "").split(";")}
                squads = set() if m["squad_type"] == "none" else squads
            found = self._units[matter] = frozenset(u for u in squads | depts if u and u != "nan")
        return found

    def _check_params(self, case: Case, spec: Action, params: dict[str, Any]) -> None:
        """Parameters come from forms and APIs: check their types and values before anything uses them."""
        unit = params.get("unit")
        # besides the matter's own units, a case may go to the owner a returning unit named
        disputed = {f.split(":", 1)[1] for f in case.flags if f.startswith("disputed:")}
        if unit is not None and (not isinstance(unit, str) or unit not in self.units_for(case.matter) | disputed):
            shown = unit if isinstance(unit, str) else type(unit).__name__
            raise Invalid(
                f"cannot dispatch case {case.case_no} to {str(shown)[:40]!r}: not a unit that handles "
                f"matter {case.matter}",
                code="dispatch.unit",
                unit=str(shown)[:40],
                matter=case.matter,
            )
        owner = params.get("disputed_owner")
        if owner is not None:
            if not isinstance(owner, str):
                raise Invalid("disputed_owner must be text", code="param.type", name="disputed_owner")
            check_text("disputed_owner", owner)
            if owner not in self.units_for(""):
                raise Invalid(
                    f"disputed_owner {owner[:32]!r} is not a squad or department of this city",
                    code="dispatch.unit",
                    unit=owner[:32],
                    matter=case.matter,
                )
        urgency = params.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            raise Invalid(f"unknown urgency {str(urgency)[:16]!r}; use normal or urgent", code="report.urgency")
        refusal = params.get("refusal")
        if spec.name == "refuse" and refusal not in REFUSALS:
            raise Invalid(
                f"a refusal names its kind: {', '.join(REFUSALS)} ({str(refusal)[:24]!r} given)",
                code="refuse.kind",
                kinds=", ".join(REFUSALS),
            )
        if spec.name == "merge":
            into = params.get("into")
            if not isinstance(into, int) or isinstance(into, bool) or into == case.id:
                raise Invalid("a duplicate names the case it repeats (into=…)", code="merge.into")
        if "hours" in params:
            try:
                float(params["hours"])
            except (TypeError, ValueError):
                raise Invalid("hours must be a number", code="param.type", name="hours") from None

    def _allowed(self, actor: User, case: Case, spec: Action, reason: str) -> None:
        patrol = (
            {case.cell: self.inspectors(case)}
            if POLICY[f"action.{spec.name}"].grants.get(actor.role) is Scope.PATROL and case.cell
            else {}
        )
        check(actor, f"action.{spec.name}", self._target(case, patrol))
        if case.state not in spec.from_states:
            raise Invalid(
                f"cannot {spec.name} case {case.case_no}: it is {case.state}, "
                f"and {spec.name} needs {' or '.join(spec.from_states)}",
                code="action.state",
                action=spec.name,
                case_no=case.case_no,
                state=case.state,
            )
        if spec.needs_reason and not reason.strip():
            raise Invalid(f"{spec.name} needs a reason", code="action.needs_reason", action=spec.name)
        check_text("reason", reason)
        if spec.name in ("accept", "file") and case.state == "reported" and case.source != "supervisor":
            raise Invalid(
                f"case {case.case_no} came from {case.source}: send it to a supervisor to verify first",
                code="action.verify_first",
                case_no=case.case_no,
            )

    def _changes(
        self, actor: User, case: Case, spec: Action, now: datetime, reason: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        ch: dict[str, Any] = {}
        if spec.to_state is not None:
            ch["state"] = spec.to_state
        flags = list(case.flags)
        name = spec.name
        if name == "file":
            urgency = params.get("urgency") or case.urgency
            rule = self.rules.get(case.owners.rule or "")
            if rule is not None and rule.urgency == "urgent":
                urgency = "urgent"  # the routing table's word (a premium signboard segment): not the acceptor's
            if urgency != case.urgency:
                ch["urgency"] = urgency
            ch["filed_at"] = now
            ch["work_seconds"] = self.work_seconds(case, urgency)
        elif name == "verify_fail":
            flags.append("unconfirmed")
        elif name == "refuse":
            ch["closed_at"] = now
            flags.append(f"refused:{params['refusal']}")
        elif name == "merge":
            into = self.store.get_case(int(params["into"]))
            if into.duplicate_of is not None or into.state == "voided":
                raise Invalid(
                    f"case {into.case_no} is itself closed as a duplicate or void: merge into the case it joined",
                    code="merge.target",
                    case_no=into.case_no,
                )
            check(actor, "action.merge", Target(into.district))
            ch.update(closed_at=now, duplicate_of=into.id)
            flags.append("refused:duplicate")
        elif name == "relocate":
            lon, lat = params.get("lon"), params.get("lat")
            numbers = [v for v in (lon, lat) if isinstance(v, int | float) and not isinstance(v, bool)]
            if len(numbers) != 2:
                raise Invalid("a new position needs lon and lat as numbers", code="relocate.position")
            lon, lat = float(numbers[0]), float(numbers[1])
            owners = self.owners(self.engine.resolve(lon, lat, case.matter, case.reported_at))
            if owners.district is None:
                raise Invalid(f"({lon}, {lat}) lies outside the city", code="report.outside")
            check(actor, "action.relocate", Target(owners.district))
            ch.update(lon=lon, lat=lat, ownership=owners.to_json(), **owners.columns())
            flags = [f for f in flags if f != LOCATED_BY_AREA and f != case.owners.flag] + list(owners.flags)
        elif name == "rework":
            ch["closed_on_time"] = None
            flags.append("reworked")
        elif name == "dispatch":
            if not params.get("unit") and any(f in NO_CASE_FLAGS for f in case.flags):
                raise Invalid(
                    f"case {case.case_no} was reported where and when it is lawful ({', '.join(case.flags)}): "
                    "no unit is suggested; void it, or name the unit to dispatch to",
                    code="dispatch.lawful",
                    case_no=case.case_no,
                )
            unit = params.get("unit") or case.squad or case.lead_department
            if not unit:
                raise Invalid(
                    f"case {case.case_no} has no suggested owner: name the unit to dispatch to",
                    code="dispatch.no_owner",
                    case_no=case.case_no,
                )
            ch.update(
                assignee=unit,
                dispatched_at=now,
                deadline_at=self.calendar.add(now, case.work_seconds or self.allowance[case.matter]),
            )
        elif name == "feedback":
            stage, stages = self.stage(case)
            if stage < len(stages):
                raise Invalid(
                    f"case {case.case_no} is at stage {stage} of {len(stages)} ({stages[stage - 1][0]}): "
                    "complete the stages first",
                    code="action.stages_first",
                    case_no=case.case_no,
                    stage=stage,
                    stages=len(stages),
                )
            ch["closed_on_time"] = case.deadline_at is None or now <= case.deadline_at
        elif name == "complete_stage":
            stage, stages = self.stage(case)
            if stage >= len(stages):
                raise Invalid(
                    f"case {case.case_no} has no further stage: send feedback",
                    code="action.no_stage",
                    case_no=case.case_no,
                )
            _, allowance = stages[stage]
            flags = [f for f in flags if not f.startswith("stage:")] + [f"stage:{stage + 1}"]
            ch.update(deadline_at=self.calendar.add(now, allowance), work_seconds=allowance)
        elif name == "check_fail":
            flags.append("reworked")
        elif name == "close":
            self._check_quiet(case, now)
            ch["closed_at"] = now
        elif name == "fast_track":
            place = params.get("place")
            if not isinstance(place, int) or isinstance(place, bool):
                raise Invalid("a fast-track case names its chronic place (place=…)", code="chronic.place")
            ch.update(urgency="urgent", filed_at=now, work_seconds=self.allowance[case.matter] * 0.5)
            flags += [FAST_TRACK, f"{PLACE_FLAG}{place}"]
        elif name == "reopen":
            ch.update(closed_at=None, closed_on_time=None, filed_at=now, assignee=None, deadline_at=None,
                      dispatched_at=None, paused_at=None)  # fmt: skip
            flags.append("reopened")
        elif name == "request_return":
            if not params.get("disputed_owner"):
                raise Invalid(
                    "a return needs the owner the unit believes is responsible (disputed_owner)", code="return.owner"
                )
            flags.append(f"disputed:{params['disputed_owner']}")
        elif name == "approve_return":
            ch.update(assignee=None, deadline_at=None, dispatched_at=None)
            flags.append("returned")
        elif name == "request_extension":
            hours = float(params.get("hours", 0))
            if not 0 < hours <= 24 * 30:
                raise Invalid("an extension asks for 1 to 720 working hours (hours=…)", code="extension.hours")
            flags = [f for f in flags if not f.startswith("extension:")] + [f"extension:{hours:g}"]
        elif name == "approve_extension":
            hours = next((float(f.split(":")[1]) for f in flags if f.startswith("extension:")), 0.0)
            assert case.deadline_at is not None
            ch.update(
                deadline_at=self.calendar.add(case.deadline_at, hours * 3600),
                work_seconds=(case.work_seconds or 0) + hours * 3600,
            )
            flags = [f for f in flags if not f.startswith("extension:")] + ["extended"]
        elif name == "reject_extension":
            flags = [f for f in flags if not f.startswith("extension:")]
        elif name == "approve_park":
            ch["paused_at"] = now
        elif name == "unpark":
            assert case.paused_at is not None and case.deadline_at is not None
            # negative when parked overdue: the deadline stays that much working time in the past
            remaining = self.calendar.between(case.paused_at, case.deadline_at)
            ch.update(paused_at=None, deadline_at=self.calendar.add(now, remaining))
        elif name == "reject_void":
            ch["state"] = self._state_before_void(case)
        elif name == "approve_void":
            ch["closed_at"] = now
        elif name == "urge":
            flags.append("urged")
        elif name == "escalate":
            if "escalated" in flags:
                raise Invalid(f"case {case.case_no} is escalated already", code="escalate.again", case_no=case.case_no)
            flags.append("escalated")
        elif name == "self_handle":
            ch.update(closed_at=now, closed_on_time=True)
            flags.append("self_handled")
        if flags != list(case.flags):
            ch["flags"] = tuple(dict.fromkeys(flags))
        return ch

    def _check_quiet(self, case: Case, now: datetime) -> None:
        """A chronic place's fast-track case closes only after its quiet days without a recurrence."""
        place_id = next((f.removeprefix(PLACE_FLAG) for f in case.flags if f.startswith(PLACE_FLAG)), None)
        if FAST_TRACK not in case.flags or place_id is None or not place_id.isdigit():
            return
        place = self.store.get_chronic_place(int(place_id))
        until = place.last_at + timedelta(days=place.quiet_days)
        if now < until:
            raise Invalid(
                f"case {case.case_no} is a chronic place's fast-track case: the matter last recurred "
                f"{place.last_at.astimezone(self.calendar.tz):%Y-%m-%d %H:%M}; it closes after {place.quiet_days} "
                f"days without a recurrence ({until.astimezone(self.calendar.tz):%Y-%m-%d %H:%M})",
                code="chronic.not_quiet",
                case_no=case.case_no,
                days=place.quiet_days,
                until=f"{until.astimezone(self.calendar.tz):%Y-%m-%d %H:%M}",
            )

    def stage(self, case: Case) -> tuple[int, list[tuple[str, float]]]:
        """The stage a case is at (1-based) and its matter's stages ([] for an unstaged matter)."""
        stages = self.stages.get(case.matter, [])
        current = next((int(f.split(":")[1]) for f in case.flags if f.startswith("stage:")), 1)
        return (current if stages else 0), stages

    def _state_before_void(self, case: Case) -> str:
        for event in reversed(self.store.events(case.id)):
            if event.action == "request_void" and event.from_state:
                return event.from_state
        raise Invalid(f"case {case.case_no} has no void request to reject", code="void.none", case_no=case.case_no)

    # -- deadlines ---------------------------------------------------------------------------------
    def _clocks(
        self, cases: Sequence[Case | CaseFacts], now: datetime
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Working seconds left, at risk, overdue and which clock runs ("" none, "file", "dispatch", "handle")."""
        cal = self.calendar
        n = len(cases)
        state = np.array([c.state for c in cases], dtype=object)

        def seconds(values: Sequence[datetime | None]) -> np.ndarray:
            return np.array([np.nan if v is None else v.timestamp() for v in values], dtype=float)

        due = seconds([c.deadline_at for c in cases])
        now_s = np.full(n, now.timestamp())
        at = seconds([c.paused_at or now for c in cases])
        handle = ~np.isnan(due) & ~np.isin(state, (*CLOSED, *UNTIMED))
        waits = np.isnan(due)
        file = waits & np.isin(state, TO_FILE)
        since = np.where(file, seconds([c.reported_at for c in cases]), seconds([c.filed_at for c in cases]))
        dispatch = waits & np.isin(state, TO_DISPATCH) & ~np.isnan(since)
        step = file | dispatch
        # one interval per clock: the unit's runs from now (or the pause) to the deadline; a step's from its start
        a, b = np.where(handle, at, since), np.where(handle, due, now_s)
        timed = handle | step
        worked = np.full(n, np.nan)
        if timed.any():
            worked[timed] = cal.between_many(cal.clip_many(a[timed]), cal.clip_many(b[timed]))
        allowance = np.where(
            step,
            np.where(file, cal.file_s, cal.dispatch_s),
            np.array([c.work_seconds or 3600.0 for c in cases], dtype=float),
        )
        left = np.where(handle, worked, allowance - worked)
        risk_below = np.where(step, allowance / 5, np.maximum(allowance / 5, 3600.0))
        # Outside the calendar's declared years working time is not known (its Invalid says so where a deadline is
        # set); here the flags degrade instead: past the deadline instant is overdue; a step's working time is at
        # least what the declared years hold, so its `left` is a bound from above, the unit's from below
        known = cal.covers_many(a) & cal.covers_many(b)
        with np.errstate(invalid="ignore"):
            # the unit's clock: overdue once the deadline instant has passed, even outside working hours (a deadline
            # of 18:00 is missed at 22:00, although no working time has passed since)
            overdue = timed & (np.where(known | step, left < 0, b < a) | (handle & (b < a)))
            at_risk = timed & ~overdue & (~known & step | (left < risk_below))
        left[~known] = np.nan
        which = np.select([file, dispatch, handle], ["file", "dispatch", "handle"], "").astype(object)
        return left, at_risk, overdue, which

    def deadline_flags(
        self, cases: Sequence[Case | CaseFacts], now: datetime
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`deadline` for many cases at once: working seconds left (NaN where no clock runs, or where working time is
        not known), at risk, overdue. Counts the steps before dispatch (filing, dispatch) as well as the unit's."""
        left, at_risk, overdue, _ = self._clocks(cases, now)
        return left, at_risk, overdue

    def due(self, case: Case | CaseFacts) -> datetime | None:
        """The deadline of the clock that runs now: the unit's, or the filing or dispatch limit before dispatch
        (None where no clock runs, or where the limit would end outside the calendar's declared years)."""
        if case.deadline_at is not None:
            return case.deadline_at
        if case.state in TO_FILE:
            since, limit = case.reported_at, self.calendar.file_s
        elif case.state in TO_DISPATCH and case.filed_at is not None:
            since, limit = case.filed_at, self.calendar.dispatch_s
        else:
            return None
        try:
            return self.calendar.add(since, limit)
        except OutsideCalendar:
            return None

    def deadline(self, case: Case | CaseFacts, now: datetime | None = None) -> DeadlineStatus:
        """Deadline, working time left, at-risk and overdue, for the clock that runs: filing and dispatch (at risk
        under a fifth of their limit), then the unit's (under a fifth of the allowance, or an hour)."""
        (left,), (at_risk,), (overdue,), (step,) = self._clocks([case], now or self.clock())
        if not step:  # no clock runs: closed, the unit is done, or no deadline yet
            return DeadlineStatus(case.deadline_at, None, False, False, False)
        return DeadlineStatus(
            self.due(case),
            None if np.isnan(left) else float(left),
            bool(at_risk),
            bool(overdue),
            case.paused_at is not None,
            str(step),
        )
