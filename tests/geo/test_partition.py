import numpy as np

from geo.partition import balanced_assign, initial_centres, make_contiguous


def test_balanced_assign_meets_targets():
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 10_000, (4000, 2))
    w = rng.uniform(0.5, 1.5, 4000)
    targets = np.array([11.0, 8, 14, 14, 3])
    lab = balanced_assign(xy, w, initial_centres(xy, w, 5, rng), targets)
    share = np.bincount(lab, weights=w, minlength=5) / w.sum()
    np.testing.assert_allclose(share, targets / targets.sum(), atol=0.01)


def test_every_region_gets_an_item():
    xy = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    lab = balanced_assign(xy, np.ones(4), np.array([[0.0, 0], [0.1, 0], [0.2, 0]]), np.array([1.0, 1, 1]))
    assert set(lab.tolist()) == {0, 1, 2}


def test_make_contiguous_joins_detached_parts_but_keeps_islands():
    # a 1 x 5 strip: labels 0 0 1 0 0 -> the right-hand 0s are detached from the left ones; item 5 is an island
    labels = np.array([0, 0, 1, 1, 0, 2])
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])
    out = make_contiguous(labels, edges, np.array([1.0, 1, 1, 1, 1, 1]))
    assert out.tolist() == [0, 0, 1, 1, 1, 2]


def test_fixed_centres_stay_in_their_own_region_whatever_the_targets():
    # two fixed centres 1 km apart near the west edge, a free one far east; the targets want region 0 tiny:
    # the centres themselves (the last two items) still land in their own regions
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 10_000, (3000, 2))
    centres = np.array([[1000.0, 5000], [2000, 5000], [8000, 5000]])
    fixed = np.array([True, True, False])
    probe = np.vstack([xy, centres[:2]])
    lab = balanced_assign(probe, np.ones(len(probe)), centres, np.array([1.0, 50, 50]), fixed)
    assert lab[-2] == 0 and lab[-1] == 1


def test_make_contiguous_keeps_pinned_parts():
    # label 0's big part is items 0-2, but item 4 (detached, pinned: its seat) must stay 0 and be its main part
    labels = np.array([0, 0, 0, 1, 0, 1])
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])
    pinned = np.array([False, False, False, False, True, False])
    out = make_contiguous(labels, edges, np.ones(6), pinned=pinned)
    assert out[4] == 0
    assert out[:3].tolist() == [1, 1, 1]
