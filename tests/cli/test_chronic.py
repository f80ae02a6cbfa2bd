"""`xiuhua chronic detect [--dry-run]`: on a copy of the demo store (the session's store stays as it is)."""

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from cli import main

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture
def demo_copy(demo_env, tmp_path, monkeypatch):
    src = demo_env["XIUHUA_DATABASE_URL"].removeprefix("sqlite:///")
    copy = tmp_path / "copy.sqlite"
    shutil.copy(src, copy)
    for k, v in {**demo_env, "XIUHUA_DATABASE_URL": f"sqlite:///{copy}"}.items():
        monkeypatch.setenv(k, v)
    return f"sqlite:///{copy}"


def _run(*args):
    r = CliRunner().invoke(main, list(args), terminal_width=200)
    assert "Traceback" not in r.output
    return r


def _three_repeats(url):
    """Three reports of one matter at one point within an hour: a chronic place whatever the demo holds."""
    from cities.config import load_config
    from dispatch.context import open_workflow
    from settings import Settings
    from store.models import NewCase
    from store.registry import open_store

    s = Settings.from_env()
    store = open_store(url)
    try:
        wf = open_workflow(store, load_config(s.city, s.data_dir))
        admin = store.get_user("admin")
        at = datetime.now(UTC) - timedelta(hours=2)
        return [
            wf.report(admin, NewCase("06036", 118.0894, 24.4798, "supervisor", at + timedelta(minutes=i))).id
            for i in range(3)
        ]
    finally:
        store.close()


def test_detect_dry_run_then_for_real_then_nothing_new(demo_copy):
    ids = _three_repeats(demo_copy)
    dry = _run("chronic", "detect", "--dry-run")
    assert dry.exit_code == 0, dry.output
    n = int(dry.output.split(" new places")[0].rsplit("\n", 1)[-1])
    assert n >= 1 and "would be created (dry run)" in dry.output
    real = _run("chronic", "detect")
    assert real.exit_code == 0, real.output
    assert f"{n} new places" in real.output and real.output.count("B06036") >= 1
    from store.registry import open_store

    store = open_store(demo_copy)
    try:
        places = store.chronic_places()
        assert len(places) == n and any(set(ids) <= set(p.case_ids) for p in places)
        assert all(store.get_case(p.fast_track_case_id).urgency == "urgent" for p in places)
    finally:
        store.close()
    again = _run("chronic", "detect")
    assert again.exit_code == 0 and "0 new places" in again.output
