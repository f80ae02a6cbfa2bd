"""Creating a campaign from the page's form: the raw values checked one by one (Invalid naming the field), the
policy's `action.campaign_create` asked first, the area from codes or an uploaded file."""

from __future__ import annotations

import base64
import binascii
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from dispatch import campaigns as camp
from dispatch.policy import check
from geo.chinacoords import gcj02_to_wgs84
from store.errors import Invalid
from store.models import Campaign, User
from web.services import services

MAX_TEXT = 20_000  # the codes or matters a form may send


def _day(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise Invalid(f"{field}: expected a date like 2026-11-01", code="campaign.date", field=field) from None


def _codes(text: str | None) -> list[str]:
    if len(text or "") > MAX_TEXT:
        raise Invalid("too many codes", code="campaign.too_long", field="codes")
    return [c.strip() for c in (text or "").replace("，", ",").replace("\n", ",").split(",") if c.strip()]


def _file_area(contents: str, filename: str) -> tuple[shapely.Geometry, str]:
    name = Path(filename or "area.geojson").name[:80]
    try:
        data = base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error, ValueError):
        raise Invalid(f"{name}: not a file", code="campaign.area_file", file=name, why="not a file") from None
    if len(data) > camp.MAX_FILE_BYTES:
        raise Invalid(f"{name} is too large", code="campaign.area_file_size", file=name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return camp.area_from_file(path)


def create(user: User, name: str | None, kind: str | None, starts: str | None, ends: str | None,
           matters: str | None, by: str | None, codes: str | None, upload: str | None,
           upload_name: str | None, drawn: Any = None) -> Campaign:  # fmt: skip
    """Check and store a campaign from the form (Forbidden unless the user may create campaigns)."""
    check(user, "action.campaign_create")
    svc = services()
    city = svc.workflow.engine.city
    starts_on, ends_on = _day(starts, "from"), _day(ends, "to")
    if by == "file":
        if not upload:
            raise Invalid("no area file given", code="campaign.area_empty", by="file")
        area, source = _file_area(upload, upload_name or "")
    elif by == "draw":
        area, source = camp.area_from_geojson(drawn)
        if svc.basemap.gcj02:  # drawn on a GCJ-02 basemap: back to WGS84

            def back(xy: NDArray[np.float64]) -> NDArray[np.float64]:
                return np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))

            area = shapely.transform(area, back)
    else:
        area, source = camp.area_from_codes(city.layers, by or "", _codes(codes))
    new = camp.draft((name or "")[:200], kind or "", area, source, starts_on, ends_on, _codes(matters),
                     set(city.matters["code"].astype(str)), city.layers["districts"], city.metric_crs)  # fmt: skip
    return svc.store.add_campaign(new, user.username, svc.workflow.clock())
