"""The access policy as a full matrix: every entry against every role, in scope and out, allowed and refused.

The expected grants are written out here by hand (from the bureau's roles, REFERENCE.md §4), not read from
dispatch/policy.py, so a role that the code allows too much fails here.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely

from dispatch.calendar import WorkingCalendar
from dispatch.policy import POLICY, Target, allows, check
from dispatch.workflow import ACTIONS, Workflow
from store.errors import Forbidden, Invalid
from store.models import ROLES, NewCase, User

CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # a Thursday morning in Xiamen

# who may open one case (its page and photos)
CASE_VIEWERS = {
    **dict.fromkeys(("admin", "shift_lead", "dispatcher", "acceptor", "district_head", "supervisor"), "district"),
    "unit": "assignee",
}
# entry -> {role: "district" | "assignee" | "patrol"}; a role that is not listed is refused
EXPECTED = {
    "page.wall": dict.fromkeys(("wall", "admin", "shift_lead", "dispatcher", "acceptor"), "district"),
    "page.dispatch": dict.fromkeys(("dispatcher", "shift_lead", "admin"), "district"),
    "page.district": dict.fromkeys(("district_head", "admin", "shift_lead", "dispatcher"), "district"),
    "page.field": {"supervisor": "district"},
    "page.intake": dict.fromkeys(("acceptor", "shift_lead", "admin"), "district"),
    "page.unit": {"unit": "district"},
    "page.case": CASE_VIEWERS,
    "page.scores": dict.fromkeys(("district_head", "shift_lead", "admin"), "district"),
    "route.scores.people": dict.fromkeys(("shift_lead", "admin"), "district"),
    "page.chronic": dict.fromkeys(("district_head", "shift_lead", "dispatcher", "admin"), "district"),
    "page.model": dict.fromkeys(("district_head", "shift_lead", "dispatcher", "admin"), "district"),
    "page.campaigns": dict.fromkeys(("district_head", "shift_lead", "dispatcher", "admin"), "district"),
    "action.campaign_create": dict.fromkeys(("shift_lead", "admin"), "district"),
    "route.photo": CASE_VIEWERS,
    "route.pages": dict.fromkeys(ROLES, "district"),
    "route.map": dict.fromkeys(
        ("wall", "admin", "shift_lead", "dispatcher", "acceptor", "district_head", "unit"), "district"
    ),
    "export.district": dict.fromkeys(("district_head", "admin", "shift_lead", "dispatcher"), "district"),
    "action.report": {"supervisor": "district", "acceptor": "district", "admin": "district"},
    "action.send_verify": {"acceptor": "district"},
    "action.verify": {"supervisor": "patrol"},
    "action.verify_fail": {"supervisor": "patrol"},
    "action.accept": {"acceptor": "district"},
    "action.file": {"acceptor": "district", "shift_lead": "district"},
    "action.refuse": {"acceptor": "district", "shift_lead": "district"},
    "action.merge": {"acceptor": "district", "shift_lead": "district"},
    "action.relocate": {"acceptor": "district", "shift_lead": "district"},
    "action.dispatch": {"dispatcher": "district"},
    "action.feedback": {"unit": "assignee"},
    "action.complete_stage": {"unit": "assignee"},
    "action.send_check": {"acceptor": "district", "shift_lead": "district"},
    "action.check_pass": {"supervisor": "patrol"},
    "action.check_fail": {"supervisor": "patrol"},
    "action.close": {"acceptor": "district", "shift_lead": "district"},
    "action.rework": {"acceptor": "district", "shift_lead": "district"},
    "action.request_return": {"unit": "assignee"},
    "action.approve_return": {"dispatcher": "district"},
    "action.reject_return": {"dispatcher": "district"},
    "action.request_extension": {"unit": "assignee"},
    "action.approve_extension": {"dispatcher": "district"},
    "action.reject_extension": {"dispatcher": "district"},
    "action.request_park": {"unit": "assignee"},
    "action.approve_park": {"dispatcher": "district"},
    "action.reject_park": {"dispatcher": "district"},
    "action.unpark": {"dispatcher": "district"},
    "action.request_void": {"acceptor": "district", "dispatcher": "district", "unit": "assignee"},
    "action.approve_void": {"shift_lead": "district"},
    "action.reject_void": {"shift_lead": "district"},
    "action.urge": dict.fromkeys(("supervisor", "shift_lead", "dispatcher", "district_head", "admin"), "district"),
    "action.self_handle": {"supervisor": "district"},
    "action.escalate": {"shift_lead": "district"},
    "action.fast_track": {"admin": "district"},  # the system account (dispatch/fast_track.SYSTEM)
    "action.repeat": {"admin": "district"},
    "action.reopen": {"admin": "district", "shift_lead": "district"},
}
NEEDS_DISTRICT = {"page.district", "export.district"}


def user(role, districts=(), unit=None, name=None):
    return User(0, name or role, "", role, tuple(districts), unit)


def test_the_policy_declares_exactly_the_expected_entries():
    assert set(POLICY) == set(EXPECTED)
    assert {f"action.{a}" for a in ACTIONS} <= set(POLICY)


@pytest.mark.parametrize("what", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_entry(what, role):
    grant = EXPECTED[what].get(role)
    unit = "SQ350203001" if role == "unit" else None
    inside = Target("350203", "SQ350203001")
    anywhere = user(role, unit=unit)
    scoped = user(role, ("350203",), unit)
    if grant is None:  # refused whatever the scope
        for u in (anywhere, scoped):
            assert not allows(u, what, inside)
            with pytest.raises(Forbidden) as exc:
                check(u, what, inside)
            assert exc.value.code == "policy.role"
        return
    assert allows(anywhere, what, inside) and allows(scoped, what, inside)
    # out of the account's districts: refused
    assert not allows(scoped, what, Target("350206", "SQ350203001"))
    assert allows(anywhere, what, Target("350206", "SQ350203001"))
    # a case outside every district is only for accounts that cover the whole city
    if what not in NEEDS_DISTRICT:
        assert not allows(scoped, what, Target(None, "SQ350203001"))
    if grant == "assignee":  # only on cases assigned to the account's own unit
        assert not allows(anywhere, what, Target("350203", "SQ350203003"))
        assert not allows(anywhere, what, Target("350203", None))
        assert not allows(user(role), what, inside)  # a unit account without a unit
    else:
        assert allows(scoped, what, Target("350203", "SQ350203003"))
    if grant == "patrol":  # only in cells the inspector patrols, or that nobody patrols
        assert allows(scoped, what, Target("350203", None, (role, "someone")))
        assert not allows(scoped, what, Target("350203", None, ("someone",)))
        with pytest.raises(Forbidden) as exc:
            check(scoped, what, Target("350203", None, ("someone",)))
        assert exc.value.code == "policy.patrol"
    else:  # who patrols a cell matters to nobody else
        assert allows(scoped, what, Target("350203", "SQ350203001", ("someone",)))
    if what in NEEDS_DISTRICT:  # an entry about one district refuses a request that names none
        for target in (None, Target(None), Target("")):
            assert not allows(anywhere, what, target)
        assert check(anywhere, what, inside) is None
    # nobody signed in, or a disabled account: refused
    assert not allows(None, what, inside)
    assert not allows(User(0, "x", "", role, (), unit, active=False), what, inside)


def test_unknown_entries_and_odd_targets_are_refused():
    admin = user("admin")
    assert not allows(admin, "page.secret")
    assert not allows(admin, "page.district", Target(["350203"]))  # type: ignore[arg-type]


# -- the workflow asks the same policy: every action × every kind of account, on both stores ----------------
PATHS = {  # how to bring a case to each state, from "reported"
    "reported": [],
    "verifying": [("acc", "send_verify")],
    "accepted": [("acc", "accept")],
    "filed": [("acc", "accept"), ("lead", "file")],
    "dispatched": [("acc", "accept"), ("lead", "file"), ("disp", "dispatch")],
}
PATHS["return_requested"] = [*PATHS["dispatched"], ("unit", "request_return")]
PATHS["extension_requested"] = [*PATHS["dispatched"], ("unit", "request_extension")]
PATHS["park_requested"] = [*PATHS["dispatched"], ("unit", "request_park")]
PATHS["parked"] = [*PATHS["park_requested"], ("disp", "approve_park")]
PATHS["void_requested"] = [("acc", "request_void")]
PATHS["handled"] = [*PATHS["dispatched"], ("unit", "feedback")]
PATHS["checking"] = [*PATHS["handled"], ("acc", "send_check")]
PATHS["checked"] = [*PATHS["checking"], ("sup", "check_pass")]
PATHS["closed"] = [*PATHS["checked"], ("lead", "close")]
PARAMS = {
    "request_return": {"disputed_owner": "SZYL"},
    "request_extension": {"hours": 4},
    "refuse": {"refusal": "not_a_case"},
    "fast_track": {"place": 1},
}
# where a unit's grant is tested too
START_STATE = {"request_void": "dispatched", "urge": "dispatched", "escalate": "dispatched"}


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def world(store, engine, city):
    wf = Workflow(store, engine, CAL, Clock())
    cells = city.layers["grid_cells"]
    cell = cells[cells["district_code"] == "350203"].iloc[200]
    p = shapely.point_on_surface(cell.geometry)
    squad = f"SQ{cell['subdistrict_code']}"
    people = {
        "sup": store.add_user("sup", "password1", "supervisor", ["350203"]),
        "acc": store.add_user("acc", "password1", "acceptor"),
        "lead": store.add_user("lead", "password1", "shift_lead"),
        "disp": store.add_user("disp", "password1", "dispatcher"),
        "unit": store.add_user("unit", "password1", "unit", unit=squad),
        "other_unit": store.add_user("other", "password1", "unit", unit="SQ350206001"),
        "head": store.add_user("head", "password1", "district_head", ["350203"]),
        "head_huli": store.add_user("head2", "password1", "district_head", ["350206"]),
        "disp_huli": store.add_user("disp2", "password1", "dispatcher", ["350206"]),
        "wall": store.add_user("wall", "password1", "wall"),
        "admin": store.add_user("admin", "password1", "admin"),
    }
    return wf, people, (p.x, p.y), squad


def _case_in(wf, people, point, squad, state, matter):
    case = wf.report(people["sup"], NewCase(matter, point[0], point[1], "supervisor", START))
    for who, action in PATHS[state]:
        params = {"unit": squad} if action == "dispatch" else PARAMS.get(action, {})
        case = wf.act(people[who], case.id, action, case.version, reason="because", **params)
    return case


@pytest.mark.slow
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_account_against_every_action(world, action):
    wf, people, point, squad = world
    spec = ACTIONS[action]
    state = START_STATE.get(action, spec.from_states[0])
    matter = "06001" if action == "complete_stage" else "06036"  # 06001 has stages
    allowed = set()
    for who, account in people.items():
        case = _case_in(wf, people, point, squad, state, matter)
        grant = EXPECTED[f"action.{action}"].get(account.role)
        in_scope = account.covers(case.district) and (grant != "assignee" or case.assignee == account.unit)
        params = dict(PARAMS.get(action, {}))
        if action == "relocate":  # placed a little further along
            params.update(lon=point[0], lat=point[1])
        if action == "merge":  # a duplicate of another case
            into = _case_in(wf, people, point, squad, "filed", matter)
            params.update(into=into.id, into_version=into.version)
        if action == "relocate":  # placed exactly, at the same point
            params.update(lon=point[0], lat=point[1])
        try:
            after = wf.act(account, case.id, action, case.version, reason="because", **params)
        except Forbidden:
            assert not (grant and in_scope), f"{who} was refused {action}"
            continue
        assert grant and in_scope, f"{who} ({account.role}) was allowed {action}"
        assert after.version == case.version + 1
        allowed.add(who)
    assert allowed, f"nobody may {action}"


@pytest.mark.slow
def test_requests_for_reports_are_checked_too(world):
    wf, people, point, _ = world
    new = NewCase("06036", point[0], point[1], "supervisor", START)
    for who in ("unit", "disp", "lead", "head", "wall"):
        with pytest.raises(Forbidden):
            wf.report(people[who], new)
    with pytest.raises(Forbidden):  # a supervisor of Huli may not report in Siming
        wf.report(wf.store.add_user("sup2", "password1", "supervisor", ["350206"]), new)
    for who in ("sup", "acc", "admin"):
        assert wf.report(people[who], new).state == "reported"


@pytest.mark.slow
def test_a_unit_may_not_ask_to_void_what_is_not_its_own(world):
    wf, people, point, squad = world
    filed = _case_in(wf, people, point, squad, "filed", "06036")  # not dispatched: no assignee
    with pytest.raises(Forbidden, match="assigned to None"):
        wf.act(people["unit"], filed.id, "request_void", filed.version, reason="not ours")
    theirs = _case_in(wf, people, point, squad, "dispatched", "06036")
    with pytest.raises(Forbidden):
        wf.act(people["other_unit"], theirs.id, "request_void", theirs.version, reason="not ours")
    assert wf.act(people["unit"], theirs.id, "request_void", theirs.version, reason="dup").state == "void_requested"


@pytest.mark.slow
def test_dispatch_takes_only_units_of_the_city_that_handle_the_matter(world):
    wf, people, point, squad = world
    for bogus in ("NOBODY", "<b>x</b>", "=1+1", "X" * 40, ["SQ350203001"], {"unit": "CGJ"}, 7):
        case = _case_in(wf, people, point, squad, "filed", "06036")
        with pytest.raises(Invalid) as exc:
            wf.act(people["disp"], case.id, "dispatch", case.version, unit=bogus)
        assert exc.value.code == "dispatch.unit"
        assert wf.store.get_case(case.id).state == "filed"
    case = _case_in(wf, people, point, squad, "filed", "06036")
    assert wf.act(people["disp"], case.id, "dispatch", case.version, unit="SQ350206001").assignee == "SQ350206001"
    # a matter for departments only (squad type none) takes its departments, not a squad
    dept_only = wf.engine.city.matters.query("squad_type == 'none'").iloc[0]
    case = _case_in(wf, people, point, squad, "filed", dept_only["code"])
    with pytest.raises(Invalid):
        wf.act(people["disp"], case.id, "dispatch", case.version, unit=squad)
    lead = dept_only["lead_department"]
    assert wf.act(people["disp"], case.id, "dispatch", case.version, unit=lead).assignee == lead


@pytest.mark.slow
def test_free_text_has_limits(world):
    wf, people, point, squad = world
    case = _case_in(wf, people, point, squad, "dispatched", "06036")
    with pytest.raises(Invalid, match="at most 1000"):
        wf.act(people["disp"], case.id, "urge", case.version, reason="x" * 20_000_000)
    with pytest.raises(Invalid, match="control character"):
        wf.act(people["disp"], case.id, "urge", case.version, reason="a\x00b")
    assert len(wf.store.events(case.id)) == len(PATHS["dispatched"]) + 1  # nothing was logged
    with pytest.raises(Invalid, match="description"):
        wf.report(people["sup"], NewCase("06036", point[0], point[1], "supervisor", START, "d" * 2001))
