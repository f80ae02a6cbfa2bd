"""Open311 GeoReport v2, the logic without HTTP: the catalogue as services, a case as a service request (status,
why, what is public), a client's keys, and a POSTed request checked and turned into a new case.

What is published (GET requests): every case reported in the period asked for, of every source, with no personal
data: never the reporter, their contact or staff's notes and reasons; the description only for requests that came
in through Open311 (the client sent it to be published); photos only where marked public (those posted through
Open311). Status notes are the translated state of the loop, never free text.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.areas import area_index
from dispatch.limits import LIMITS, bad_text
from dispatch.workflow import CLOSED, OPEN
from geo.crs import parse_crs, to_wgs84
from geo.ownership import City
from store.base import Store
from store.errors import Invalid
from store.models import CHANNELS, ApiKey, Case, NewCase, OpenRequest, User

# the source a case gets from its client's channel: a partner is a platform that forwards reports to the centre
# (such as the city's 12345 hub), which is what "superior" (上级交办) means
CHANNEL_SOURCE = {"hotline": "hotline", "app": "citizen", "partner": "superior"}
assert set(CHANNEL_SOURCE) == set(CHANNELS)
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "account_id")
MAX_ATTRIBUTES = 20
MAX_RESULTS = 1000  # the spec's default volume: at most 1,000 requests per GET
MAX_SPAN = timedelta(days=90)  # and at most 90 days apart
RATE_WINDOW = timedelta(minutes=1)
_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")


def status(case: Case) -> str:
    """open until the case is closed or voided (refused, merged as a duplicate, voided), then closed."""
    return "closed" if case.state in CLOSED else "open"


def status_note(case: Case) -> tuple[str, dict[str, Any]]:
    """Why the request is where it is, as a message key (section open311.note) and its parameters."""
    if case.state == "closed":
        return "closed", {}
    if case.state == "voided":
        if case.duplicate_of is not None:
            return "duplicate", {}
        kind = next((f.split(":", 1)[1] for f in case.flags if f.startswith("refused:")), None)
        return (f"refused_{kind}", {}) if kind else ("voided", {})
    if case.state in ("reported", "verifying", "accepted"):
        return "received", {}
    if case.state == "filed":
        return "filed", {}
    if case.state in ("handled", "checking", "checked"):
        return "handled", {}
    if case.state == "parked":
        return "parked", {}
    return "dispatched", {}


def system_user(key: ApiKey) -> User:
    """The account a client's requests are reported by: an acceptor of the whole city, named after the key (the
    policy's "action.report" decides, as for anyone)."""
    return User(0, f"open311:{key.name}", key.name, "acceptor", (), None)


def new_key() -> tuple[str, str]:
    """A new random key and its sha256 (only the hash is stored)."""
    key = secrets.token_urlsafe(32)
    return key, key_hash(key)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise Invalid(f"unknown channel {channel!r}; channels: {', '.join(CHANNELS)}")
    return channel


# -- reading a client's input ------------------------------------------------------------------------
def text(name: str, value: str | None, limit_field: str) -> str:
    """A field's text (stripped; "" when absent) if it fits its limit; Invalid naming the field otherwise."""
    value = (value or "").strip()
    if bad_text(limit_field, value):
        raise Invalid(
            f"{name}: at most {LIMITS[limit_field]} characters and no control characters",
            code="open311.text",
            field=name,
            limit=LIMITS[limit_field],
        )
    return value


def parse_datetime(name: str, value: str) -> datetime:
    """A W3C datetime (a date alone is midnight UTC); Invalid naming the field otherwise."""
    value = value.strip()
    if not _W3C.match(value):
        raise Invalid(f"{name} {value[:40]!r} is not a W3C datetime such as 2010-01-01T00:00:00Z",
                      code="open311.datetime", field=name)  # fmt: skip
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def period(start_text: str, end_text: str, now: datetime) -> tuple[datetime, datetime]:
    """The spec's start_date/end_date: at most 90 days apart; either missing counts 90 days from the other (both
    missing: the last 90 days)."""
    start = parse_datetime("start_date", start_text) if start_text.strip() else None
    end = parse_datetime("end_date", end_text) if end_text.strip() else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Invalid("end_date is before start_date", code="open311.period_order")
    if end - start > MAX_SPAN:
        raise Invalid("start_date and end_date are more than 90 days apart", code="open311.period_span")
    return start, end


def codes(value: str, name: str, limit: int = 200) -> list[str]:
    """A comma-separated list of codes (at most `limit`)."""
    found = [c.strip() for c in value.split(",") if c.strip()]
    if len(found) > limit or any(len(c) > 40 for c in found):
        raise Invalid(f"{name}: at most {limit} values of at most 40 characters", code="open311.list", field=name,
                      limit=limit)  # fmt: skip
    return found


