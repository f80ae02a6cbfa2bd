"""`xiuhua campaigns add|list|show` on both stores: an area by cells, communities or a file, the figures, and bad
input refused in one line with exit code 2 (nothing stored)."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import shapely
from click.testing import CliRunner

from cli import main

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    import cli

    monkeypatch.setattr(cli.out, "width", 220)  # tables whole on one line each, as a wide terminal shows them


def _run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args], terminal_width=220)
    assert "Traceback" not in r.output
    return r


def test_add_list_show(env, city):
    cell = city.layers["grid_cells"].iloc[len(city.layers["grid_cells"]) // 2]
    today = datetime.now(UTC).date()
    r = _run("campaigns", "add", "治难点 · 测试", "--kind", "difficult", "--from", today - timedelta(days=3), "--to",
             today + timedelta(days=10), "--matters", "06036", "--cells", cell["code"], "--by", "lead")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "治难点 · 测试 (治难点 difficult)" in r.output and "matters 06036" in r.output
    (c,) = env.campaigns()
    assert c.area_source == f"cells:{cell['code']}" and c.created_by == "lead"
    assert c.districts == (cell["district_code"],)
    listed = _run("campaigns", "list")
    assert listed.exit_code == 0 and "治难点 · 测试" in listed.output and "running" in listed.output
    shown = _run("campaigns", "show", c.id)
    assert shown.exit_code == 0, shown.output
    assert "cases by week" in shown.output and "closure rate" in shown.output and "worst cells" in shown.output
    assert _run("campaigns", "show", "治难点 · 测试").output == shown.output


def test_add_from_a_file_and_communities(env, city, tmp_path):
    com = city.layers["communities"].iloc[0]
    box = shapely.box(*shapely.point_on_surface(com.geometry).buffer(0.003).bounds)
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(box)}))
    assert _run("campaigns", "add", "a", "--kind", "other", "--from", "2026-11-01", "--to", "2026-11-30",
                "--area", path).exit_code == 0  # fmt: skip
    r = _run("campaigns", "add", "b", "--kind", "blind_spot", "--from", "2026-11-01", "--to", "2026-11-30",
             "--communities", com["code"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert sorted(c.area_source for c in env.campaigns()) == [f"communities:{com['code']}", "file:area.geojson"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--cells", "NOPE"], "unknown cells: NOPE"),
        (["--cells", "X", "--communities", "Y"], "give the area one way"),
        ([], "give the area one way"),
        (["--area", "/nonexistent.geojson"], "file not found"),
        (["--cells", "{cell}", "--matters", "99999"], "unknown matters: 99999"),
        (["--cells", "{cell}", "--to", "2026-10-01"], "must end after it starts"),
        (["--cells", "{cell}", "--kind", "war"], "'war' is not one of"),
        (["--cells", "{cell}", "--from", "2026-13-01"], "'2026-13-01' does not match"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(env, city, args, words):
    cell = str(city.layers["grid_cells"]["code"].iloc[0])
    base = {"--kind": "difficult", "--from": "2026-11-01", "--to": "2026-11-30"}
    rest = [a.replace("{cell}", cell) for a in args]
    for i in range(0, len(rest) - 1):
        if rest[i] in base:
            base[rest[i]] = rest[i + 1]
    rest = [a for i, a in enumerate(rest) if a not in base and (i == 0 or rest[i - 1] not in base)]
    flat = [x for kv in base.items() for x in kv]
    r = _run("campaigns", "add", "x", *flat, *rest)
    assert r.exit_code == 2 and words in r.output, r.output
    assert env.campaigns() == []


def test_show_unknown_and_a_taken_name(env, city):
    assert _run("campaigns", "show", "nothing").exit_code == 2
    cell = str(city.layers["grid_cells"]["code"].iloc[0])
    args = ["campaigns", "add", "same", "--kind", "other", "--from", "2026-11-01", "--to", "2026-11-02"]
    args += ["--cells", cell]
    assert _run(*args).exit_code == 0
    r = _run(*args)
    assert r.exit_code == 2 and "exists" in r.output and len(env.campaigns()) == 1
    assert date(2026, 11, 2) == env.campaigns()[0].ends_on
