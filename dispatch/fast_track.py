"""The chronic-problem fast track (疑难杂症快处快改): one run finds new chronic places and gives each ONE fast-track
case (reported by the system account from the source "superior", filed urgent at once, urged so the district
head and the unit see it); notes later repeats at a known place on its case; reopens a closed one when the
matter recurs; and marks places quiet once no recurrence came for their quiet days.

The run acts through the workflow like anyone else: the system account is an admin (the policy's grants on
fast_track, repeat, reopen and urge say what it may do). `xiuhua chronic detect` runs it, and so can the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.chronic import ChronicConfig, Place, counts, detect, near
from dispatch.workflow import Workflow
from store.errors import StoreError
from store.models import Case, CaseFacts, ChronicPlace, NewCase, User

SYSTEM = User(0, "system", "系统 (system)", "admin", (), None)
MAX_LISTED = 40  # case numbers a description or reason lists (the rest are counted)


@dataclass
class Outcome:
    """What a run found and did (with dry_run: what it would do)."""

    new: list[Place] = field(default_factory=list)
    created: list[ChronicPlace] = field(default_factory=list)
    attached: dict[int, list[int]] = field(default_factory=dict)  # place id -> repeats noted now
    reopened: list[int] = field(default_factory=list)
    quiet: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    failed: list[tuple[Place | ChronicPlace, str]] = field(default_factory=list)  # and why


def _listing(numbers: Sequence[str]) -> str:
    shown = ", ".join(numbers[:MAX_LISTED])
    return shown + (f" … (+{len(numbers) - MAX_LISTED})" if len(numbers) > MAX_LISTED else "")


def run(wf: Workflow, config: ChronicConfig, now: datetime, dry_run: bool = False,
        actor: User = SYSTEM) -> Outcome:  # fmt: skip
    """One pass of the fast track at `now` (nothing stored with dry_run)."""
    store, out = wf.store, Outcome()
    places = store.chronic_places()
    horizon = max(max(r.days, r.quiet_days) for r in (config.default, *config.classes.values()))
    since = min([now - timedelta(days=horizon), *(p.last_at for p in places)])
    facts = [c for c in store.case_facts(active_since=since) if counts(c)]
    by_id = {c.id: c for c in facts}
    by_matter: dict[str, list[CaseFacts]] = {}
    for c in facts:
        by_matter.setdefault(c.matter, []).append(c)
    taken = {i for p in places for i in p.case_ids}
    for place in places:
        repeats = _repeats(place, [c for c in by_matter.get(place.matter, []) if c.id not in taken], config)
        taken |= {c.id for c in repeats}
        if repeats:
            out.attached[place.id] = [c.id for c in repeats]
            if not dry_run:
                place = _attach(wf, place, repeats, now, actor, out)
        if place.fast_track_case_id is None and not dry_run:
            _open_case(wf, place, by_id, now, actor, out)
        _follow(wf, place, now, dry_run, out)
    out.new = detect([c for c in facts if c.id not in taken], now, config)
    if dry_run:
        return out
    for found in out.new:
        rule = config.rule(found.matter)
        place = store.add_chronic_place(
            ChronicPlace(0, found.matter, found.cell, found.district, found.lon, found.lat, None, found.case_ids,
                         found.first_at, found.last_at, "open", rule.quiet_days, rule.radius_m, now, now)
        )  # fmt: skip
        out.created.append(_open_case(wf, place, by_id, now, actor, out))
    return out


def _repeats(place: ChronicPlace, facts: list[CaseFacts], config: ChronicConfig) -> list[CaseFacts]:
    """Cases of the place's matter reported since it was found, in its cell or within its radius."""
    mine = [c for c in facts if c.matter == place.matter and c.reported_at >= place.first_at]
    return sorted(near(mine, place.lon, place.lat, place.cell, place.radius_m, config.metric_crs),
                  key=lambda c: c.reported_at)  # fmt: skip


def _attach(wf: Workflow, place: ChronicPlace, repeats: list[CaseFacts], now: datetime, actor: User,
            out: Outcome) -> ChronicPlace:  # fmt: skip
    """Count repeats into a place; note them on its fast-track case (reopening it if it had closed)."""
    last = max([place.last_at, *(c.reported_at for c in repeats)])
    place = wf.store.update_chronic_place(
        place.id, {"case_ids": (*place.case_ids, *(c.id for c in repeats)), "last_at": last, "state": "open"}, now
    )
    if place.fast_track_case_id is None:
        return place
    case = wf.store.get_case(place.fast_track_case_id)
    reason = f"chronic place {place.id}: recurred ({_listing([c.case_no for c in repeats])})"
    action = "reopen" if case.state == "closed" else "repeat"
    if case.state == "voided":
        return place
    try:
        wf.act(actor, case.id, action, case.version, reason=reason[:1000])
    except StoreError as exc:
        out.failed.append((place, str(exc)))
        return place
    if action == "reopen":
        out.reopened.append(place.id)
    return place


def _open_case(wf: Workflow, place: ChronicPlace, by_id: dict[int, CaseFacts], now: datetime, actor: User,
               out: Outcome) -> ChronicPlace:  # fmt: skip
    """The place's one fast-track case: reported at the repeat nearest its centre, filed urgent, urged."""
    repeats: list[CaseFacts | Case] = []
    for i in place.case_ids:  # the run's facts, or (a place resumed long after) the store's cases
        try:
            repeats.append(by_id[i] if i in by_id else wf.store.get_case(i))
        except StoreError:
            continue
    if not repeats:
        out.failed.append((place, "its repeats are no longer stored"))
        return place
    at = min(repeats, key=lambda c: (c.lon - place.lon) ** 2 + (c.lat - place.lat) ** 2)
    listed = _listing([c.case_no for c in repeats])
    text = f"疑难杂症快处快改 chronic place {place.id}: {len(place.case_ids)} reports of {place.matter}: {listed}"
    try:
        case = wf.report(actor, NewCase(place.matter, at.lon, at.lat, "superior", now, text[:2000], "urgent"))
        case = wf.act(actor, case.id, "fast_track", case.version, place=place.id)
        reason = f"chronic place {place.id} ({place.cell or '—'}): {len(place.case_ids)} reports, {listed}"
        wf.act(actor, case.id, "urge", case.version, reason=reason[:1000])
    except StoreError as exc:
        out.failed.append((place, str(exc)))
        return place
    return wf.store.update_chronic_place(place.id, {"fast_track_case_id": case.id}, now)


def _follow(wf: Workflow, place: ChronicPlace, now: datetime, dry_run: bool, out: Outcome) -> None:
    """A place follows its case: closed when the case closed, quiet once its quiet days passed."""
    if place.fast_track_case_id is None:
        return
    case = wf.store.get_case(place.fast_track_case_id)
    quiet = now >= place.last_at + timedelta(days=place.quiet_days)
    state = "closed" if case.state in ("closed", "voided") else "quiet" if quiet else "open"
    if state != place.state:
        (out.closed if state == "closed" else out.quiet if state == "quiet" else []).append(place.id)
        if not dry_run:
            wf.store.update_chronic_place(place.id, {"state": state}, now)
