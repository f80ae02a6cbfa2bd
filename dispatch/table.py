"""Cases as a table for people: one row per case, every code beside its name in the reader's language, times in
the city's time zone with their offset, and the ownership answer as plain columns (the rule, its reason, the
flag, supporting departments, zone ids, boundary distance, layer version) instead of a JSON document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import pandas as pd

from geo.registry import TIMED_ZONES, ZONE_LAYERS
from store.models import Case, Owners

LANGUAGES = ("zh", "en")
# code columns that get a `<column>_name` beside them, and the kind of code each holds
NAMED = {
    "state": "state",
    "matter": "matter",
    "source": "source",
    "urgency": "urgency",
    "district": "district",
    "subdistrict": "subdistrict",
    "community": "community",
    "squad": "unit",
    "lead_department": "unit",
    "assignee": "unit",
}
ZONE_COLUMNS = tuple(c for z in ZONE_LAYERS for c in (z, *([f"{z}_open"] if z in TIMED_ZONES else [])))
OWNERSHIP_COLUMNS = (
    "supporting_departments",
    "supporting_departments_name",
    "rule",
    "rule_reason",
    "flag",
    *ZONE_COLUMNS,
    "boundary_distance_m",
    "layer_version",
)
TIMES = ("reported_at", "deadline_at", "paused_at", "filed_at", "dispatched_at", "closed_at", "updated_at")


@dataclass(frozen=True)
class Labels:
    """What a case table needs to speak to its reader: the language (names and the deciding rule's reason are in
    it), the city's time zone (times are written in it) and, by kind of code, code -> name (see NAMED)."""

    lang: str
    tz: tzinfo
    names: Mapping[str, Mapping[str, str]]
    base_url: str = ""  # where the app is served (http://host:port); a case's page is <base_url>/case/<id>

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ValueError(f"language {self.lang!r}: use one of {', '.join(LANGUAGES)}")

    def name(self, kind: str, code: str | None) -> str:
        """The name of a code (the code itself where none is known; empty for no code)."""
        if not code:
            return ""
        return self.names.get(kind, {}).get(code, code)

    def time(self, at: datetime | None) -> str | None:
        """A time as ISO 8601 text in the city's zone, with its offset: 2026-11-27T19:30:00+08:00."""
        return at.astimezone(self.tz).isoformat(timespec="seconds") if at is not None else None


def _columns() -> list[str]:
    out: list[str] = []
    for field in Case.__dataclass_fields__:
        if field == "ownership":
            out.extend(OWNERSHIP_COLUMNS)
            continue
        out.append(field)
        if field == "case_no":
            out.append("case_url")
        if field in NAMED:
            out.append(f"{field}_name")
    return out


COLUMNS = _columns()


def _reason(owners: Owners, lang: str) -> str:
    """The deciding rule's reason: the trace's step that applied."""
    decided = [step for step in owners.trace if step.get("applies")]
    return str(decided[-1].get(lang) or "") if decided else ""


def case_row(c: Case, labels: Labels) -> dict[str, Any]:
    """One case as a row of COLUMNS (the ownership trace is left out: it stays in the store and the console)."""
    owners = c.owners
    row: dict[str, Any] = {}
    for field in Case.__dataclass_fields__:
        value = getattr(c, field)
        if field in TIMES:
            value = labels.time(value)
        elif field == "flags":
            value = ",".join(value)
        if field != "ownership":
            row[field] = value
        if field in NAMED:
            row[f"{field}_name"] = labels.name(NAMED[field], value)
    row["case_url"] = f"{labels.base_url.rstrip('/')}/case/{c.id}"
    sep = "；" if labels.lang == "zh" else "; "
    row["supporting_departments"] = ";".join(owners.supporting_departments)
    row["supporting_departments_name"] = sep.join(labels.name("unit", d) for d in owners.supporting_departments)
    row["rule"] = owners.rule
    row["rule_reason"] = _reason(owners, labels.lang)
    row["flag"] = owners.flag
    for col in ZONE_COLUMNS:
        row[col] = owners.zones.get(col)
    distance = owners.boundary_distance_m
    row["boundary_distance_m"] = None if distance is None else round(float(distance), 1)
    row["layer_version"] = owners.layer_version
    return row


def cases_frame(cases: list[Case], labels: Labels) -> pd.DataFrame:
    """Cases as a table of COLUMNS, for people (see the module's docstring)."""
    return pd.DataFrame([case_row(c, labels) for c in cases], columns=COLUMNS)
