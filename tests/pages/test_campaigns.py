"""/campaigns: the list by the policy's scope (a district head: campaigns whose area touches their districts),
running first; a chosen campaign's weeks, rates, worst cells and its two maps; other roles refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.campaigns import area_from_codes, draft, figures_of
from tests.pages.test_callbacks import page, signed_in
from tests.pages.test_scores import _find, _text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def campaigns(app):
    """A running campaign on the Siming cells with most demo cases (the demo has 4 days of history: the campaign
    started 2 days ago, so both windows hold cases), an ended one in Huli (350206)."""
    from web.services import KEY

    svc = app.server.config[KEY]
    store, city, today = svc.store, svc.workflow.engine.city, datetime.now(svc.workflow.calendar.tz).date()
    made = {}
    for district, starts, ends in (("350203", today - timedelta(days=2), today + timedelta(days=12)),
                                   ("350206", today - timedelta(days=20), today - timedelta(days=10))):  # fmt: skip
        cells = [c.cell for c in store.cases(districts=[district], limit=400) if c.cell]
        busiest = sorted(set(cells), key=lambda c: (-cells.count(c), c))[:6]
        area, source = area_from_codes(city.layers, "cells", busiest)
        new = draft(f"测试 {district}", "difficult", area, source, starts, ends, [], set(city.matters["code"]),
                    city.layers["districts"], city.metric_crs)  # fmt: skip
        made[district] = store.add_campaign(new, "shiftlead", datetime.now(UTC))
    return made


def test_listed_running_first_and_a_head_sees_only_theirs(app, campaigns):
    view_of = page("campaigns").layout
    siming, huli = campaigns["350203"], campaigns["350206"]
    with signed_in(app, "admin"):
        view = view_of()
        rows = [r.id for r in _find(view, "campaigns-table").children[1].children]
        assert rows.index(f"campaigns-row-{siming.id}") < rows.index(f"campaigns-row-{huli.id}")
        assert "进行中" in _text(_find(view, f"campaigns-row-{siming.id}"))
        assert "已结束" in _text(_find(view, f"campaigns-row-{huli.id}"))
        assert _find(view, "campaigns-create-hint") is not None
    with signed_in(app, "head.350203"):
        view = view_of()
        assert _find(view, f"campaigns-row-{siming.id}") is not None
        assert _find(view, f"campaigns-row-{huli.id}") is None
        assert _find(view, "campaigns-create-hint") is None  # heads do not create campaigns
        assert _find(view_of(campaign=str(huli.id)), "campaigns-detail") is None  # not by its address either


def test_a_chosen_campaign_shows_weeks_rates_worst_cells_and_two_maps(app, campaigns):
    from web.services import KEY

    svc = app.server.config[KEY]
    c = campaigns["350203"]
    f = figures_of(svc.store, c, svc.workflow.clock(), svc.workflow.calendar.tz)
    assert f.before.reported > 0 and f.during.reported > 0  # the demo has cases on those cells in both windows
    with signed_in(app, "shiftlead"):
        view = page("campaigns").layout(campaign=str(c.id))
        assert _find(view, "campaigns-map-before") is not None and _find(view, "campaigns-map-during") is not None
        weeks = _find(view, "campaigns-weeks").children[1].children
        assert len(weeks) == len(f.weeks) == 1  # two days and a part in: one week
        assert sum(int(_text(w.children[2])) for w in weeks) == f.during.reported
        during = _text(_find(view, "campaigns-rate-期间"))
        assert str(f.during.reported) in during and "%" in during
        worst = _find(view, "campaigns-worst").children[1].children
        assert _text(worst[0].children[0]) == f.worst_cells[0][0]
        assert _text(worst[0].children[1]) not in ("", "—")  # the community's name


@pytest.mark.parametrize("who", ["wall", "acceptor", "sup.350203"])
def test_other_roles_are_refused(app, who):
    with signed_in(app, who):
        assert _find(page("campaigns").layout(), "forbidden") is not None


def _form(**kw):
    values = {"name": "通堵点 · 表单", "kind": "congestion", "from": "2026-11-01", "to": "2026-11-30",
              "matters": "", "by": "cells", "codes": "", "file": None, "filename": None, "drawn": None}  # fmt: skip
    return list({**values, **kw}.values())  # in the order of the callback's states


def test_the_form_creates_a_campaign_for_a_shift_lead_only(app, campaigns):
    import base64
    import json

    import shapely

    from web.services import KEY

    svc = app.server.config[KEY]
    city = svc.workflow.engine.city
    cell = str(city.layers["grid_cells"]["code"].iloc[0])
    create = page("campaigns").create
    with signed_in(app, "head.350203"):  # may open the page, may not create
        assert _text(create(1, *_form(codes=cell))) == "区领导账号无权进行此操作"
    with signed_in(app, "shiftlead"):
        assert "未知的编码：NOPE" in _text(create(1, *_form(codes="NOPE")))
        assert "日期" in _text(create(1, *_form(codes=cell, to="30/11/2026")))
        assert "结束日期须晚于开始日期" in _text(create(1, *_form(codes=cell, to="2026-10-01")))
        assert "未给出区域" in _text(create(1, *_form(by="file")))
        done = create(1, *_form(codes=f"{cell}, {cell}"))
        assert done.id == "campaigns-new-link" and "通堵点 · 表单" in _text(done)
        made = next(c for c in svc.store.campaigns() if c.name == "通堵点 · 表单")
        assert made.created_by == "shiftlead" and made.area_source == f"cells:{cell}"
        assert done.href.endswith(f"campaign={made.id}")
        assert "已有名为" in _text(create(1, *_form(codes=cell)))  # the name is taken
        box = shapely.box(*shapely.point_on_surface(city.layers["districts"].geometry.iloc[0]).buffer(0.003).bounds)
        text = json.dumps({"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(box)})
        url = "data:application/geo+json;base64," + base64.b64encode(text.encode()).decode()
        done = create(1, *_form(name="扫盲点 · 文件", by="file", file=url, filename="area.geojson"))
        assert done.id == "campaigns-new-link", _text(done)
        drawn = {"type": "FeatureCollection", "features": [json.loads(text)]}
        done = create(1, *_form(name="扫盲点 · 绘制", by="draw", drawn=drawn))
        assert done.id == "campaigns-new-link", _text(done)
        assert next(c for c in svc.store.campaigns() if c.name == "扫盲点 · 绘制").area_source == "drawn"
        assert "未给出区域" in _text(create(1, *_form(name="y", by="draw")))
        assert "无法使用" in _text(create(1, *_form(name="x", by="file", file="data:x;base64,e30=", filename="a.json")))
