"""Callbacks called as plain functions inside a request of a signed-in user (no browser)."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import flask
import pytest
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
        # a click on a cluster selects nothing; a click on an incident selects it
        with pytest.raises(PreventUpdate):
            _select(console, None, {"properties": {"cluster": True, "point_count": 4}}, "dispatch-cases")
        assert _select(console, None, {"properties": {"id": case.id}}, "dispatch-cases") == {"id": case.id}
        panel, actions, first, units, suggested, version = console.show({"id": case.id})
        assert panel and {"label": "派遣", "value": "dispatch"} in actions
        assert first == "dispatch" and version == case.version and units[0]["value"] == suggested
        msg, changed, selected = console.submit(1, {"id": case.id}, "dispatch", suggested, "", 0, version)
        assert "ok" in str(msg) and changed == 1 and selected["id"] == case.id
        # the same form again, from the version it showed: a plain conflict, and the panel reloads
        msg, changed, selected = console.submit(1, {"id": case.id}, "dispatch", suggested, "", 1, version)
        assert "conflict" in str(msg) and changed == 2
    with signed_in(app, "wall"), pytest.raises(Denied):
        console.submit(1, {"id": case.id}, "dispatch", suggested, "", 0, version)


def _select(console, cell, click, trigger):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{trigger}.clickData", "value": click}]))
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
