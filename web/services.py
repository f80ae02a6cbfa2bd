"""What the app's pages and routes work with, built once by app.create_app and kept on the Flask app."""

from __future__ import annotations

from dataclasses import dataclass

import flask

from cities.config import CityConfig
from dispatch.board import Board
from dispatch.workflow import Workflow
from layers.basemap import Basemap
from layers.city import CityLayers
from layers.mbtiles import MBTiles
from store.base import Store

KEY = "XIUHUA"


@dataclass(frozen=True)
class Services:
    city: CityConfig
    store: Store
    workflow: Workflow
    board: Board
    layers: CityLayers
    basemap: Basemap
    tiles: MBTiles | None = None  # the local MBTiles file, when the basemap is one


def services() -> Services:
    """The services of the app handling the current request."""
    found: Services = flask.current_app.config[KEY]
    return found
