"""The routing table: an ordered list of rules (data, not code) that decide which squad owns a matter at a place.

The first rule whose conditions all hold decides. Conditions: the matter (codes or class prefixes like 07*),
the matter's squad type, a zone the point lies in (or a graded zone, "<zone>:<grade>", e.g. a premium signboard
segment), and whether that zone is open at the time. A rule may also set what a case it decides gets: its
urgency and its deadline factor (the working time allowed at filing is the matter's times the factor).
`applies` (one point) and `applies_many` (arrays) implement the same conditions; tests hold them equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.registry import GRADED_ZONES

# "offshore" is not a layer: a point inside a district but outside its land (every grid cell) - a pier, a beach
ZONES = frozenset(
    {"*", "vendor_zone", "storefront_zone", "model_street", "signboard_segment", "offshore"}
    | {f"{z}:{g}" for z, grades in GRADED_ZONES.items() for g in grades}
)
URGENCIES = frozenset({"", "normal", "urgent"})  # "": the rule leaves the case's urgency as reported
TIMES = frozenset({"*", "open", "closed"})
OWNERS = frozenset({"none", "subdistrict_squad", "nearest_subdistrict_squad", "district_squad", "custodian"})
SQUAD_TYPES = frozenset({"subdistrict", "lianwei", "advertising", "none"})
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Rule:
    order: int
    rule: str
    matters: tuple[str, ...]  # empty: any matter
    squad_types: tuple[str, ...]  # empty: any squad type
    zone: str
    time: str
    owner: str
    flag: str
    reason_zh: str
    reason_en: str
    urgency: str = ""  # "urgent": a case it decides is urgent from its report on
    deadline_factor: float = 1.0  # the working time allowed at filing, as a share of the matter's

    def matter_ok(self, code: str) -> bool:
        return not self.matters or any(code.startswith(m[:-1]) if m.endswith("*") else code == m for m in self.matters)


@dataclass(frozen=True)
class Facts:
    """What is known about one point for routing purposes."""

    matter: str
    squad_type: str
    zones: frozenset[str]  # the zone layers the point lies in, and "<zone>:<grade>" for a graded one
    open_zones: frozenset[str]  # those of them whose time window contains the time


def rules_from_table(table: pd.DataFrame) -> list[Rule]:
    def split(v: str) -> tuple[str, ...]:
        return () if v in ("", "*") else tuple(x.strip() for x in v.split(";") if x.strip())

    return [
        Rule(
            int(r["order"]),
            r["rule"],
            split(r["matters"]),
            split(r["squad_types"]),
            r["zone"],
            r["time"],
            r["owner"],
            r["flag"] or "",
            r["reason_zh"],
            r["reason_en"],
            str(r.get("urgency") or ""),
            float(r.get("deadline_factor") or 1.0),  # a table of an older build has neither column
        )
        for _, r in table.sort_values("order").iterrows()
    ]


def why_not(rule: Rule, f: Facts) -> str | None:
    """None if the rule applies to the facts, else the first condition that fails (a short English key)."""
    if not rule.matter_ok(f.matter):
        return "matter"
    if rule.squad_types and f.squad_type not in rule.squad_types:
        return "squad_type"
    if rule.zone != "*" and rule.zone not in f.zones:
        return "zone"
    if rule.time == "open" and rule.zone not in f.open_zones:
        return "closed"
    if rule.time == "closed" and rule.zone in f.open_zones:
        return "open"
    return None


def decide(rules: list[Rule], f: Facts) -> int:
    """Index of the first rule that applies (-1 if none does)."""
    for n, rule in enumerate(rules):
        if why_not(rule, f) is None:
            return n
    return -1


def decide_many(
    rules: list[Rule],
    matter: NDArray[np.str_],
    squad_type: NDArray[np.str_],
    in_zone: dict[str, NDArray[np.bool_]],
    open_zone: dict[str, NDArray[np.bool_]],
) -> NDArray[np.int64]:
    """decide() for arrays of points at once."""
    n = len(matter)
    out = np.full(n, -1, dtype=np.int64)
    pending = np.ones(n, dtype=bool)
    for k, rule in enumerate(rules):
        ok = pending.copy()
        if rule.matters:
            m = np.zeros(n, dtype=bool)
            for pat in rule.matters:
                m |= np.char.startswith(matter, pat[:-1]) if pat.endswith("*") else matter == pat
            ok &= m
        if rule.squad_types:
            ok &= np.isin(squad_type, rule.squad_types)
        if rule.zone != "*":
            ok &= in_zone[rule.zone]
        if rule.time == "open":
            ok &= open_zone[rule.zone]
        elif rule.time == "closed":
            ok &= ~open_zone[rule.zone]
        out[ok] = k
        pending &= ~ok
    return out


WHY_ZH = {
    "matter": "事项不在本规则范围",
    "squad_type": "事项的执法类型不符",
    "zone": "不在该类区域内",
    "closed": "区域不在开放时段",
    "open": "区域正在开放时段",
}
WHY_EN = {
    "matter": "the matter is not covered",
    "squad_type": "the matter's squad type differs",
    "zone": "not inside such a zone",
    "closed": "the zone is closed at this time",
    "open": "the zone is open at this time",
}


def window_mask(hours: str) -> NDArray[np.bool_]:
    """A minute-of-day mask from 'HH:MM-HH:MM;HH:MM-HH:MM' (a window may run past midnight)."""
    mask = np.zeros(MINUTES_PER_DAY, dtype=bool)
    for part in filter(None, (p.strip() for p in hours.split(";"))):
        try:
            start, end = (int(t[:2]) * 60 + int(t[3:5]) for t in part.split("-"))
        except ValueError:
            raise ValueError(f"bad time window {part!r}: expected HH:MM-HH:MM") from None
        if start <= end:
            mask[start:end] = True
        else:
            mask[start:] = True
            mask[:end] = True
    return mask
