"""Files from the hotline and partner systems: rows placed by the name of their sub-district or community,
flagged located_by_area, then placed exactly by an acceptor; unknown or ambiguous names refuse the whole file."""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cities.config import load_config
from cli import main
from dispatch.areas import LOCATED_BY_AREA
from dispatch.context import open_workflow
from store.models import User

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in r.output
    return r


def test_hotline_rows_are_placed_by_area(env, tmp_path, city):
    path = tmp_path / "12345.csv"
    path.write_bytes(
        (
            "matter,lon,lat,area,description\n"
            "06010,118.13,24.50,,有坐标\n"  # a position: the area is not needed
            "06010,,,鼓浪屿街道,按街道\n"  # a sub-district by name
            "06010,,,莲前街道 何厝社区,按街道和社区\n"  # 何厝社区 alone is ambiguous (莲前, 民安)
            "06010,,,350203012005,按代码\n"
        ).encode("gbk")  # hotline systems export GBK
    )
    r = _run("import", "cases", path, "--channel", "hotline")
    assert r.exit_code == 0, r.output
    cases = {c.description: c for c in env.cases()}
    assert {c.source for c in cases.values()} == {"hotline"}
    assert LOCATED_BY_AREA not in cases["有坐标"].flags
    assert cases["按街道"].subdistrict == "350203012" and LOCATED_BY_AREA in cases["按街道"].flags
    assert cases["按街道和社区"].community == "350203010028"
    assert cases["按代码"].community == "350203012005"


@pytest.mark.parametrize(
    ("area", "words"),
    [
        ("何厝社区", ["ambiguous", "350203010028", "350213005012"]),
        ("不存在街道", ["unknown area", "不存在街道"]),
        ("", ["no position and no area"]),
    ],
)
def test_unknown_or_ambiguous_areas_refuse_the_file(env, tmp_path, area, words):
    path = tmp_path / "bad.csv"
    path.write_text(f"matter,lon,lat,area\n06010,118.13,24.50,\n06010,,,{area}\n", encoding="utf-8-sig")
    r = _run("import", "cases", path, "--channel", "hotline")
    assert r.exit_code == 2 and "rows 3" in r.output and all(w in r.output for w in words), r.output
    assert env.cases() == []


def test_without_a_channel_a_position_is_required(env, tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("matter,lon,lat,area\n06010,,,鼓浪屿街道\n")
    r = _run("import", "cases", path)
    assert r.exit_code == 2 and "missing coordinates" in r.output
    r = _run("import", "cases", path, "--channel", "radio")
    assert r.exit_code == 2 and "radio" in r.output
    assert env.cases() == []


def test_an_acceptor_places_a_report_exactly(env, tmp_path, engine):

    path = tmp_path / "one.csv"
    path.write_text("matter,area\n06010,鼓浪屿街道\n", encoding="utf-8")
    assert _run("import", "cases", path, "--channel", "partner").exit_code == 0
    (case,) = env.cases()
    assert case.source == "superior" and LOCATED_BY_AREA in case.flags
    wf = open_workflow(env, load_config("xiamen", Path(os.environ["XIUHUA_DATA_DIR"])))
    acc = User(0, "acc", "", "acceptor", (), None)
    moved = wf.act(acc, case.id, "relocate", case.version, lon=118.0905, lat=24.4794)  # 中山路, 思明
    assert (moved.lon, moved.lat) == (118.0905, 24.4794) and LOCATED_BY_AREA not in moved.flags
    assert moved.subdistrict != "350203012" and moved.state == "reported"
    assert wf.store.cases_in_bbox((118.09, 24.479, 118.091, 24.48)) == [moved]  # the point column followed
    for bad in ({"lon": "x", "lat": 24.5}, {"lon": 130.0, "lat": 40.0}, {}):
        with pytest.raises(Exception) as exc:
            wf.act(acc, case.id, "relocate", moved.version, **bad)
        assert getattr(exc.value, "code", "") in ("relocate.position", "report.outside")
