"""Fixtures shared by the dispatch tests."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatch.calendar import WorkingCalendar
from dispatch.workflow import Workflow
from tests.dispatch.test_workflow import flow  # noqa: F401 - the loop's fixture, shared with test_intake_steps

CAL = WorkingCalendar.load(Path(__file__).resolve().parents[2] / "data" / "xiamen" / "calendar.toml")
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # a Friday morning in Xiamen


@pytest.fixture
def wf(store, engine):
    """The workflow on the test's store and the session's city, its clock stopped at NOW."""
    return Workflow(store, engine, CAL, clock=lambda: NOW)
