import geopandas as gpd
import pytest
import shapely

from geo.audit import audit_layer, summarise
from geo.crs import transformer
from geo.errors import CRSMismatchError

CRS = "EPSG:4548"


def _box(x0, y0, x1, y1):
    tr = transformer(CRS, "EPSG:4326")
    lon, lat = tr.transform([x0, x1, x1, x0], [y0, y0, y1, y1])
    return shapely.Polygon(zip(lon, lat, strict=True))


def _layer():
    # A and B overlap by 10 m x 100 m; C leaves a 20 m x 100 m gap after B; D is a 1 m wide strip
    return gpd.GeoDataFrame(
        {"dept": ["A", "B", "C", "D"]},
        geometry=[
            _box(600_000, 2_710_000, 600_100, 2_710_100),
            _box(600_090, 2_710_000, 600_200, 2_710_100),
            _box(600_220, 2_710_000, 600_300, 2_710_100),
            _box(600_000, 2_710_100, 600_300, 2_710_101),
        ],
        crs="EPSG:4326",
    )


def test_overlap_with_claimants_and_area():
    f = audit_layer(_layer(), "dept", CRS, area=_box(600_000, 2_710_000, 600_300, 2_710_101))
    ov = f[f["kind"] == "overlap"]
    assert ov["claimants"].tolist() == ["A;B"]
    assert ov["area_m2"].iloc[0] == pytest.approx(1000, rel=1e-3)


def test_gap_inside_area():
    f = audit_layer(_layer(), "dept", CRS, area=_box(600_000, 2_710_000, 600_300, 2_710_101))
    gaps = f[f["kind"] == "gap"]
    assert len(gaps) == 1
    assert gaps["area_m2"].iloc[0] == pytest.approx(2000, rel=1e-3)
    assert not gaps["sliver"].iloc[0]
    lon, lat = gaps["lon"].iloc[0], gaps["lat"].iloc[0]
    x, _ = transformer("EPSG:4326", CRS).transform(lon, lat)
    assert 600_200 < x < 600_220


def test_thin_feature_is_a_sliver():
    f = audit_layer(_layer(), "dept", CRS)
    thin = f[f["kind"] == "thin_feature"]
    assert thin["claimants"].tolist() == ["D"] and thin["sliver"].all()
    s = summarise(f)
    assert set(s["kind"]) == {"overlap", "thin_feature"}


def test_crs_mismatch_is_refused():
    with pytest.raises(CRSMismatchError):
        audit_layer(_layer().to_crs(CRS), "dept", CRS)
