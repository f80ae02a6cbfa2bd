"""Unit grid cell codes: 6-digit district + 3 sub-district + 3 community + 3-digit serial (15 digits).

Serials run west to east, then north to south, inside each community; a serial past 999 is an error.
"""

from __future__ import annotations

import re

import numpy as np
from numpy.typing import NDArray

from geo.errors import BuildError

CELL_CODE = re.compile(r"^\d{15}$")
MAX_SERIAL = 999


def cell_codes(
    community: NDArray[np.str_], x_m: NDArray[np.float64], y_m: NDArray[np.float64], cell_m: NDArray[np.float64]
) -> NDArray[np.str_]:
    """Codes for cells given their 12-digit community code and metric centroid; rows of cell_m run north first."""
    comm = np.asarray(community).astype(str)
    bad = [c for c in np.unique(comm) if not re.fullmatch(r"\d{12}", c)]
    if bad:
        raise BuildError(f"community codes must have 12 digits: {', '.join(bad[:5])}")
    row = np.floor(y_m / cell_m)
    col = np.floor(x_m / cell_m)
    order = np.lexsort((x_m, col, -row, comm))
    serial = np.empty(len(comm), dtype=np.int64)
    sorted_comm = comm[order]
    starts = np.r_[0, np.flatnonzero(sorted_comm[1:] != sorted_comm[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(order)])
    serial[order] = np.arange(len(order)) - np.repeat(starts, counts) + 1
    if len(serial) and serial.max() > MAX_SERIAL:
        worst = comm[int(np.argmax(serial))]
        raise BuildError(
            f"community {worst} has {serial.max()} cells: the 3-digit serial would overflow {MAX_SERIAL}; "
            "use larger cells or split the community"
        )
    return np.char.add(comm, np.char.zfill(serial.astype(str), 3))
