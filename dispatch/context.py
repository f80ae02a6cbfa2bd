"""The workflow for a store and a city: the built city with the store's layer versions in effect now."""

from __future__ import annotations

from datetime import UTC, datetime

from cities.config import CityConfig
from dispatch.calendar import WorkingCalendar
from dispatch.layers import current_city, version_label
from dispatch.workflow import Workflow
from geo.ownership import OwnershipEngine, load_city
from store.base import Store


def open_workflow(store: Store, cfg: CityConfig, now: datetime | None = None) -> Workflow:
    """The closed-loop workflow on `store`, resolving owners with the city as the store's versions have it."""
    now = now or datetime.now(UTC)
    built = load_city(cfg.gpkg)
    return Workflow(
        store,
        OwnershipEngine(current_city(store, built, now)),
        WorkingCalendar.load(cfg.sources["calendar"]),
        layer_version=version_label(store, built, now),
    )
