"""The steps issue 10 added to the loop, on both stores: photos with reports and actions, refusals, merging a
duplicate, verification not confirmed, rework, and inspectors' tasks by patrol cells."""

import io

import pytest
from PIL import Image

from dispatch.media import PhotoStore
from store.errors import Conflict, Forbidden, Invalid
from tests.dispatch.test_workflow import new, run

pytestmark = pytest.mark.slow


def jpeg(colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def photos(tmp_path):
    return PhotoStore(tmp_path / "media")


def test_photos_go_with_the_report_and_the_steps(flow, photos):
    wf, _, u, p, _ = flow
    case = wf.report(u["sup"], new(p), [photos.save(jpeg())])
    case = run(wf, case, (u["acc"], "file", {"urgency": "urgent"}), (u["disp"], "dispatch", {}))
    assert case.urgency == "urgent"
    fixed = photos.save(jpeg((20, 200, 20)))
    case = wf.act(u["unit"], case.id, "feedback", case.version, "cleaned up", [fixed])
    case = wf.act(u["sup"], case.id, "check_pass", case.version, "", [photos.save(jpeg((0, 0, 200)))])
    assert case.state == "checked"
    assert [m.stage for m in wf.store.media_of([case.id])] == ["report", "feedback", "check"]
    with pytest.raises(Invalid) as exc:  # closing takes no photo
        wf.act(u["acc"], case.id, "close", case.version, "", [fixed])
    assert exc.value.code == "photo.not_here"
    with pytest.raises(Invalid) as exc:
        wf.report(u["sup"], new(p), [fixed] * 7)
    assert exc.value.code == "photo.count"
    assert wf.act(u["acc"], case.id, "close", case.version).state == "closed"


def test_a_public_report_is_verified_before_it_is_filed(flow):
    wf, _, u, p, _ = flow
    case = wf.report(u["acc"], new(p, source="hotline"))
    with pytest.raises(Invalid) as exc:
        wf.act(u["acc"], case.id, "file", case.version)
    assert exc.value.code == "action.verify_first"
    case = run(wf, case, (u["acc"], "send_verify", {}))
    case = wf.act(u["sup"], case.id, "verify_fail", case.version, "nothing there")
    assert case.state == "reported" and "unconfirmed" in case.flags
    case = wf.act(u["acc"], case.id, "refuse", case.version, "not found on site", refusal="not_a_case")
    assert case.state == "voided" and "refused:not_a_case" in case.flags and case.closed_at is not None
    with pytest.raises(Invalid) as exc:
        other = wf.report(u["acc"], new(p, source="hotline"))
        wf.act(u["acc"], other.id, "refuse", other.version, "x", refusal="because")
    assert exc.value.code == "refuse.kind"


def test_a_duplicate_is_merged_into_its_case(flow, photos):
    wf, _, u, p, _ = flow
    first = run(wf, wf.report(u["sup"], new(p), [photos.save(jpeg())]), (u["acc"], "file", {}))
    dup = wf.report(u["sup"], new(p), [photos.save(jpeg((1, 2, 3)))])
    with pytest.raises(Conflict):  # the case it repeats changed since the acceptor saw it
        wf.act(u["acc"], dup.id, "merge", dup.version, into=first.id, into_version=first.version - 1)
    assert wf.store.get_case(dup.id).state == "reported"
    merged = wf.act(u["acc"], dup.id, "merge", dup.version, into=first.id, into_version=first.version)
    assert merged.state == "voided" and merged.duplicate_of == first.id and "refused:duplicate" in merged.flags
    target = wf.store.get_case(first.id)
    assert target.reports == 2 and target.state == "filed"
    assert len(wf.store.media_of([first.id])) == 2  # it keeps the reporter's photo
    assert wf.store.events(first.id)[-1].action == "merge_in"
    third = wf.report(u["sup"], new(p))
    with pytest.raises(Invalid) as exc:  # not into a case that is itself a duplicate
        wf.act(u["acc"], third.id, "merge", third.version, into=dup.id, into_version=merged.version)
    assert exc.value.code == "merge.target"
    for bad in (None, "7", third.id, True):
        with pytest.raises(Invalid):
            wf.act(u["acc"], third.id, "merge", third.version, into=bad, into_version=1)


def test_rework_goes_back_to_the_unit(flow):
    wf, _, u, p, _ = flow
    case = wf.report(u["sup"], new(p))
    case = run(wf, case, (u["acc"], "file", {}), (u["disp"], "dispatch", {}), (u["unit"], "feedback", {}))
    case = run(wf, case, (u["sup"], "check_pass", {}))
    with pytest.raises(Invalid):
        wf.act(u["acc"], case.id, "rework", case.version)  # needs a reason
    case = wf.act(u["acc"], case.id, "rework", case.version, "the pavement is still broken")
    assert case.state == "dispatched" and case.assignee is not None and "reworked" in case.flags


def test_tasks_go_to_the_inspector_whose_cells_hold_the_case(flow):
    wf, _, u, p, _ = flow
    store = wf.store
    case = run(wf, wf.report(u["acc"], new(p, source="hotline")), (u["acc"], "send_verify", {}))
    other = store.add_user("sup.other", "password1", "supervisor", ["350203"])
    huli = store.add_user("sup.huli", "password1", "supervisor", ["350206"])
    # nobody patrols the cell: every inspector of the district has the task
    assert [c.id for c in wf.tasks(u["sup"])] == [case.id] == [c.id for c in wf.tasks(other)]
    assert wf.tasks(huli) == []
    store.set_patrol_cells("sup.other", [case.cell])
    assert wf.tasks(u["sup"]) == [] and [c.id for c in wf.tasks(other)] == [case.id]
    with pytest.raises(Forbidden) as exc:
        wf.act(u["sup"], case.id, "verify", case.version)
    assert exc.value.code == "policy.patrol"
    assert wf.act(other, case.id, "verify", case.version).state == "accepted"


def test_a_deadline_passed_after_hours_is_overdue(flow):
    # found in a walkthrough: a unit's case due at 18:00 showed "0.0 working hours left", not overdue, at 22:58
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    wf, _, u, p, _ = flow
    case = run(wf, wf.report(u["sup"], new(p)), (u["acc"], "file", {}), (u["disp"], "dispatch", {}))
    case = replace(case, deadline_at=datetime(2026, 11, 26, 10, 0, tzinfo=UTC))  # Thursday 18:00 in Xiamen
    evening = case.deadline_at + timedelta(hours=4)  # after the working day: no working time since the deadline
    assert wf.calendar.between(case.deadline_at, evening) == 0
    status = wf.deadline(case, evening)
    assert status.overdue and not status.at_risk
    assert not wf.deadline(case, case.deadline_at - timedelta(minutes=1)).overdue
