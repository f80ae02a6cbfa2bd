/* The inspector's phone page (/field): report a case, do verify and check tasks. No framework: Leaflet only.
   A report being written is kept in localStorage (its photos in IndexedDB), so a failed send or a reload loses
   nothing; it is cleared only once the server has given the case a number. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("field-config").textContent);
  var T = cfg.text;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var DRAFT = "xiuhua.field.draft";
  var $ = function (id) { return document.getElementById(id); };

  function tr(key, values) {
    return (T[key] || key).replace(/\{(\w+)\}/g, function (m, k) { return values && k in values ? values[k] : m; });
  }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "cls") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function show(node, on) { node.hidden = !on; }
  function status(node, text, kind) {
    node.textContent = "";
    node.className = "field-status " + (kind || "");
    if (text) node.appendChild(document.createTextNode(text));
    show(node, !!text);
  }

  // -- requests: one place turns every failure into a sentence -----------------------------------------
  function request(method, url, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrf, Accept: "application/json" } };
    if (body) opts.body = body;
    return fetch(url, opts).then(function (resp) {
      if (resp.status === 401 || resp.redirected) throw new Error(T.signed_out);
      var type = resp.headers.get("Content-Type") || "";
      var parse = type.indexOf("json") >= 0 ? resp.json() : resp.text().then(function (t) { return { error: t }; });
      return parse.then(function (data) {
        if (!resp.ok) {
          var err = new Error(data.error || resp.status + " " + resp.statusText);
          err.code = data.code; err.status = resp.status;
          throw err;
        }
        return data;
      });
    }, function () { throw new Error(T.offline); });
  }

  // -- photos kept in IndexedDB (if the browser has it): a reload keeps them too ---------------------
  var db = null;
  function openDb() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) return resolve(null);
      var req;
      try { req = indexedDB.open("xiuhua-field", 1); } catch (e) { return resolve(null); }
      req.onupgradeneeded = function () { req.result.createObjectStore("photos"); };
      req.onsuccess = function () { db = req.result; resolve(db); };
      req.onerror = function () { resolve(null); };
    });
  }
  function idb(mode, fn) {
    return new Promise(function (resolve) {
      if (!db) return resolve(null);
      try {
        var tx = db.transaction("photos", mode);
        var req = fn(tx.objectStore("photos"));
        tx.oncomplete = function () { resolve(req && req.result); };
        tx.onerror = tx.onabort = function () { resolve(null); };
      } catch (e) { resolve(null); }
    });
  }

  // -- the report -------------------------------------------------------------------------------------
  var report = { matter: null, lon: null, lat: null, accuracy: null, description: "" };
  var photos = [];  // {name, blob, url}
  var ownerOk = false;

  function saveDraft() {
    report.description = $("field-description").value;
    try { localStorage.setItem(DRAFT, JSON.stringify(report)); } catch (e) { /* private mode: memory only */ }
  }
  function savePhotos() {  // only when the photos change: they may be tens of MB
    idb("readwrite", function (s) { return s.put(photos.map(function (p) { return { name: p.name, blob: p.blob }; }), "draft"); });
  }
  function clearDraft() {
    try { localStorage.removeItem(DRAFT); } catch (e) { /* nothing kept */ }
    idb("readwrite", function (s) { return s.delete("draft"); });
  }
  function restoreDraft() {
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(DRAFT) || "null"); } catch (e) { saved = null; }
    return idb("readonly", function (s) { return s.get("draft"); }).then(function (kept) {
      if (!saved && !(kept && kept.length)) return;
      if (saved) {
        report = saved;
        $("field-description").value = saved.description || "";
        if (saved.matter) chooseMatter(saved.matter, true);
        if (saved.lon != null) place(saved.lon, saved.lat, saved.accuracy, true);
      }
      (kept || []).forEach(function (p) { addPhoto(p.name, p.blob); });
      if (saved && (saved.matter || saved.description || saved.lon != null)) status($("field-status"), T.draft_restored, "info");
    });
  }

  // matters: search by name or code, the inspector's recent ones first
  var byCode = {};
  cfg.matters.forEach(function (m) { byCode[m.code] = m; });
  function renderMatters() {
    var q = $("field-matter-search").value.trim().toLowerCase();
    var list = $("field-matter-list");
    list.textContent = "";
    var found = cfg.matters.filter(function (m) {
      return !q || m.code.indexOf(q) >= 0 || m.name.toLowerCase().indexOf(q) >= 0;
    });
    if (!q) found = found.filter(function (m) { return m.recent; }).concat(found.filter(function (m) { return !m.recent; }).slice(0, 8));
    found.slice(0, 30).forEach(function (m) {
      var b = el("button", { type: "button", cls: "field-item", "data-code": m.code, role: "option" }, [
        el("span", { cls: "field-code", text: m.code }), el("span", { text: m.name }),
        m.recent ? el("span", { cls: "field-tag", text: T.recent }) : null,
      ]);
      b.addEventListener("click", function () { chooseMatter(m.code); });
      list.appendChild(b);
    });
    if (!found.length) list.appendChild(el("li", { cls: "field-hint", text: T.no_match }));
  }
  function chooseMatter(code, quiet) {
    var m = byCode[code];
    if (!m) return;
    report.matter = code;
    var chosen = $("field-matter-chosen");
    chosen.textContent = "";
    var change = el("button", { type: "button", cls: "field-link", id: "field-matter-change", text: T.change });
    change.addEventListener("click", function () {
      show(chosen, false); show($("field-matter-search"), true); show($("field-matter-list"), true);
      $("field-matter-search").focus();
    });
    chosen.appendChild(el("span", { id: "field-matter-name", text: m.code + " " + m.name }));
    chosen.appendChild(change);
    show(chosen, true); show($("field-matter-search"), false); show($("field-matter-list"), false);
    if (!quiet) saveDraft();
    if (report.lon != null) resolve();
  }

  // the map: the inspector's land and patrol cells, a tap or the GPS places the case
  var map = null, mark = null, ring = null, land = null;
  function makeMap(node, interactive) {
    var m = L.map(node, { zoomControl: interactive, dragging: interactive, touchZoom: interactive, scrollWheelZoom: false,
                          doubleClickZoom: interactive, boxZoom: false, keyboard: interactive, tap: interactive,
                          attributionControl: !!cfg.tiles, preferCanvas: true });
    if (cfg.tiles) L.tileLayer(cfg.tiles, { subdomains: cfg.subdomains, attribution: cfg.attribution, maxZoom: 19 }).addTo(m);
    if (land) L.geoJSON(land, { style: landStyle, interactive: false }).addTo(m);
    return m;
  }
  function landStyle(f) {
    var p = f.properties || {};
    var out = !!p.other;
    return { color: out ? "#8a9bb0" : "#5b7a99", weight: out ? 0.5 : 1, fillColor: out ? "#dfe6ee" : "#f4f1e8",
             fillOpacity: cfg.tiles ? 0 : 1 };
  }
  function initMap() {
    var b = cfg.bounds;
    map = makeMap($("field-map"), true);
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    map.on("click", function (e) { place(e.latlng.lng, e.latlng.lat, null); });
    window.xiuhuaField = { map: map };  // for the browser tests and the benchmark
    return request("GET", "/field/api/map").then(function (data) {
      land = data.land;
      L.geoJSON(land, { style: landStyle, interactive: false }).addTo(map).bringToBack();
      if (data.cells && data.cells.features.length) {
        L.geoJSON(data.cells, { style: { color: "#c0392b", weight: 1, fill: false, dashArray: "3 3" }, interactive: false }).addTo(map);
      }
    }, function () { /* no land drawn: the map still takes taps */ });
  }
  function place(lon, lat, accuracy, quiet) {
    report.lon = Math.round(lon * 1e7) / 1e7;
    report.lat = Math.round(lat * 1e7) / 1e7;
    report.accuracy = accuracy;
    var ll = [lat, lon];
    if (!mark) mark = L.circleMarker(ll, { radius: 9, color: "#fff", weight: 3, fillColor: "#c0392b", fillOpacity: 1 }).addTo(map);
    mark.setLatLng(ll);
    if (ring) { map.removeLayer(ring); ring = null; }
    if (accuracy) ring = L.circle(ll, { radius: accuracy, color: "#2e86de", weight: 1, fillOpacity: 0.1, interactive: false }).addTo(map);
    $("field-accuracy").textContent = accuracy ? tr("accuracy", { m: Math.round(accuracy) }) : T.tapped;
    if (!quiet) saveDraft();
    resolve();
  }
  function useGps() {
    if (!navigator.geolocation) { $("field-accuracy").textContent = tr("gps_failed", { why: "—" }); return; }
    $("field-accuracy").textContent = T.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      var c = pos.coords;
      map.setView([c.latitude, c.longitude], Math.max(map.getZoom(), 17));
      place(c.longitude, c.latitude, c.accuracy);
    }, function (err) {
      $("field-accuracy").textContent = tr("gps_failed", { why: err.message || err.code });
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  }

  // the owner answer, before sending
  var asked = 0;
  function resolve() {
    var box = $("field-owner"), n = ++asked;
    var q = "lon=" + report.lon + "&lat=" + report.lat + (report.matter ? "&matter=" + report.matter : "");
    request("GET", "/field/api/resolve?" + q).then(function (o) {
      if (n !== asked) return;
      ownerOk = true;
      box.className = "field-owner";
      box.textContent = "";
      var rows = [["cell", o.cell], ["community", o.community], ["subdistrict", o.subdistrict], ["district", o.district],
                  ["squad", o.squad || T.squad_after_matter]];
      var dl = el("dl", {}, []);
      rows.forEach(function (r) { dl.appendChild(el("dt", { text: T[r[0]] })); dl.appendChild(el("dd", { text: r[1] })); });
      box.appendChild(dl);
      if (o.boundary_m != null) box.appendChild(el("p", { cls: "field-hint", text: tr("boundary", { m: o.boundary_m }) }));
      if (o.warning) box.appendChild(el("p", { cls: "field-warning", id: "field-boundary-warning", text: o.warning }));
      if (o.lawful) box.appendChild(el("p", { cls: "field-error", text: o.lawful }));
      show(box, true);
    }, function (err) {
      if (n !== asked) return;
      ownerOk = false;
      box.className = "field-owner field-error";
      box.textContent = err.message;
      show(box, true);
    });
  }

  // photos: from the camera, kept until the report is sent
  function addPhoto(name, blob) {
    if (photos.length >= cfg.maxPhotos) { status($("field-status"), tr("too_many_photos", { n: cfg.maxPhotos }), "error"); return; }
    if (blob.size > cfg.maxPhotoMb * 1024 * 1024) { status($("field-status"), tr("photo_too_large", { name: name, mb: cfg.maxPhotoMb }), "error"); return; }
    photos.push({ name: name, blob: blob, url: URL.createObjectURL(blob) });
    renderPhotos($("field-previews"), photos, savePhotos);
  }
  function renderPhotos(box, list, changed) {
    box.textContent = "";
    list.forEach(function (p, k) {
      var rm = el("button", { type: "button", cls: "field-remove", "aria-label": T.remove, text: "×" });
      rm.addEventListener("click", function () { URL.revokeObjectURL(p.url); list.splice(k, 1); renderPhotos(box, list, changed); changed(); });
      box.appendChild(el("figure", { cls: "field-photo" }, [el("img", { src: p.url, alt: p.name }), rm]));
    });
  }
  function takeFiles(input, list, box, msg, changed) {
    status(msg, "");
    Array.prototype.forEach.call(input.files, function (f) {
      if (list.length >= cfg.maxPhotos) return status(msg, tr("too_many_photos", { n: cfg.maxPhotos }), "error");
      if (f.size > cfg.maxPhotoMb * 1024 * 1024) return status(msg, tr("photo_too_large", { name: f.name, mb: cfg.maxPhotoMb }), "error");
      list.push({ name: f.name, blob: f, url: URL.createObjectURL(f) });
    });
    input.value = "";  // the same photo may be chosen again after removing it
    renderPhotos(box, list, changed);
    changed();
  }

  function send() {
    var st = $("field-status");
    if (!report.matter) return status(st, T.need_matter, "error");
    if (report.lon == null) return status(st, T.need_position, "error");
    if (!photos.length) return status(st, T.need_photo, "error");
    saveDraft();
    var fd = new FormData();
    fd.append("matter", report.matter);
    fd.append("lon", report.lon);
    fd.append("lat", report.lat);
    fd.append("description", $("field-description").value);
    photos.forEach(function (p) { fd.append("photos", p.blob, p.name); });
    var button = $("field-send");
    button.disabled = true;
    status(st, T.sending, "info");
    request("POST", "/field/api/report", fd).then(function (done) {
      clearDraft();
      st.textContent = "";
      st.className = "field-status ok";
      st.appendChild(el("strong", { id: "field-case-no", text: tr("sent", { no: done.case_no }) }));
      var again = el("button", { type: "button", cls: "field-button field-secondary", id: "field-again", text: T.new_report });
      again.addEventListener("click", resetReport);
      st.appendChild(again);
      show(st, true);
      show(button, false);
    }, function (err) {
      st.textContent = "";
      st.className = "field-status error";
      st.appendChild(el("p", { id: "field-error", text: tr("failed", { why: err.message }) }));
      var retry = el("button", { type: "button", cls: "field-button", id: "field-retry", text: T.retry });
      retry.addEventListener("click", send);
      st.appendChild(retry);
      show(st, true);
    }).then(function () { button.disabled = false; });
  }
  function resetReport() {
    photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
    photos = [];
    report = { matter: null, lon: null, lat: null, accuracy: null, description: "" };
    $("field-description").value = "";
    renderPhotos($("field-previews"), photos, function () {});
    show($("field-matter-chosen"), false); show($("field-matter-search"), true); show($("field-matter-list"), true);
    $("field-matter-search").value = "";
    renderMatters();
    if (mark) { map.removeLayer(mark); mark = null; }
    if (ring) { map.removeLayer(ring); ring = null; }
    $("field-accuracy").textContent = "";
    show($("field-owner"), false);
    status($("field-status"), "");
    show($("field-send"), true);
    window.scrollTo(0, 0);
  }

  // -- tasks ----------------------------------------------------------------------------------------
  var LABELS = { verify: "confirm", verify_fail: "not_confirm", check_pass: "fixed", check_fail: "not_fixed" };
  var seen = null;
  function loadTasks() {
    var st = $("field-tasks-status"), list = $("field-task-list");
    status(st, T.loading, "info");
    return request("GET", "/field/api/tasks").then(function (data) {
      list.textContent = "";
      status(st, data.tasks.length ? "" : T.no_tasks, "info");
      data.tasks.forEach(function (task) { list.appendChild(taskCard(task)); });
      count(data.tasks.length);
    }, function (err) { status(st, err.message, "error"); });
  }
  function count(n) { var b = $("field-task-count"); b.textContent = n; show(b, n > 0); }
  function taskCard(task) {
    var kind = task.kind === "verify" ? T.verify_task : T.check_task;
    var mapBox = el("div", { cls: "field-task-map" });
    var thumbs = el("div", { cls: "field-previews" }, task.photos.map(function (p) {
      return el("a", { href: p.view, target: "_blank", rel: "noopener", cls: "field-photo" },
                [el("img", { src: p.thumb, alt: p.stage, loading: "lazy" })]);
    }));
    var reason = el("textarea", { rows: "2", maxlength: "1000", placeholder: T.reason });
    var input = el("input", { type: "file", accept: "image/*", capture: "environment", multiple: "", cls: "field-file",
                              id: "field-task-photos-" + task.id });
    var pick = el("label", { "for": input.id, cls: "field-pick", text: T.take_photo });
    var previews = el("div", { cls: "field-previews" });
    var msg = el("div", { cls: "field-status", hidden: "" });
    var taken = [];
    input.addEventListener("change", function () { takeFiles(input, taken, previews, msg, function () {}); });
    var buttons = el("div", { cls: "field-choices" }, task.actions.map(function (a) {
      var b = el("button", { type: "button", cls: "field-button" + (/fail/.test(a.action) ? " field-negative" : ""),
                             "data-action": a.action, text: T[LABELS[a.action]] });
      b.addEventListener("click", function () { act(task, a.action, reason, taken, msg, card); });
      return b;
    }));
    var card = el("article", { cls: "field-task", id: "field-task-" + task.id, "data-case": task.case_no }, [
      el("h3", {}, [el("span", { cls: "field-tag", text: kind }), el("span", { text: " " + task.case_no })]),
      el("p", { cls: "field-matter", text: task.matter }),
      el("p", { cls: "field-hint", text: task.where }),
      el("p", { cls: "field-hint", text: T.deadline + " " + task.deadline + " · " + T.reported + " " + task.reported }),
      task.description ? el("p", { text: task.description }) : null,
      mapBox, thumbs,
      el("p", { cls: "field-label", text: T.check_photo }), input, pick, previews, reason, msg, buttons,
    ]);
    card._map = function () {
      var m = makeMap(mapBox, false);
      m.setView([task.lat, task.lon], 17);
      L.circleMarker([task.lat, task.lon], { radius: 8, color: "#fff", weight: 3, fillColor: "#c0392b", fillOpacity: 1 }).addTo(m);
    };
    if (seen) seen.observe(card); else card._map();
    return card;
  }
  function act(task, action, reason, taken, msg, card) {
    var needsReason = /fail/.test(action);
    if (needsReason && !reason.value.trim()) return status(msg, T.reason_needed, "error");
    if (task.kind === "check" && !taken.length) return status(msg, T.need_photo, "error");
    var fd = new FormData();
    fd.append("action", action);
    fd.append("version", task.version);
    fd.append("reason", reason.value);
    taken.forEach(function (p) { fd.append("photos", p.blob, p.name); });
    status(msg, T.sending, "info");
    request("POST", "/field/api/tasks/" + task.id, fd).then(function (done) {
      status($("field-tasks-status"), done.message, "ok");
      card.parentNode.removeChild(card);
      count($("field-task-list").children.length);
    }, function (err) {
      status(msg, err.message + (err.status === 409 ? " " + T.conflict_reloaded : ""), "error");
      if (err.status === 409) loadTasks().then(function () { status($("field-tasks-status"), err.message, "error"); });
    });
  }

  // -- tabs, and start --------------------------------------------------------------------------------
  var tasksLoaded = false;
  function tab(name) {
    var rep = name === "report";
    $("field-tab-report").setAttribute("aria-selected", rep);
    $("field-tab-tasks").setAttribute("aria-selected", !rep);
    show($("field-report"), rep); show($("field-tasks"), !rep);
    if (rep) map.invalidateSize();
    else if (!tasksLoaded) { tasksLoaded = true; loadTasks(); }
  }

  function start() {
    if ("IntersectionObserver" in window) {
      seen = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (e.isIntersecting && e.target._map) { e.target._map(); e.target._map = null; seen.unobserve(e.target); }
        });
      });
    }
    renderMatters();
    $("field-matter-search").addEventListener("input", renderMatters);
    $("field-description").addEventListener("input", saveDraft);
    $("field-photos").addEventListener("change", function () {
      var input = $("field-photos"), before = photos.length;
      Array.prototype.forEach.call(input.files, function (f) { addPhoto(f.name, f); });
      input.value = "";
      if (photos.length !== before) savePhotos();
    });
    $("field-gps").addEventListener("click", useGps);
    $("field-send").addEventListener("click", send);
    $("field-tab-report").addEventListener("click", function () { tab("report"); });
    $("field-tab-tasks").addEventListener("click", function () { tab("tasks"); });
    $("field-tasks-reload").addEventListener("click", loadTasks);
    var mapped = initMap();
    Promise.all([mapped, openDb().then(restoreDraft)]).then(function () {
      document.body.setAttribute("data-ready", "1");  // the benchmark and the browser tests wait for this
      if (window.performance && performance.mark) performance.mark("field-usable");
      tasksLoaded = true;
      loadTasks();  // for the count on the tab
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
