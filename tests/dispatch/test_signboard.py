"""A signboard segment's grade, as routing data, changes what a signboard or advertising matter gets there: a premium
segment makes it urgent from its report on (half the working time at filing), a controlled one gives three
quarters of the time; a standard one and a place outside any segment give the matter's own. Other matters are
unaffected. The deciding rule is in the case's trace."""

from __future__ import annotations

import pytest
import shapely

from tests.dispatch.test_workflow import new, run

pytestmark = pytest.mark.slow
SIGN = "07006"  # 违规牌匾标识, squad type advertising


def _on(city, grade, district):
    sb = city.layers["signboard_segments"]
    row = sb[(sb["grade"] == grade) & (sb["district_code"] == district)].iloc[0]
    p = shapely.point_on_surface(row.geometry)
    return row["id"], (p.x, p.y)


def _filed(wf, u, point, matter=SIGN):
    c = wf.report(u["sup"], new(point, matter=matter))
    return c, run(wf, c, (u["acc"], "accept", {}), (u["lead"], "file", {"urgency": "normal"}))


def test_the_grade_decides_urgency_and_deadline(flow, city, store):
    wf, _clock, u, outside, _sub = flow
    u["sup"] = store.add_user("sup.all", "password1", "supervisor")  # the whole city: segments of any district
    full = wf.allowance[SIGN]
    answers = {}
    for grade in ("premium", "standard", "controlled"):
        seg, point = _on(city, grade, "350203" if grade != "controlled" else "350205")
        reported, filed = _filed(wf, u, point)
        assert reported.owners.zones["signboard_segment"] == seg
        assert reported.owners.rule == f"signboard-{grade}"
        last = reported.owners.trace[-1]
        assert last["rule"] == f"signboard-{grade}" and last["applies"]
        answers[grade] = (reported.urgency, filed.urgency, filed.work_seconds)
    reported, filed = _filed(wf, u, outside)  # no segment there
    assert reported.owners.zones["signboard_segment"] is None and reported.owners.rule == "advertising"
    answers["outside"] = (reported.urgency, filed.urgency, filed.work_seconds)
    assert answers == {
        "premium": ("urgent", "urgent", pytest.approx(full * 0.5)),  # filed "normal": the routing data holds
        "standard": ("normal", "normal", pytest.approx(full)),
        "controlled": ("normal", "normal", pytest.approx(full * 0.75)),
        "outside": ("normal", "normal", pytest.approx(full)),
    }


def test_other_matters_on_a_premium_segment_are_unaffected(flow, city, store):
    wf, _clock, u, outside, _sub = flow
    _seg, point = _on(city, "premium", "350203")
    other = "06036"
    on_segment = _filed(wf, u, point, matter=other)
    elsewhere = _filed(wf, u, outside, matter=other)
    assert not on_segment[0].owners.rule.startswith("signboard")
    for reported, filed in (on_segment, elsewhere):
        assert reported.urgency == filed.urgency == "normal"
        assert filed.work_seconds == pytest.approx(wf.allowance[other])
