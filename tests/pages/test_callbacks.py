"""Callbacks called as plain functions inside a request of a signed-in user (no browser)."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import dash
import flask
import pytest
from dash import html
from dash.exceptions import PreventUpdate

from web.auth import Denied

pytestmark = pytest.mark.slow


@contextmanager
def signed_in(app, username):
    from datetime import UTC, datetime

    from web.services import services

    with app.server.test_request_context():
        flask.session["sid"] = services().store.start_session(username, datetime.now(UTC))
        yield sys.modules


def page(name):
    return sys.modules[f"pages.{name}"]  # Dash imported the page modules when the app was made


def test_wall_figures_need_a_wall_role(app):
    with signed_in(app, "wall"):
        kpis, league, top, feed, updated = page("wall").refresh_figures(None)
        assert len(kpis) == 7 and feed and league and top and updated
    with signed_in(app, "head.350203"), pytest.raises(Denied):
        page("wall").refresh_figures(None)


def test_dispatch_select_show_submit_and_conflict(app):
    from web.services import KEY

    store = app.server.config[KEY].store
    case = store.cases(states=["filed"])[-1]
    console = page("console")
    with signed_in(app, "dispatcher"):
        # a click on a cluster selects nothing; a click on an incident selects it (the map stays where it is)
        with pytest.raises(PreventUpdate):
            _select(console, None, {"properties": {"cluster": True, "point_count": 4}}, "dispatch-cases")
        assert _select(console, None, {"properties": {"id": case.id}}, "dispatch-cases") == ({"id": case.id}, NO)
        panel, actions, first, units, suggested, version, _message, _reason = console.show({"id": case.id})
        assert panel and {"label": "派遣", "value": "dispatch"} in actions
        assert first == "dispatch" and version == case.version and units[0]["value"] == suggested
        msg, changed, selected = console.submit(1, {"id": case.id}, "dispatch", suggested, "", 0, version)
        assert "ok" in str(msg) and changed == 1 and selected["id"] == case.id
        # the same form again, from the version it showed: a plain conflict, and the panel reloads
        msg, changed, selected = console.submit(1, {"id": case.id}, "dispatch", suggested, "", 1, version)
        assert "conflict" in str(msg) and changed == 2
    with signed_in(app, "wall"), pytest.raises(Denied):
        console.submit(1, {"id": case.id}, "dispatch", suggested, "", 0, version)


NO = dash.no_update


def test_after_an_action_nothing_is_preselected(app):
    # issue 9, item 5: after a dispatch the panel reloads the dispatched case, whose first action is "ask to
    # void"; a habitual second click on Submit must find no action chosen (and the message of the dispatch stays)
    from web.services import KEY

    store = app.server.config[KEY].store
    case = store.cases(states=["filed"])[-2]
    console = page("console")
    with signed_in(app, "dispatcher"):
        *_, first, _units, suggested, version, message, reason = console.show({"id": case.id})
        assert first == "dispatch" and message is None and reason == ""  # a fresh pick clears a stale message
        msg, _changed, selected = console.submit(1, {"id": case.id}, "dispatch", suggested, "", 0, version)
        assert "ok" in str(msg)
        _panel, actions, first, *_, message, reason = console.show(selected)
        assert "request_void" in [a["value"] for a in actions]
        assert first is None and message is NO and reason == ""
        # picked afresh, a dispatched case pre-selects nothing either: asking to void is never the default
        _panel, actions, first, *_ = console.show({"id": case.id})
        assert actions and first is None
        # "select a case and an action first", then a case is picked: the error goes
        msg, *_ = console.submit(1, None, None, None, "", 0, None)
        assert "error" in str(msg)
        # any case picked afresh (the filed ones may all be dispatched by now: other tests act on this store)
        *_, message, _reason = console.show({"id": store.cases(limit=3)[-1].id})
        assert message is None


def test_picking_in_the_queue_flies_the_map_to_the_case(app):
    from web.services import KEY

    store = app.server.config[KEY].store
    case = store.cases(states=["filed"])[0]
    console = page("console")
    with signed_in(app, "dispatcher"):
        cell = {"row": 0, "column": 0, "column_id": "no", "row_id": case.id}
        selected, viewport = _select(console, cell, None, "dispatch-queue", "active_cell")
        assert selected == {"id": case.id}
        assert viewport["transition"] == "flyTo" and viewport["zoom"] >= 18  # above the clusters' last zoom
        assert viewport["center"] == pytest.approx([case.lat, case.lon])
    with signed_in(app, "head.350203"), pytest.raises(Denied):
        _select(console, cell, None, "dispatch-queue", "active_cell")


@pytest.mark.filterwarnings(r"ignore:\s*The dash_table.DataTable will be removed:DeprecationWarning")
def test_the_queue_opens_on_the_requests_to_approve_with_counts(app):
    from web.services import KEY

    store = app.server.config[KEY].store
    console = page("console")
    requests = store.cases(states=["return_requested", "extension_requested", "park_requested"])
    filed, parked = store.cases(states=["filed"]), store.cases(states=["parked"])
    assert requests  # the demo has requests waiting for approval
    with signed_in(app, "dispatcher"):
        tabs = _find(console.layout(), "dispatch-tabs")
        assert tabs.value == "approve"
        assert [tab.value for tab in tabs.children] == ["approve", "dispatch", "parked"]
        data, approve, dispatch, parked_label, page_no, cell, _cells = _refresh(console, "approve", "dispatch-tabs")
        assert approve == f"待审批 {len(requests)}" and dispatch == f"待派遣 {len(filed)}"
        assert parked_label == f"挂账 {len(parked)}" and page_no == 0 and cell is None
        assert sorted(r["id"] for r in data) == sorted(c.id for c in requests)
        # a refresh by the clock leaves the page and the active cell alone
        data, *_, page_no, cell, _cells = _refresh(console, "parked", "dispatch-tick")
        assert len(data) == len(parked) and {r["state"] for r in data} == {"挂账"} and page_no is NO and cell is NO


def _refresh(console, tab, trigger):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{trigger}.value", "value": tab}]))
    return console.refresh_queue(0, None, tab, None, None, None, "all")


def _find(component, ident):
    if getattr(component, "id", None) == ident:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children] if children is not None else []:
        found = _find(child, ident) if hasattr(child, "to_plotly_json") else None
        if found is not None:
            return found
    return None


def _text(component) -> str:
    if isinstance(component, str | int | float):
        return str(component)
    children = getattr(component, "children", None)
    if children is None:
        return ""
    return "".join(_text(c) for c in (children if isinstance(children, list | tuple) else [children]))


def test_the_panel_names_the_running_deadline_and_the_deciding_rule(app):
    from web.services import KEY

    svc = app.server.config[KEY]
    case = svc.store.cases(states=["filed"])[-1]
    console = page("console")
    with signed_in(app, "dispatcher"):
        panel, *_ = console.show({"id": case.id})
        # a filed case waits for dispatch: its dispatch deadline, named as such (the queue shows the same)
        status = svc.workflow.deadline(case)
        assert status.step == "dispatch" and status.deadline_at is not None
        rows = {_text(tr.children[0]): _text(tr.children[1]) for tr in _rows(panel)}
        assert rows["派遣时限"].startswith(f"{status.deadline_at.astimezone(svc.workflow.calendar.tz):%m-%d %H:%M}")
        assert "处置时限" not in rows
        # the deciding rule first, by name and in words; the rules skipped before it folded, each by name
        from web.i18n import t

        rule = _text(_find(panel, "dispatch-rule"))
        trace = case.ownership["trace"]
        decided = next(s for s in trace if s["applies"])
        assert rule.startswith(t(f"rule.{decided['rule']}")) and decided["zh"].split("：")[-1] in rule
        folded = _find(panel, "dispatch-skipped")
        skipped = [s for s in trace if not s["applies"]]
        assert skipped and folded is not None and not getattr(folded, "open", False)
        items = folded.children[1].children
        assert len(items) == len(skipped) and str(len(skipped)) in _text(folded.children[0])
        for item, step in zip(items, skipped, strict=True):
            assert _text(item).startswith(t(f"rule.{step['rule']}"))


def _rows(panel):
    return [tr for tr in _walk(panel) if type(tr).__name__ == "Tr"]


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children] if children is not None else []:
        if hasattr(child, "to_plotly_json"):
            yield from _walk(child)


def _select(console, cell, click, trigger, prop="clickData"):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{trigger}.{prop}", "value": cell or click}]))
    return console.select(cell, click)


def test_district_drill_down_stays_in_the_district(app):
    district = page("district")
    with signed_in(app, "head.350203"):
        with pytest.raises(PreventUpdate):
            _drill(district, {"properties": {"code": "350206001001001"}}, "350203")
        cell = _a_cell(app, "350203")
        rows, title = _drill(district, {"properties": {"code": cell}}, "350203")
        assert rows and cell in title
        with pytest.raises(Denied):
            _drill(district, {"properties": {"code": _a_cell(app, "350206")}}, "350206")


def _drill(district, click, code):
    return district.drill_down(click, "30d", code)


def _a_cell(app, code):
    from web.services import KEY

    store = app.server.config[KEY].store
    return next(c.cell for c in store.cases(districts=[code], limit=50) if c.cell)


def test_district_figures_are_labelled_by_the_period_and_the_legend_by_the_metric(app):
    district = page("district")
    with signed_in(app, "head.350203"):
        for period, days in (("7d", 7), ("30d", 30)):
            kpis, squads, departments = district.refresh_figures(period, None, "350203")
            labels = [_text(k.children[1]) for k in kpis]
            assert f"近 {days} 天上报" in labels and f"近 {days} 天结案" in labels
            assert "今日上报" not in _text(html.Div(kpis)) + _text(squads) + _text(departments)
            assert f"近 {days} 天上报" in _text(squads.children[0]) and f"近 {days} 天上报" in _text(departments)
        for metric, name in (("open", "在办案件数"), ("overdue", "超期案件数"), ("repeat", "重复发生")):
            assert name in _text(html.Div(district.legend_metric(metric, "350203")))
        with pytest.raises(Denied):
            district.legend_metric("open", "350206")


@pytest.mark.filterwarnings(r"ignore:\s*The dash_table.DataTable will be removed:DeprecationWarning")
def test_the_district_exports_follow_the_period_shown(app):
    district = page("district")
    with signed_in(app, "head.350203"):
        layout_links = {a.id: a.href for a in _anchors(district.layout(code="350203"))}
        assert layout_links["district-export-cases-csv"].endswith("cases.csv?days=30")
        seven = district.export_hrefs("7d", "350203")
        assert seven[0].endswith("cases.csv?days=7") and seven[1].endswith("cases.xlsx?days=7")
        assert seven[2].endswith("layers.gpkg") and seven[3].endswith("map.html?days=7")
        with pytest.raises(Denied):
            district.export_hrefs("7d", "350206")  # another district's links are refused like its data


def _anchors(node):
    from dash import html

    found = [node] if isinstance(node, html.A) else []
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        found += _anchors(child)
    return found
