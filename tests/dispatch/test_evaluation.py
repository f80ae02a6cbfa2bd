"""The evaluation against a small history counted by hand (docstring of `history`), the loader's refusals and
the formula language; and the same scores from both stores."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatch.evaluation import EvaluationError, count, load, month, score
from dispatch.formula import FormulaError, parse
from store.models import CaseFacts, Event
from tests.dispatch.conftest import CAL

DATA = Path(__file__).resolve().parents[2] / "data" / "xiamen"
EV = load(DATA / "evaluation.toml")
START, END = month("2026-11", CAL.tz)
SQUADS = frozenset({"SQ350203001"})


def z(text: str) -> datetime:
    return datetime.fromisoformat(text + ":00+00:00")


def facts(case_id, source, reported, state, closed_on_time=None, cell="c1"):
    return CaseFacts(
        case_id, f"N{case_id}", state, "06036", source, "normal", 118.1, 24.5, "350203", "350203001", "350203001001",
        cell, "SQ350203001", "CGJ", z(reported), None, None, None, None, None, None, closed_on_time, (), 1,
    )  # fmt: skip


def ev(case_id, at, actor, action, **after):
    return Event(0, case_id, z(at), actor, action, None, None, "", {}, after)


def history():
    """Five cases in Siming (times UTC; Xiamen works 08:30-12:00 and 14:30-18:00, UTC+8):
    A  sup1 reports Thu 26 Nov 01:00; lead1 files 01:30 (on time); disp1 dispatches 02:00 to the squad, due 08:00;
       feedback 03:00 (on time); sup1 checks 03:30 (on time); lead1 closes 03:45 (on time).
    B  a hotline report in c1 (patrolled by sup1: a miss); verify sent 01:10, sup1 verifies 07:00 (3h20 of work:
       late); lead1 files 07:10 (late); disp1 dispatches 07:20 to the squad (on time), the return is approved
       07:40 (returned: the squad; redispatched: disp1); disp1 dispatches 08:00 to CGJ (on time), due 09:00:
       open and overdue at the month's end.
    C  sup1 reports Fri 27 Nov 01:00; refused 01:30: not a valid report.
    D  reported, filed and dispatched in October (counts nothing then); feedback 2 Nov (late), sup2 fails the
       check 3 Nov (a day later: late; rework against the squad), feedback again 4 Nov (late).
    E  a superior's report 10 Nov 02:00 in c2, which nobody patrols (a miss for both inspectors of Siming);
       lead1 files 02:30 (on time); voided 03:00 (filed, then voided)."""
    f = [
        facts(1, "supervisor", "2026-11-26T01:00", "closed", True),
        facts(2, "hotline", "2026-11-26T01:00", "dispatched"),
        facts(3, "supervisor", "2026-11-27T01:00", "voided"),
        facts(4, "superior", "2026-10-20T01:00", "handled", False, cell="c2"),
        facts(5, "superior", "2026-11-10T02:00", "voided", cell="c2"),
    ]
    e = [
        ev(1, "2026-11-26T01:00", "sup1", "report"),
        ev(1, "2026-11-26T01:30", "lead1", "file"),
        ev(1, "2026-11-26T02:00", "disp1", "dispatch", assignee="SQ350203001", deadline_at="2026-11-26T08:00:00+00:00"),
        ev(1, "2026-11-26T03:00", "unit.x", "feedback"),
        ev(1, "2026-11-26T03:30", "sup1", "check_pass"),
        ev(1, "2026-11-26T03:45", "lead1", "close"),
        ev(2, "2026-11-26T01:00", "hotline", "report"),
        ev(2, "2026-11-26T01:10", "acc", "send_verify"),
        ev(2, "2026-11-26T07:00", "sup1", "verify"),
        ev(2, "2026-11-26T07:10", "lead1", "file"),
        ev(2, "2026-11-26T07:20", "disp1", "dispatch", assignee="SQ350203001", deadline_at="2026-11-27T08:00:00+00:00"),
        ev(2, "2026-11-26T07:30", "unit.x", "request_return"),
        ev(2, "2026-11-26T07:40", "disp1", "approve_return"),
        ev(2, "2026-11-26T08:00", "disp1", "dispatch", assignee="CGJ", deadline_at="2026-11-26T09:00:00+00:00"),
        ev(3, "2026-11-27T01:00", "sup1", "report"),
        ev(3, "2026-11-27T01:30", "acc", "refuse"),
        ev(4, "2026-10-20T01:00", "import", "import"),
        ev(4, "2026-10-20T01:30", "lead1", "file"),
        ev(4, "2026-10-20T02:00", "disp1", "dispatch", assignee="SQ350203001", deadline_at="2026-10-21T02:00:00+00:00"),
        ev(4, "2026-11-02T02:00", "unit.x", "feedback"),
        ev(4, "2026-11-03T02:00", "sup2", "check_fail"),
        ev(4, "2026-11-04T02:00", "unit.x", "feedback"),
        ev(5, "2026-11-10T02:00", "import", "import"),
        ev(5, "2026-11-10T02:30", "lead1", "file"),
        ev(5, "2026-11-10T03:00", "lead2", "approve_void"),
    ]  # fmt: skip
    # CaseFacts.filed_at as the store keeps it (the dispatch clock starts there)
    return f, e


@pytest.fixture(scope="module")
def tally():
    f, e = history()
    return count(f, e, START, END, CAL, EV.limits, SQUADS, {"c1": ("sup1",)}, {"350203": ("sup1", "sup2")})


def test_counts_by_hand(tally):
    assert tally.counts("district")["350203"] == {
        "reported": 4, "filed": 3, "filed_on_time": 2, "filed_voided": 1, "to_dispatch": 3,
        "dispatched_on_time": 3, "redispatched": 1, "handled": 3, "handled_on_time": 1, "handled_late": 2,
        "returned": 1, "reworked": 1, "open_overdue": 1, "closed": 1, "closed_on_time": 1,
    }  # fmt: skip
    units = tally.counts("squad")["SQ350203001"]
    assert units == {"handled": 3, "handled_on_time": 1, "handled_late": 2, "returned": 1, "reworked": 1}
    assert tally.counts("department") == {"CGJ": {"open_overdue": 1}}
    assert tally.counts("inspector") == {
        "sup1": {"reports": 2, "valid_reports": 1, "missed": 2, "verify_tasks": 1, "check_tasks": 1,
                 "checked_on_time": 1},
        "sup2": {"missed": 1, "check_tasks": 1},
    }  # fmt: skip
    assert tally.counts("dispatcher") == {"disp1": {"to_dispatch": 3, "dispatched_on_time": 3, "redispatched": 1}}
    assert tally.counts("shift_lead") == {
        "lead1": {"filed": 3, "filed_on_time": 2, "filed_voided": 1, "closed": 1, "closes_on_time": 1}
    }
    # the click-through: the cases behind a count
    assert sorted(tally.cases[("district", "350203", "handled")]) == [1, 4, 4]
    assert tally.cases[("squad", "SQ350203001", "returned")] == [2]


def test_scores_by_hand(tally):
    (d,) = score(EV, "district", tally.counts("district"))
    assert d.values["on_time_closing"].numbers == "1 ÷ (1 + 0 + 1)"
    assert d.values["on_time_closing"].value == 0.5
    assert d.total == pytest.approx(60.0) and d.grade == "C" and d.rank == 1
    squad, dept = score(EV, "squad", tally.counts("squad"))[0], score(EV, "department", tally.counts("department"))[0]
    assert squad.total == pytest.approx(70.0) and squad.grade == "C"
    assert squad.values["no_rework"].numbers == "1 − 1 ÷ 3"
    # nothing handled: the volume is worth 0 (its zero rule), right-first-time is not rated, the rest is 0
    assert dept.values["case_volume"].value == 0 and dept.values["no_rework"].value is None
    assert dept.total == 0 and dept.grade == "E"
    sup1, sup2 = score(EV, "inspector", tally.counts("inspector"))
    assert (sup1.group, sup1.total, sup1.grade) == ("sup1", pytest.approx(50.0), "D")
    assert sup2.total == pytest.approx(0.0)  # nothing reported, one miss, one late check; verify not rated
    (disp,) = score(EV, "dispatcher", tally.counts("dispatcher"))
    assert disp.total == pytest.approx(20 + 40 + 40 * 2 / 3) and disp.grade == "B"
    (lead,) = score(EV, "shift_lead", tally.counts("shift_lead"))
    assert lead.total == pytest.approx(25 * 2 / 3 + 40 * 2 / 3 + 35) and lead.grade == "B"


def test_the_month_ends_at_local_midnight():
    assert month("2026-11", CAL.tz) == (z("2026-10-31T16:00"), z("2026-11-30T16:00"))
    assert month("2026-12", CAL.tz)[1] == z("2026-12-31T16:00")
    for bad in ("2026-13", "november", "2026/11"):
        with pytest.raises(ValueError):
            month(bad, CAL.tz)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (("on_time_closing = 40,", "on_time_closing = 30,"), ["line", "sum to 90%"]),
        (('formula = "filed_on_time / filed"', 'formula = "filed_in_time / filed"'), ["line 30", "unknown counter"]),
        (
            ('formula = "filed_on_time / filed"\nzero = "none"', 'formula = "filed_on_time / filed"'),
            ["line 30", "zero"],
        ),
        (('formula = "filed_on_time / filed"', 'formula = "__import__(1)"'), ["line 30", "only the functions"]),
        (("valid_reports = 40,", "valid_report = 40,"), ["unknown indicator 'valid_report'"]),
        (("[schemes.dispatcher]", "[schemes.janitor]"), ["unknown level 'janitor'"]),
        (("weights = { on_time_filing = 25,", "weights = { on_time_handling = 25,"), ["not counted for shift_lead"]),
    ],
)
def test_the_loader_refuses_naming_the_line(tmp_path, edit, words):
    text = (DATA / "evaluation.toml").read_text(encoding="utf-8")
    assert edit[0] in text
    bad = tmp_path / "evaluation.toml"
    bad.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(EvaluationError) as exc:
        load(bad)
    assert all(w in str(exc.value) for w in words), str(exc.value)


def test_the_formula_language_is_small():
    known = {"a", "b"}
    f = parse("max(a, 1) / (a + b) * 100 - -b", known)
    assert f.value({"a": 3, "b": 1}) == pytest.approx(3 / 4 * 100 + 1)
    assert f.in_words(str.upper) == "max(A, 1) ÷ (A + B) × 100 − −B"
    for bad in (
        "a ** 2",
        "a.real",
        "open('x')",
        "[a]",
        "a if b else 1",
        "min",
        "c / a",
        "'a'",
        "a and b",
        "",
        "1" * 600,
    ):
        with pytest.raises(FormulaError):
            parse(bad, known)


@pytest.mark.slow
def test_scores_agree_on_both_stores(request, tmp_path, engine):
    from dispatch.demo import seed_demo
    from dispatch.evaluation import LEVELS, evaluate
    from dispatch.workflow import Workflow
    from tests.conftest import _fresh

    until = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    answers = []
    for kind in ("embedded", "postgis"):
        store = _fresh(kind, request, tmp_path)
        wf = Workflow(store, engine, CAL, clock=lambda: until)
        seed_demo(wf, 600, 20, until, 4, "demo-password")
        answers.append({lv: evaluate(wf, EV, lv, START, END).scores for lv in LEVELS})
        store.close()
    assert answers[0] == answers[1]
    district = answers[0]["district"]
    assert len(district) == 6 and all(s.total is not None for s in district)
    assert answers[0]["squad"] and answers[0]["inspector"] and answers[0]["dispatcher"]


def test_an_open_case_is_overdue_only_once_its_deadline_has_passed():
    f, e = history()
    # mid-month, before case B's deadline (26 Nov 09:00 UTC) has passed: not yet overdue
    early = count(f, e, START, END, CAL, EV.limits, SQUADS, now=z("2026-11-26T08:30"))
    assert "open_overdue" not in early.counts("department").get("CGJ", {})
    late = count(f, e, START, END, CAL, EV.limits, SQUADS, now=z("2026-11-26T09:30"))
    assert late.counts("department")["CGJ"]["open_overdue"] == 1
