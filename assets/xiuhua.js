/* Style and marker functions for dash-leaflet, in one namespace (window.xiuhua). Data and colours come in
   `hideout` (layers/map.py decides the colours), which dash-leaflet passes as the last argument, `context`. */
window.xiuhua = (function () {
    function mix(a, b, f) {
        const pa = parseInt(a.slice(1), 16), pb = parseInt(b.slice(1), 16);
        const c = [16, 8, 0].map(s => Math.round(((pa >> s) & 255) * (1 - f) + ((pb >> s) & 255) * f));
        return "#" + c.map(v => v.toString(16).padStart(2, "0")).join("");
    }
    // the metric's ramp (low, middle, high) comes in the hideout from layers/map.py, as the legend's swatch does
    function ramp(r, f) {
        return f < 0.5 ? mix(r[0], r[1], f * 2) : mix(r[1], r[2], (f - 0.5) * 2);
    }
    // GCJ-02 (the offset Chinese basemaps are drawn in) from WGS84, for display only; the server shifts back.
    const A = 6378245.0, EE = 0.00669342162296594323;
    function tLat(x, y) {
        let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
        r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
        r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
        return r + (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    }
    function tLon(x, y) {
        let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
        r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
        r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
        return r + (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    }
    function gcj(lon, lat) {
        if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lon, lat];
        let dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
        const rad = lat / 180 * Math.PI;
        let m = Math.sin(rad); m = 1 - EE * m * m;
        const s = Math.sqrt(m);
        dLat = (dLat * 180) / ((A * (1 - EE)) / (m * s) * Math.PI);
        dLon = (dLon * 180) / (A / s * Math.cos(rad) * Math.PI);
        return [lon + dLon, lat + dLat];
    }
    // incidents and hotspots are few and clickable: SVG paths (with classes) above the canvas-drawn areas
    let svg = null;
    function renderer() { if (!svg) { svg = L.svg({padding: 0.5}); } return svg; }
    // Leaflet's GeoJSON applies the layer's style over what pointToLayer made, so markers are styled by these
    // (as the layers' `style`) and pointToLayer only adds what a style cannot: class names, renderer, events
    // marks grow on maps taller than common screens give them (a 4K wall at 100 %), as the server's hotspot bins do
    function scale(context) {
        const h = context.hideout;
        return Math.max(1, Math.min(h.most, context.map.getSize().y / h.px));
    }
    function caseStyle(feature, context) {
        const p = feature.properties, h = context.hideout, k = scale(context);
        return {radius: k * (p.hl ? 11 : (p.urgent ? 9 : 6)), weight: k * (p.hl || p.over ? 3 : 1.2),
                color: p.hl ? h.selected : (p.over ? h.overdue : h.edge), opacity: 1,
                fillColor: h.stages[p.stage] || "#495057", fillOpacity: 0.95};
    }
    function hotspotStyle(feature, context) {
        const heat = feature.properties.heat, k = scale(context);
        return {radius: k * (7 + 2 * heat), color: "#ffffff", weight: k * 1.2, opacity: 0.9,
                fillColor: context.hideout.ramp[heat], fillOpacity: 0.85};
    }
    // the wall's clock and date, in the city's time zone and the page's language, ticking in the browser
    const clockFormats = {};
    function clockFormat(el, kind) {
        const key = kind + el.dataset.tz + el.dataset.lang;
        if (!clockFormats[key]) {
            const opts = kind === "clock" ? {hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"}
                : {year: "numeric", month: "long", day: "numeric", weekday: "long"};
            clockFormats[key] = new Intl.DateTimeFormat(el.dataset.lang === "zh" ? "zh-CN" : "en-GB",
                                                         Object.assign({timeZone: el.dataset.tz}, opts));
        }
        return clockFormats[key];
    }
    function tick() {
        const now = new Date();
        document.querySelectorAll("[data-clock]").forEach(function (el) {
            const text = clockFormat(el, el.dataset.clock).format(now);
            if (el.textContent !== text) { el.textContent = text; }
        });
    }
    setInterval(tick, 250);  // a new page's clock shows within a quarter of a second; no server round trip
    return {
        gcj: gcj,
        toLatLng: function (coords) { const g = gcj(coords[0], coords[1]); return L.latLng(g[1], g[0]); },
        // the land of the districts outside a scoped user's view comes as one outline (`other`): grey land
        landStyle: function (feature) {
            return feature.properties.other ? {color: "#c4c2bd", weight: 0.6, fillColor: "#e4e2de", fillOpacity: 1}
                : {color: "#b9b2a3", weight: 0.6, fillColor: "#f3efe6", fillOpacity: 1};
        },
        // a place name or a cell's code, centred on its point, in a pane above the areas that clicks pass through
        label: function (feature, latlng, context) {
            const map = context.map;
            if (!map.getPane("labels")) {
                const pane = map.createPane("labels");
                pane.style.zIndex = 450;
                pane.style.pointerEvents = "none";
            }
            const text = document.createElement("span");
            text.textContent = feature.properties.text;  // text, never HTML
            const icon = L.divIcon({html: text, className: "map-label label-" + context.hideout.kind, iconSize: null});
            return L.marker(latlng, {icon: icon, pane: "labels", interactive: false, keyboard: false});
        },
        lineStyle: function () { return {color: "#5c5470", weight: 2, fill: false, dashArray: "6 4"}; },
        zoneStyle: function (feature, context) {
            const h = context.hideout;
            const c = (h.grades && h.grades[feature.properties.grade]) || h.color;  // a signboard segment's grade
            return {color: c, weight: h.weight, fillColor: c, fillOpacity: h.fill};
        },
        areaStyle: function (feature, context) {
            const h = context.hideout || {};
            const c = (h.counts || {})[feature.properties.code];
            const v = c ? (h.metric === "overdue" ? c[1] : c[0]) : 0;
            const f = Math.min(1, v / (h.max || 1));
            return {color: "#6b6a80", weight: 0.7, fillColor: v ? ramp(h.ramp, Math.sqrt(f)) : "#ffffff",
                    fillOpacity: v ? 0.65 : 0.05};
        },
        caseStyle: caseStyle,
        caseMarker: function (feature, latlng, context) {
            const p = feature.properties;
            const cls = ["case-marker", "case-" + p.id, "stage-" + p.stage];
            if (p.over) { cls.push("overdue"); }
            if (p.urgent) { cls.push("urgent"); }
            if (p.hl) { cls.push("selected"); }
            const m = L.circleMarker(latlng, Object.assign(caseStyle(feature, context),
                                                           {className: cls.join(" "), renderer: renderer()}));
            m.bindTooltip(p.no);
            // a link to the case's page, where the page offers one (the wall, a kiosk, does not)
            const h = context.hideout || {};
            if (h.link) {
                const a = document.createElement("a");
                a.href = h.link + encodeURIComponent(p.id);
                a.className = "case-popup-link";
                a.textContent = p.no + " · " + h.open;  // text, never HTML
                m.bindPopup(a);
            }
            return m;
        },
        cluster: function (feature, latlng, index, context) {
            const n = feature.properties.point_count, k = scale(context);
            const size = k * (n < 10 ? 28 : n < 100 ? 34 : n < 1000 ? 42 : 50);
            return L.marker(latlng, {icon: L.divIcon({html: "<div style='font-size:" + 12 * k + "px'><span>" + n +
                "</span></div>", className: "case-cluster", iconSize: L.point(size, size)})});
        },
        hotspotStyle: hotspotStyle,
        hotspot: function (feature, latlng, context) {
            const p = feature.properties;
            const m = L.circleMarker(latlng, Object.assign(hotspotStyle(feature, context),
                {className: "hotspot heat-" + p.heat + " n-" + p.n, renderer: renderer()}));
            // a click on a hotspot zooms in on it, to where single incidents show
            m.on("click", function (e) { e.target._map.setView(latlng, Math.min(e.target._map.getZoom() + 3, 18)); });
            return m.bindTooltip(String(p.n));
        },
    };
})();
