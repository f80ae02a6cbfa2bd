"""The evaluation for the web: scores of a level and month for the signed-in user's scope (cached by the
store's revision), the names of units, and the XLSX of a period's scores.

Who sees what is the policy's: `page.scores` opens the page (a district head: only their districts' cases
count, so only their units appear); `route.scores.people` adds the levels that rate people (inspectors,
dispatchers, shift leads).
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from pathlib import Path

import flask
import pandas as pd

from dispatch.evaluation import LEVELS, Evaluation, Result, evaluate, evaluation_file, load, month
from dispatch.policy import allows, refusal
from dispatch.sheet import write_table
from store.models import User
from web import names
from web.auth import Denied, require
from web.i18n import language, t
from web.services import services

PEOPLE = ("inspector", "dispatcher", "shift_lead")
bp = flask.Blueprint("scores", __name__)
_cache: OrderedDict[tuple[object, ...], Result] = OrderedDict()
_lock = threading.Lock()


def evaluation() -> Evaluation:
    return load(evaluation_file(services().city.root))


def levels_for(user: User) -> tuple[str, ...]:
    people = allows(user, "route.scores.people")
    return tuple(lv for lv in LEVELS if people or lv not in PEOPLE)


def months(now: datetime, n: int = 6) -> list[str]:
    """The last n months, newest first, as "2026-11"."""
    tz = services().workflow.calendar.tz
    local = now.astimezone(tz)
    out, y, m = [], local.year, local.month
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def result(user: User, level: str, period: str) -> Result:
    """A level's scores for a month, counting the cases of the user's districts (all for a city-wide account)."""
    problem = refusal(user, "page.scores")
    if problem is not None:
        raise Denied(str(problem), 403, code=problem.code, **problem.params)
    if level not in levels_for(user):
        raise Denied(f"level {level!r} is not open to this account", 403, code="policy.role", role=user.role)
    svc = services()
    start, end = month(period, svc.workflow.calendar.tz)
    districts = tuple(user.districts) or None
    key = (level, period, districts, svc.store.revision())
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    found = evaluate(svc.workflow, evaluation(), level, start, end, districts)
    with _lock:
        _cache[key] = found
        while len(_cache) > 32:
            _cache.popitem(last=False)
    return found


def unit_name(level: str, group: str) -> str:
    if level in ("district", "subdistrict"):
        return names.area(f"{level}s", group)
    if level in ("squad", "department"):
        return names.squad(group)
    try:
        u = services().store.get_user(group)
        return u.display_name or u.username
    except Exception:  # an account that was removed: its name stands
        return group


def percent(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def frame(user: User, level: str, period: str) -> pd.DataFrame:
    """A period's scores as a table for people (names in the user's language; numbers as numbers)."""
    ev, r = evaluation(), result(user, level, period)
    lang = language()
    keys = list(ev.schemes[level].weights)
    rows = []
    for s in r.scores:
        row: dict[str, object] = {
            t("scores.rank"): s.rank,
            t("scores.code"): s.group,
            t("scores.unit"): unit_name(level, s.group),
        }
        for k in keys:
            v = s.values[k]
            row[ev.indicators[k].name(lang)] = None if v.value is None else round(v.value * 100, 2)
            row[f"{ev.indicators[k].name(lang)} · {t('scores.numbers')}"] = v.numbers
        row[t("scores.total")] = None if s.total is None else round(s.total, 2)
        row[t("scores.grade")] = s.grade
        rows.append(row)
    return pd.DataFrame(rows)


@bp.get("/export/scores/<level>/<period>.xlsx")
def export_xlsx(level: str, period: str) -> flask.Response:
    user = require("page.scores")
    if level not in LEVELS:
        return flask.Response(f"no level {level[:20]!r}", 404, mimetype="text/plain")
    try:
        month(period, services().workflow.calendar.tz)
    except ValueError as exc:
        return flask.Response(str(exc), 400, mimetype="text/plain")
    df = frame(user, level, period)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scores.xlsx"
        write_table(df, path, "xlsx", sheet=f"{level} {period}")
        data = path.read_bytes()
    resp = flask.Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = f'attachment; filename="scores-{level}-{period}.xlsx"'
    return resp


def init(server: flask.Flask) -> None:
    server.register_blueprint(bp)


def trend(user: User, level: str, group: str, period: str, n: int = 6) -> list[tuple[str, float | None, str | None]]:
    """The unit's score and grade in the n months up to `period` (oldest first)."""
    tz = services().workflow.calendar.tz
    end = month(period, tz)[1] - timedelta(seconds=1)
    out = []
    for p in reversed(months(end, n)):
        found = next((s for s in result(user, level, p).scores if s.group == group), None)
        out.append((p, found.total if found else None, found.grade if found else None))
    return out
