"""The matter catalogue with its local configuration, the departments, and the routing table; validated."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from cities.config import CityConfig
from geo.errors import InvalidInput
from geo.rules import OWNERS, SQUAD_TYPES, TIMES, URGENCIES, ZONES

DEADLINE = re.compile(r"^\d+(\.\d+)?[hd]$")


@dataclass(frozen=True)
class Catalog:
    departments: pd.DataFrame
    matters: pd.DataFrame
    routing: pd.DataFrame


def _read(cfg: CityConfig, key: str) -> pd.DataFrame:
    path = cfg.sources[key]
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None


def load_catalog(cfg: CityConfig) -> Catalog:
    departments = _read(cfg, "departments")
    catalog = _read(cfg, "matters")
    config = _read(cfg, "matter_config")
    routing = _read(cfg, "routing")
    depts = set(departments["code"])
    for table, key in ((catalog, "matters"), (departments, "departments")):
        # every matter and department is named in both languages: the English mode shows no bare code
        unnamed = table["code"][table.get("name_en", pd.Series("", index=table.index)).str.strip() == ""]
        if len(unnamed):
            raise InvalidInput(f"{cfg.sources[key]}: no English name (name_en) for {', '.join(unnamed)}")
    src = cfg.sources["matter_config"]
    missing = sorted(set(catalog["code"]) - set(config["code"]))
    if missing:
        raise InvalidInput(f"{src}: no local configuration for matters {', '.join(missing)}")
    for n, row in config.iterrows():
        where = f"{src} row {int(str(n)) + 2} (matter {row['code']})"
        for dept in [row["lead_department"], *filter(None, row["supporting_departments"].split(";"))]:
            if dept not in depts:
                raise InvalidInput(f"{where}: unknown department {dept!r}")
        if row["squad_type"] not in SQUAD_TYPES:
            raise InvalidInput(f"{where}: squad_type must be one of {sorted(SQUAD_TYPES)}")
        if not DEADLINE.match(row["deadline"]):
            raise InvalidInput(f"{where}: deadline must be working hours or days, like 4h or 2d")
        for stage in filter(None, row.get("stages", "").split(";")):
            name, _, allowance = stage.partition(":")
            if not name or not DEADLINE.match(allowance):
                raise InvalidInput(f"{where}: stages look like stop_work:4h;penalty:7d, not {stage!r}")
    matters = catalog.merge(config, on="code", how="left", validate="one_to_one")
    matters["deadline_is_demo_default"] = True
    rsrc = cfg.sources["routing"]
    for n, row in routing.iterrows():
        where = f"{rsrc} row {int(str(n)) + 2} ({row['rule']})"
        if row["zone"] not in ZONES or row["time"] not in TIMES:
            raise InvalidInput(f"{where}: zone must be one of {sorted(ZONES)}, time one of {sorted(TIMES)}")
        if row["owner"].split(":")[0] not in OWNERS:
            raise InvalidInput(f"{where}: owner must be one of {sorted(OWNERS)}")
        if row.get("urgency", "") not in URGENCIES:
            raise InvalidInput(f"{where}: urgency must be empty, normal or urgent")
        try:
            factor = float(row.get("deadline_factor") or 1.0)
        except ValueError:
            factor = -1.0
        if not 0 < factor <= 1:
            raise InvalidInput(f"{where}: deadline_factor must be a number above 0 and at most 1 (or empty)")
        for st in row["squad_types"].split(";"):
            if st != "*" and st not in SQUAD_TYPES:
                raise InvalidInput(f"{where}: unknown squad type {st!r}")
    routing = routing.assign(order=routing["order"].astype(int)).sort_values("order", ignore_index=True)
    return Catalog(departments, matters, routing)
