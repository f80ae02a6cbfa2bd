"""The map's marks against its legend, in headless Chromium: each incident is drawn in its stage's colour from the
legend, with the legend's red ring when overdue, larger when urgent, larger still with the black ring when
selected; hotspots take the colour of their count's class on the legend's heat scale."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.browser import sign_in, wait_for
from cities.config import load_config
from dispatch.board import STAGE_OF, STAGES
from dispatch.context import open_workflow
from dispatch.workflow import CLOSED
from store.registry import open_store
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow

MARKS = """return [...document.querySelectorAll('path.case-marker')].map(p => ({
    cls: p.getAttribute('class').split(' '), fill: p.getAttribute('fill'), stroke: p.getAttribute('stroke'),
    width: p.getBBox().width}))"""
LEGEND = """const key = s => getComputedStyle(document.querySelector('#' + arguments[0] + '-legend-' + s + ' .dot'));
    const out = {};
    for (const s of arguments[1]) { out[s] = key(s).backgroundColor; }
    out.overdue_ring = key('overdue').borderTopColor;
    out.selected_ring = key('selected').borderTopColor;
    return out;"""
HEAT = """return {
    keys: [...document.querySelectorAll('#wall-legend-heat .heat-key')].map(k => ({low: +k.dataset.from,
        heat: +k.dataset.heat, colour: getComputedStyle(k.querySelector('.heat-swatch')).backgroundColor})),
    spots: [...document.querySelectorAll('path.hotspot')].map(p => ({cls: p.getAttribute('class'),
        fill: p.getAttribute('fill'), width: p.getBBox().width}))}"""


def rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' (SVG attributes) or 'rgb(r, g, b)' / 'rgba(…)' (computed styles) as numbers."""
    if colour.startswith("#"):
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", colour)[:3])
    return r, g, b


def luminance(colour: str) -> float:
    r, g, b = rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _picks(demo_env) -> list[tuple[str, object]]:
    """An open case in each stage (urgent ones first), an urgent one and one that is overdue by the workflow's rule."""
    store = open_store(demo_env["XIUHUA_DATABASE_URL"])
    try:
        wf = open_workflow(store, load_config("xiamen", Path(demo_env["XIUHUA_DATA_DIR"])))
        facts = [f for f in store.case_facts() if f.state not in CLOSED and f.state in STAGE_OF]
        _, _, overdue = wf.deadline_flags(facts, datetime.now(UTC))
    finally:
        store.close()
    ranked = sorted(facts, key=lambda f: (f.urgency != "urgent", -f.id))
    picks = [("stage", next(f for f in ranked if STAGE_OF[f.state] == s)) for s in STAGES]
    picks.append(("urgent", next(f for f in ranked if f.urgency == "urgent")))
    picks.append(("overdue", next(f for f, o in zip(facts, overdue, strict=True) if o)))
    return picks


def test_incidents_wear_the_legends_colours(chrome, base_url, demo_env):
    sign_in(chrome, base_url, "dispatcher", DEMO_PASSWORD)
    widths: dict[str, list[float]] = {"normal": [], "urgent": []}
    for why, case in _picks(demo_env):
        # street zoom, where no incident is clustered
        chrome.get(base_url + f"/dispatch?at={case.lon},{case.lat},18")
        wait_for(chrome, lambda d, c=case: d.find_elements("css selector", f"path.case-{c.id}"), 40)
        legend = chrome.execute_script(LEGEND, "dispatch", list(STAGES))
        marks = chrome.execute_script(MARKS)
        target = next(m for m in marks if f"case-{case.id}" in m["cls"])
        assert f"stage-{STAGE_OF[case.state]}" in target["cls"]
        assert ("urgent" in target["cls"]) == (case.urgency == "urgent")
        if why == "overdue":
            assert "overdue" in target["cls"]
        for m in marks:
            (stage,) = [c.removeprefix("stage-") for c in m["cls"] if c.startswith("stage-")]
            assert rgb(m["fill"]) == rgb(legend[stage]), (stage, m)
            assert (rgb(m["stroke"]) == rgb(legend["overdue_ring"])) == ("overdue" in m["cls"]), m
            widths["urgent" if "urgent" in m["cls"] else "normal"].append(m["width"])
    assert widths["normal"] and widths["urgent"] and min(widths["urgent"]) > max(widths["normal"])
    # the last one, selected on the map: the legend's black ring, and larger than any other
    chrome.find_element("css selector", f"path.case-{case.id}").click()
    wait_for(chrome, lambda d: d.find_elements("css selector", f"path.case-{case.id}.selected"), 20)
    marks = chrome.execute_script(MARKS)
    (chosen,) = [m for m in marks if "selected" in m["cls"]]
    assert rgb(chosen["stroke"]) == rgb(chrome.execute_script(LEGEND, "dispatch", [])["selected_ring"])
    assert chosen["width"] > max(widths["urgent"])


def test_hotspots_read_as_heat_on_the_legends_scale(chrome, base_url):
    sign_in(chrome, base_url, "wall", DEMO_PASSWORD, "/wall?at=118.1,24.6,10.5")
    # the hotspots and the legend's scale come in one callback; read them in one script, between two refreshes
    heat = wait_for(chrome, lambda d: (h := d.execute_script(HEAT))["spots"] and h["keys"] and h, 40)
    keys, spots = heat["keys"], heat["spots"]
    lows = [k["low"] for k in keys]
    assert lows[0] == 1 and lows == sorted(set(lows))
    assert [k["heat"] for k in keys] == list(range(5 - len(keys), 5))
    # a ramp: each class darker than the one below it
    shades = [luminance(k["colour"]) for k in keys]
    assert all(a > b for a, b in itertools.pairwise(shades)), shades
    drawn = []
    for s in spots:
        n = int(re.search(r"\bn-(\d+)\b", s["cls"]).group(1))
        heat_class = int(re.search(r"\bheat-(\d)\b", s["cls"]).group(1))
        key = [k for k in keys if k["low"] <= n][-1]
        assert heat_class == key["heat"] and rgb(s["fill"]) == rgb(key["colour"]), (s, keys)
        drawn.append((n, heat_class, round(s["width"], 2)))  # SVG boxes of equal marks differ by ~1e-5 px
    drawn.sort()
    assert len({h for _, h, _ in drawn}) >= 3  # the map shows a gradient, not one colour
    assert drawn[-1][1] == 4  # the busiest hotspot is in the hottest colour
    assert [w for _, _, w in drawn] == sorted(w for _, _, w in drawn)  # and hotter is never smaller
