"""The top bar's counts for the signed-in user (dispatch/notify.py), from the board's snapshot: the overdue
positions and escalations are worked out once per snapshot and shared by every page load."""

from __future__ import annotations

import numpy as np

from dispatch.board import Snapshot
from dispatch.notify import Badge, Facts, badges, facts_of
from store.models import User
from web.services import Services


def counts(svc: Services, user: User, escalate_after_h: float) -> list[Badge]:
    """The user's badges now (only counts above zero)."""
    snap = svc.board.snapshot()

    def compute(s: Snapshot) -> Facts:
        idx = np.flatnonzero(s.is_open)
        return facts_of(svc.workflow, [s.facts[i] for i in idx], s.overdue[idx], s.statuses_at, escalate_after_h)

    facts = svc.board.memo(snap, f"notify:{escalate_after_h:g}", compute)
    tasks = len(svc.workflow.tasks(user)) if user.role == "supervisor" else 0
    return badges(user, facts, tasks)
