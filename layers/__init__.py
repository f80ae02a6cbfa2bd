"""Map layers: the city's data turned into GeoJSON and dash-leaflet components, one module per kind of layer."""