def statuses(value: str) -> list[str] | None:
    """The spec's status filter (open, closed, comma-separated) as case states; None: any."""
    wanted = set(codes(value, "status", 2))
    if not wanted:
        return None
    if not wanted <= {"open", "closed"}:
        raise Invalid("status is open, closed or both (comma-separated)", code="open311.status")
    return [*(OPEN if "open" in wanted else ()), *(CLOSED if "closed" in wanted else ())]


def position(lat: str, lon: str, system: str) -> tuple[float, float]:
    """WGS84 lon, lat from the client's lat/long in `system` (wgs84, gcj02 or bd09)."""
    if system not in COORD_SYSTEMS:
        raise Invalid(f"coord_system {system[:20]!r}: use wgs84, gcj02 or bd09", code="open311.coord_system")
    try:
        y, x = float(lat), float(lon)
    except ValueError:
        raise Invalid("lat and long must be decimal degrees", code="open311.position") from None
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise Invalid("lat and long must be decimal degrees", code="open311.position")
    (wx,), (wy,) = to_wgs84([x], [y], parse_crs(system))
    return float(wx), float(wy)


def locate(address: str, city: City) -> tuple[float, float]:
    """A point inside the community or sub-district that `address` names (its Chinese or English name, its code,
    or "街道 社区"), as the hotline's files are placed (dispatch/areas.py)."""
    found = area_index(city).find(address)
    if not found:
        raise Invalid(f"address_string {address[:60]!r} names no community or sub-district of the city",
                      code="open311.address", address=address[:60])  # fmt: skip
    if len(found) > 1:
        raise Invalid(f"address_string {address[:60]!r} names {len(found)} places: send lat and long",
                      code="open311.address_ambiguous", address=address[:60])  # fmt: skip
    return found[0].lon, found[0].lat


@dataclass(frozen=True)
class Submission:
    """A POSTed request, checked: the new case and what is kept privately."""

    new: NewCase
    request: OpenRequest
    extra: dict[str, str] = field(default_factory=dict)


def attributes(form: Mapping[str, list[str]]) -> dict[str, Any]:
    """attribute[code]=value and attribute[code][]=v1&… as {code: value or [values]}."""
    out: dict[str, Any] = {}
    for name, values in form.items():
        m = re.fullmatch(r"attribute\[([^\[\]]{1,64})\](\[\])?", name)
        if m is None:
            continue
        vals = [text(name, v, "attribute") for v in values[:20]]
        out[m.group(1)] = vals if m.group(2) else vals[-1]
    if len(out) > MAX_ATTRIBUTES:
        raise Invalid(f"at most {MAX_ATTRIBUTES} attributes", code="open311.attributes", limit=MAX_ATTRIBUTES)
    return out


def submission(form: Mapping[str, list[str]], key: ApiKey, city: City, now: datetime) -> Submission:
    """Check a POSTed request (form fields as lists of values) of a client; the case to report and its private
    record. Invalid names the first problem."""

    def one(name: str) -> str:
        return (form.get(name) or [""])[-1]

    service = one("service_code").strip()
    if not service:
        raise Invalid("service_code is required", code="open311.required", field="service_code")
    known = set(city.matters["code"].astype(str))
    if service not in known:
        raise Invalid(f"service_code {service[:16]!r} is not a service", code="open311.service",
                      service=service[:16])  # fmt: skip
    address = text("address_string", one("address_string"), "address")
    if one("lat").strip() or one("long").strip():
        if not (one("lat").strip() and one("long").strip()):
            raise Invalid("lat and long must be sent together", code="open311.position")
        lon, lat = position(one("lat"), one("long"), one("coord_system").strip().lower() or "wgs84")
    elif address:
        lon, lat = locate(address, city)
    else:
        raise Invalid("a location is required: lat and long, or address_string", code="open311.location")
    media_url = text("media_url", one("media_url"), "media_url")
    if media_url and not re.match(r"^https?://[^\s]+$", media_url):
        raise Invalid("media_url must be an http or https URL", code="open311.media_url")
    contact = {f: text(f, one(f), "contact") for f in CONTACT_FIELDS}
    new = NewCase(
        matter=service,
        lon=lon,
        lat=lat,
        source=CHANNEL_SOURCE[key.channel],
        reported_at=now,
        description=text("description", one("description"), "description"),
    )
    request = OpenRequest(key.name, {k: v for k, v in contact.items() if v}, attributes(form), media_url, address)
    return Submission(new, request)


# -- keys --------------------------------------------------------------------------------------------
def issue_key(store: Store, name: str, channel: str, rate_per_minute: int, at: datetime) -> tuple[ApiKey, str]:
    """A new client key: stored by its sha256; the key itself is returned once, to be handed to the client."""
    key, digest = new_key()
    return store.add_api_key(name, check_channel(channel), digest, rate_per_minute, at), key


def key_report(store: Store, at: datetime) -> list[tuple[ApiKey, int]]:
    """Every key with its number of calls in the last day."""
    calls = store.api_calls_since(at - timedelta(days=1))
    return [(k, calls.get(k.name, 0)) for k in store.api_keys()]
