"""What the app's pages and routes work with, built once by app.create_app and kept on the Flask app."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import flask

from cities.config import CityConfig
from dispatch.board import Board
from dispatch.duplicates import DuplicateIndex, rules_from
from dispatch.media import PhotoStore
from dispatch.workflow import Workflow
from layers.basemap import Basemap
from layers.city import CityLayers
from layers.mbtiles import MBTiles
from store.base import Store

KEY = "XIUHUA"
LAYER_CHECK_S = 30.0  # how often the app looks for a new layer version (`xiuhua layers apply`)


class Services:
    """The store, the workflow, the board and the map layers. The workflow and the layers follow the store's
    layer versions: when `xiuhua layers apply` stores a new one, they are rebuilt on the next check, so a
    running server picks up redrawn grids and zones without a restart."""

    def __init__(
        self,
        city: CityConfig,
        store: Store,
        open_workflow: Callable[[], Workflow],
        basemap: Basemap,
        photos: PhotoStore,
        tiles: MBTiles | None = None,
        check_every_s: float = LAYER_CHECK_S,
    ) -> None:
        self.city, self.store, self.basemap, self.tiles = city, store, basemap, tiles
        self.photos = photos
        self._open = open_workflow
        self._lock = threading.Lock()
        self._every = check_every_s
        self._versions = self._version_ids()
        self._checked = time.monotonic()
        self._workflow = open_workflow()
        self._layers = CityLayers(self._workflow.engine.city)
        self.board = Board(self._workflow)
        # the open and recent cases by matter on a metric grid, for the acceptor's duplicate lookups
        where = f"{city.root / 'city.toml'} [duplicates]"
        self.duplicates = DuplicateIndex(store, rules_from(city.duplicates, where), city.metric_crs)

    def _version_ids(self) -> tuple[int, ...]:
        return tuple(v.id for v in self.store.layer_versions())

    def follow_layers(self, force: bool = False) -> bool:
        """Rebuild the workflow and the layers if the store holds new layer versions (checked at most every
        `check_every_s` unless forced); whether it rebuilt them."""
        now = time.monotonic()
        if not force and now - self._checked < self._every:
            return False
        with self._lock:
            if not force and now - self._checked < self._every:
                return False
            self._checked = now
            versions = self._version_ids()
            if versions == self._versions:
                return False
            workflow = self._open()  # a few seconds: the city is read again, with the new versions
            self._layers = CityLayers(workflow.engine.city)
            self._workflow, self._versions = workflow, versions
            return True

    @property
    def workflow(self) -> Workflow:
        self.follow_layers()
        return self._workflow

    @property
    def layers(self) -> CityLayers:
        self.follow_layers()
        return self._layers


def services() -> Services:
    """The services of the app handling the current request."""
    found: Services = flask.current_app.config[KEY]
    return found
