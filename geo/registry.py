"""Every layer of a built city, declared once: its id and district fields, how the map shows it, whether a
district's export holds it, whether a layer version may replace it (and with which attributes), and the
routing-table zone it stands for. The builder, the ownership engine, the map layers, the exports and the layer
versions all read this table: a new layer is one entry here, not edits in six places.
"""

from __future__ import annotations

from dataclasses import dataclass

# a signboard segment's grade (精品路段 / 一般路段 / 控制路段): what a signboard or advertising matter there gets
# (urgency, deadline) is the routing table's, by the zone "signboard_segment:<grade>"
SIGNBOARD_GRADES = ("premium", "standard", "controlled")


@dataclass(frozen=True)
class CityLayer:
    name: str
    id_field: str  # "code" for administrative units and cells, "id" for the rest
    district_field: str  # the field holding the district code (a district holds its own code)
    name_field: str | None = None
    simplify_m: float | None = None  # sent whole to the map, simplified to this tolerance; None: not whole
    overlay: bool = False  # a toggleable overlay on the map (zones, squads' areas)
    export: bool = False  # in a district's layer export
    editable: tuple[str, ...] | None = None  # a layer version may replace it; the attributes it must carry
    zone: str | None = None  # the zone name the routing table uses for it
    timed: bool = False  # has opening hours ("hours"): lawful only inside them
    grades: tuple[str, ...] = ()  # values of its "grade" field; the routing table may name "<zone>:<grade>"


LAYERS: dict[str, CityLayer] = {
    layer.name: layer
    for layer in (
        CityLayer("districts", "code", "code", "name", simplify_m=5, export=True, editable=()),
        CityLayer("land", "code", "code", "name", simplify_m=5),
        CityLayer("subdistricts", "code", "district_code", "name", simplify_m=5, export=True),
        CityLayer("communities", "code", "district_code", "name", simplify_m=5, export=True),
        CityLayer("grid_cells", "code", "district_code", export=True, editable=()),  # by box, never whole
        CityLayer("squads", "id", "district_code", "name", simplify_m=5, overlay=True, export=True),
        CityLayer(
            "vendor_zones",
            "id",
            "district_code",
            "name",
            simplify_m=0,
            overlay=True,
            export=True,
            editable=("hours",),
            zone="vendor_zone",
            timed=True,
        ),
        CityLayer(
            "storefront_zones",
            "id",
            "district_code",
            simplify_m=0,
            overlay=True,
            export=True,
            editable=("hours",),
            zone="storefront_zone",
            timed=True,
        ),
        CityLayer(
            "model_streets",
            "id",
            "district_code",
            "name",
            simplify_m=0,
            overlay=True,
            export=True,
            editable=("custodian_squad",),
            zone="model_street",
        ),
        CityLayer(
            "signboard_segments",
            "id",
            "district_code",
            "name",
            simplify_m=0,
            overlay=True,
            export=True,
            editable=(),
            zone="signboard_segment",
            grades=SIGNBOARD_GRADES,
        ),
    )
}
ZONE_LAYERS = {layer.zone: name for name, layer in LAYERS.items() if layer.zone}  # routing zone -> layer
TIMED_ZONES = tuple(layer.zone for layer in LAYERS.values() if layer.zone and layer.timed)
GRADED_ZONES = {layer.zone: layer.grades for layer in LAYERS.values() if layer.zone and layer.grades}
INDEXED = ("districts", "grid_cells", *ZONE_LAYERS.values())  # what the ownership engine looks points up in
EDITABLE = {name: layer for name, layer in LAYERS.items() if layer.editable is not None}
