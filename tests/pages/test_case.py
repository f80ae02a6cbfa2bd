"""/case/<id>: the layout of a case with a full history, and who may open it."""

from __future__ import annotations

import json
import re

import pytest

from tests.pages.test_callbacks import page, signed_in
from web.services import KEY

pytestmark = pytest.mark.slow


def text(component) -> str:
    return json.dumps(component.to_plotly_json(), default=lambda o: o.to_plotly_json(), ensure_ascii=False)


def by_id(component, ident: str):
    if getattr(component, "id", None) == ident:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            found = by_id(child, ident)
            if found is not None:
                return found
    return None


@pytest.fixture(scope="module")
def closed(app):
    """A closed case with photos at every step it took, assigned to a unit that has an account."""
    svc = app.server.config[KEY]
    units = {u.unit for u in svc.store.list_users() if u.role == "unit"}
    cases = [c for c in svc.store.cases(states=["closed"]) if c.assignee in units and c.source == "supervisor"]
    case = next(c for c in cases if {m.stage for m in svc.store.media_of([c.id])} >= {"report", "feedback", "check"})
    other_unit = sorted(units - {case.assignee})[0]
    other_district = next(d for d in sorted(svc.layers.names["districts"]) if d != case.district)
    return case, other_unit, other_district


def test_a_closed_case_shows_its_timeline_photos_and_owners(app, closed):
    case, *_ = closed
    svc = app.server.config[KEY]
    with signed_in(app, "dispatcher"):
        layout = page("case").layout(case_id=str(case.id))
    body = text(layout)
    assert by_id(layout, "case-no").children == case.case_no
    # the timeline: every event in order, each action by its Chinese name, state before → after
    events = svc.store.events(case.id)
    rows = text(by_id(layout, "case-timeline"))
    names = {"report": "上报", "accept": "受理", "file": "立案", "dispatch": "派遣", "feedback": "处置反馈",
             "send_check": "派发核查", "check_pass": "核查通过", "close": "结案"}  # fmt: skip
    positions = [rows.index(f"case-step-{k}") for k in range(len(events))]
    assert positions == sorted(positions) and by_id(layout, f"case-step-{len(events)}") is None
    for k, e in enumerate(events):
        if e.action in names:
            assert names[e.action] in text(by_id(layout, f"case-step-{k}"))
    assert "已派遣 → 已处置" in rows
    assert "处置单位" in rows  # the dispatch's change of unit, by its name
    # photos by step, synthetic ones labelled, thumbnails linking to the full photo
    for stage, title in (("report", "上报照片"), ("feedback", "处置反馈照片"), ("check", "核查照片")):
        block = text(by_id(layout, f"case-photos-{stage}"))
        assert title in block and "合成演示照片" in block
        assert re.search(r'"/photos/[0-9a-f]{64}/thumb"', block) and re.search(r'"/photos/[0-9a-f]{64}"', block)
    # owners by name, and the deciding rule in words
    owners = text(by_id(layout, "case-owners"))
    assert "区" in owners and case.cell in owners
    assert by_id(layout, "case-rule") is not None and "已结案" in body


def test_the_case_is_hidden_from_another_unit_and_another_districts_head(app, closed):
    case, other_unit, other_district = closed
    for who in (f"unit.{other_unit}", f"head.{other_district}"):
        with signed_in(app, who):
            hidden = page("case").layout(case_id=str(case.id))
        assert hidden.id == "case-missing", who
        assert case.case_no not in text(hidden)  # nothing of the case leaks
    with signed_in(app, f"unit.{case.assignee}"):
        assert by_id(page("case").layout(case_id=str(case.id)), "case-no").children == case.case_no
    with signed_in(app, f"head.{case.district}"):
        assert by_id(page("case").layout(case_id=str(case.id)), "case-no") is not None
    with signed_in(app, "wall"):
        assert page("case").layout(case_id=str(case.id)).id == "forbidden"


@pytest.mark.parametrize("raw", ["999999999", "0", "abc", "", "1" * 40])
def test_an_unknown_case_says_so_the_same_way(app, raw):
    with signed_in(app, "dispatcher"):
        layout = page("case").layout(case_id=raw)
    assert layout.id == "case-missing" and "没有" in text(layout)
