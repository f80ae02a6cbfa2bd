"""Size and character limits of every free-text field a user, a file or an API can send, in one place.

The event log is append-only: whatever is accepted stays for good, so text is checked before it is stored.
"""

from __future__ import annotations

import re

from geo.points import CONTROL
from store.errors import Invalid

# characters, per field
LIMITS = {
    "description": 2000,
    "reason": 1000,
    "disputed_owner": 32,
    "unit": 32,
    "reporter": 64,
    "display_name": 128,
    "username": 64,
    "address": 255,
    # Open311 (dispatch/open311.py): the reporter's contact fields, a client's media URL, one attribute value
    "contact": 128,
    "media_url": 500,
    "attribute": 255,
}
_CONTROL = re.compile(CONTROL)  # the same set the file readers refuse (geo/points)


def bad_text(field: str, value: str) -> str | None:
    """Why `value` cannot be stored in `field` (None if it can)."""
    limit = LIMITS[field]
    if len(value) > limit:
        return f"{field} is {len(value)} characters long; at most {limit} are allowed"
    found = _CONTROL.search(value)
    if found:
        return f"{field} contains a control character (U+{ord(found.group()):04X}) at position {found.start() + 1}"
    return None


def check_text(field: str, value: str) -> str:
    """`value` if it may be stored in `field`; Invalid saying what is wrong otherwise."""
    problem = bad_text(field, value)
    if problem:
        code = "text.too_long" if len(value) > LIMITS[field] else "text.control"
        raise Invalid(problem, code=code, field=field, limit=LIMITS[field], length=len(value))
    return value
