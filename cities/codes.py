"""The codes of a built city that accounts and forms are checked against: districts and units (squads and
departments). Read without geometry, so a command that only needs them stays quick."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyogrio

from geo.errors import InvalidInput


@dataclass(frozen=True)
class CityCodes:
    districts: frozenset[str]
    squads: frozenset[str]
    departments: frozenset[str]

    @property
    def units(self) -> frozenset[str]:
        return self.squads | self.departments

    def check_account(self, role: str, districts: tuple[str, ...], unit: str | None) -> None:
        """Refuse districts and units the city does not have, and a unit account without a unit."""
        unknown = [d for d in districts if d not in self.districts]
        if unknown:
            raise InvalidInput(f"unknown district {unknown[0]!r}; districts: {', '.join(sorted(self.districts))}")
        if unit is not None and unit not in self.units:
            raise InvalidInput(f"unknown unit {unit!r}: not a squad or department of this city")
        if role == "unit" and not unit:
            raise InvalidInput("an account of role unit needs --unit (the squad or department it acts for)")


def read_cells(gpkg: Path) -> dict[str, str]:
    """The grid cell codes of a built city, each with its district code."""
    if not gpkg.is_file():
        raise InvalidInput(f"{gpkg} does not exist: build the city first (xiuhua build-city)")
    df = pyogrio.read_dataframe(gpkg, layer="grid_cells", columns=["code", "district_code"], read_geometry=False)
    return dict(zip(df["code"].astype(str), df["district_code"].astype(str), strict=True))


def check_patrol_cells(cells: dict[str, str], wanted: list[str], role: str, districts: tuple[str, ...]) -> list[str]:
    """`wanted` cell codes, once each, if an inspector of `districts` may patrol them; InvalidInput naming the
    first code that does not exist or lies outside the account's districts."""
    if wanted and role != "supervisor":
        raise InvalidInput(f"only inspectors (role supervisor) patrol cells; this account is a {role}")
    for code in wanted:
        if code not in cells:
            raise InvalidInput(f"unknown grid cell {code[:40]!r}: not a cell of this city")
        if districts and cells[code] not in districts:
            raise InvalidInput(
                f"grid cell {code} lies in district {cells[code]}, outside the account's districts "
                f"({', '.join(districts)})"
            )
    return sorted(set(wanted))


def read_codes(gpkg: Path) -> CityCodes:
    """The district, squad and department codes of a built city."""
    if not gpkg.is_file():
        raise InvalidInput(f"{gpkg} does not exist: build the city first (xiuhua build-city)")

    def column(layer: str, name: str) -> frozenset[str]:
        df = pyogrio.read_dataframe(gpkg, layer=layer, columns=[name], read_geometry=False)
        return frozenset(df[name].astype(str))

    return CityCodes(column("districts", "code"), column("squads", "id"), column("departments", "code"))
