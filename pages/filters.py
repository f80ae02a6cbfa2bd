"""The filter bar over a map: matter class, stage, source and age. Filters narrow the map and the queue."""

from __future__ import annotations

from typing import Any

from dash import Input, dcc, html

from dispatch.board import STAGES, View
from dispatch.workflow import SOURCES
from web import names
from web.i18n import t

AGES = {"all": None, "24h": 24.0, "7d": 24.0 * 7, "30d": 24.0 * 30}
FILTERS = ("classes", "stages", "sources", "age")


def filter_bar(prefix: str) -> html.Div:
    def multi(name: str, options: dict[str, str]) -> dcc.Dropdown:
        return dcc.Dropdown(
            id=f"{prefix}-{name}",
            options=[{"label": v, "value": k} for k, v in options.items()],
            multi=True,
            placeholder=t(f"filter.{name}"),
            className="filter",
        )

    return html.Div(
        [
            multi("classes", names.matter_classes()),
            multi("stages", {s: t(f"stage.{s}") for s in STAGES}),
            multi("sources", {s: t(f"source.{s}") for s in SOURCES}),
            dcc.Dropdown(
                id=f"{prefix}-age",
                options=[{"label": t(f"filter.age.{k}"), "value": k} for k in AGES],
                value="all",
                clearable=False,
                className="filter filter-age",
            ),
        ],
        className="filter-bar",
    )


def inputs(prefix: str) -> list[Input]:
    return [Input(f"{prefix}-{name}", "value") for name in FILTERS]


def view_of(classes: Any, stages: Any, sources: Any, age: Any, districts: tuple[str, ...] = ()) -> View:
    """The View for the filter values (unknown values are dropped, not trusted)."""
    return View(
        classes=tuple(str(c) for c in classes or () if str(c).isdigit()),
        stages=tuple(s for s in stages or () if s in STAGES),
        sources=tuple(s for s in sources or () if s in SOURCES),
        within_h=AGES.get(str(age)),
        districts=districts,
    )
