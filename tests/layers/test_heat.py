"""The hotspots' heat scale: classes from the counts in view, the hottest always in the last colour."""

from __future__ import annotations

import pytest

from layers.cases import HEAT_CLASSES, heat_of, heat_scale
from layers.map import HEAT_COLOURS


@pytest.mark.parametrize(
    ("counts", "scale"),
    [
        ([], []),
        ([0], []),
        ([1, 1], [(1, 4)]),
        ([1, 3], [(1, 3), (2, 4)]),
        ([1, 2, 44], [(1, 0), (2, 1), (7, 2), (16, 3), (28, 4)]),
        ([5000, 3], [(1, 0), (200, 1), (800, 2), (1800, 3), (3200, 4)]),
    ],
)
def test_the_scale_rises_on_a_square_root_to_the_largest_count(counts, scale):
    assert heat_scale(counts) == scale


@pytest.mark.parametrize("top", [1, 2, 3, 7, 12, 44, 99, 100, 101, 999, 4321, 100_000])
def test_every_count_has_one_class_and_the_largest_the_hottest(top):
    counts = list(range(1, top + 1))
    scale = heat_scale(counts)
    lows = [low for low, _ in scale]
    colours = [c for _, c in scale]
    assert lows[0] == 1 and lows == sorted(set(lows)) and lows[-1] <= top
    assert colours == list(range(HEAT_CLASSES - len(scale), HEAT_CLASSES))
    heats = [heat_of(n, scale) for n in counts]
    assert heats == sorted(heats)  # more incidents, never a cooler colour
    assert heats[-1] == HEAT_CLASSES - 1 == len(HEAT_COLOURS) - 1
