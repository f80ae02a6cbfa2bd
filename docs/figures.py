"""Draw docs/city.png from the built demo city (run by `make figures`; needs the dev extra's matplotlib)."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent


def main(gpkg: Path) -> None:
    read = lambda layer: gpd.read_file(gpkg, layer=layer)  # noqa: E731
    districts, subs, comms = read("districts"), read("subdistricts"), read("communities")
    cells, vendor, store, model = (
        read("grid_cells"),
        read("vendor_zones"),
        read("storefront_zones"),
        read("model_streets"),
    )
    fig, ax = plt.subplots(1, 2, figsize=(18, 9), facecolor="white")
    palette = plt.get_cmap("tab20").colors
    subs.plot(ax=ax[0], color=[palette[(k * 7) % 20] for k in range(len(subs))], edgecolor="#333", linewidth=0.4)
    districts.boundary.plot(ax=ax[0], color="#c00", linewidth=1.2)
    ax[0].set_title("54 sub-districts (synthetic shapes) in 6 real districts")
    box = (118.11, 24.47, 118.15, 24.50)
    view = cells.cx[box[0] : box[2], box[1] : box[3]]
    view.plot(ax=ax[1], facecolor="#f4f1ea", edgecolor="#bbb", linewidth=0.3)
    comms.cx[box[0] : box[2], box[1] : box[3]].boundary.plot(ax=ax[1], color="#555", linewidth=0.8)
    subs.cx[box[0] : box[2], box[1] : box[3]].boundary.plot(ax=ax[1], color="#000", linewidth=1.6)
    model.plot(ax=ax[1], color="#2a7", alpha=0.6)
    vendor.plot(ax=ax[1], color="#e60", edgecolor="#e60")
    store.plot(ax=ax[1], color="#c0c", edgecolor="#c0c")
    ax[1].set_xlim(box[0], box[2])
    ax[1].set_ylim(box[1], box[3])
    ax[1].set_title("100 m unit grid, communities, a model street (green), vendor points (orange), storefront zones")
    for a in ax:
        a.set_axis_off()
    fig.suptitle("Xiamen demo city (synthetic inside real outlines)", fontsize=14)
    fig.savefig(HERE / "city.png", dpi=80, bbox_inches="tight")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "data" / "xiamen" / "build" / "city.gpkg")
