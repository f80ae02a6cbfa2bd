"""`xiuhua scores`: the month's evaluation at a level, with the formulas and the numbers put in."""

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from cli import main

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _run(demo_env, monkeypatch, *args):
    for k, v in demo_env.items():
        monkeypatch.setenv(k, v)
    r = CliRunner().invoke(main, [str(a) for a in args], terminal_width=200)
    assert "Traceback" not in r.output
    return r


def test_scores_print_and_explain(demo_env, monkeypatch):
    period = f"{datetime.now(UTC):%Y-%m}"  # the demo history ends now
    r = _run(demo_env, monkeypatch, "scores", "--period", period, "--level", "district", "--explain")
    assert r.exit_code == 0, r.output
    assert "思明区 (350203)" in r.output and "按期结案率 = " in r.output and "÷" in r.output
    r = _run(demo_env, monkeypatch, "scores", "--period", period, "--level", "dispatcher", "--lang", "en", "--explain")
    assert r.exit_code == 0 and "dispatcher  On-time dispatch = " in r.output


@pytest.mark.parametrize(
    ("args", "words"), [(("--period", "2026-13"), "expected a month"), (("--period", "x", "--level", "mayor"), "mayor")]
)
def test_bad_arguments_are_refused(demo_env, monkeypatch, args, words):
    r = _run(demo_env, monkeypatch, "scores", *args)
    assert r.exit_code == 2 and words in r.output
