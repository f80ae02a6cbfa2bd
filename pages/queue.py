"""The dispatch console's queue: a tab per kind of work with its count, and a table that fits its column."""

from __future__ import annotations

from typing import Any

from dash import dash_table, dcc

from pages.case_panel import when
from web import console, names
from web.i18n import t


def queue_tabs(counts: dict[str, int]) -> dcc.Tabs:
    """A tab per kind of work (web.console.TABS), each labelled with how many cases it holds."""
    return dcc.Tabs(
        [
            dcc.Tab(
                label=tab_label(tab, n),
                value=tab,
                id=f"dispatch-tab-{tab}",
                className="queue-tab",
                selected_className="queue-tab selected",
            )
            for tab, n in counts.items()
        ],
        id="dispatch-tabs",
        value=console.default_tab(counts),
        className="queue-tabs",
        parent_className="queue-tabs-wrap",
    )


def tab_label(tab: str, n: int) -> str:
    return t(f"queue.tab.{tab}", n=n)


def queue_table() -> dash_table.DataTable:
    # a fixed layout: the case number and the deadline keep their width, the state and the matter share the rest
    # and wrap inside it (long in English), so the queue never scrolls sideways and the deadline stays in sight
    widths = {"no": "150px", "state": "21%", "matter": "auto", "due": "62px"}
    return dash_table.DataTable(
        id="dispatch-queue",
        columns=[{"name": t(f"queue.{c}"), "id": c} for c in widths],
        page_size=18,
        page_current=0,
        style_as_list_view=True,
        cell_selectable=True,
        style_table={"width": "100%", "overflowX": "hidden"},
        css=[{"selector": "table", "rule": "table-layout: fixed; width: 100%;"}],
        style_cell={
            "whiteSpace": "normal",
            "height": "auto",
            "overflowWrap": "anywhere",
            "textAlign": "left",
            "padding": "3px 4px",
        },
        style_cell_conditional=[
            *({"if": {"column_id": c}, "width": w} for c, w in widths.items() if w != "auto"),
            {"if": {"column_id": "no"}, "overflowWrap": "normal"},  # a case number is never broken
        ],
        style_data_conditional=[
            {
                "if": {"filter_query": "{overdue} = 1"},  # a number: DataTable's filter has no booleans
                "color": "#c0392b",
                "fontWeight": "bold",
            }
        ],
    )


def queue_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "no": r["no"] + (" ⚡" if r["urgent"] else ""),
        "state": t(f"state.{r['state']}"),
        "matter": names.matter(r["matter"]),
        "due": when(r["due"]),
        "overdue": 1 if r["overdue"] else 0,
        "where": names.area("subdistricts", r["subdistrict"]),
    }
