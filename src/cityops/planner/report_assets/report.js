// The plan report's map: the vendored Leaflet, no tiles, everything from plan-data.js.
// @ts-nocheck  (a standalone file next to report.html, not part of the console)
(function () {
  "use strict";
  var data = window.CITYOPS_PLAN;
  var el = document.getElementById("map");
  if (!data || !el || !window.L) {
    return;
  }
  var map = L.map(el, { preferCanvas: true, attributionControl: true, zoomSnap: 0.25 });
  map.attributionControl.setPrefix("");
  map.attributionControl.addAttribution("Map data © OpenStreetMap contributors (ODbL)");
  var b = data.plan.plan.bounds;
  map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
  L.geoJSON(data.basemap, {
    style: function (f) {
      if (f.properties.kind === "street") {
        return { color: f.properties["class"] === "path" ? "#d7ccc8" : "#fff", weight: 3, opacity: 1 };
      }
      return { color: "#888", weight: 0.5, fillColor: "#bbb", fillOpacity: 0.8 };
    },
  }).addTo(map);
  var existing = L.geoJSON(data.plan, {
    filter: function (f) { return f.properties.kind === "existing_view" || f.properties.kind === "existing_camera"; },
    style: function () { return { color: "#616161", weight: 1, fillColor: "#9e9e9e", fillOpacity: 0.25 }; },
    pointToLayer: function (f, ll) {
      return L.circleMarker(ll, { radius: 4, color: "#424242", fillColor: "#9e9e9e", fillOpacity: 1, weight: 2 });
    },
  }).addTo(map);
  var views = L.geoJSON(data.plan, {
    filter: function (f) { return f.properties.kind === "view"; },
    style: function () { return { color: "#1565c0", weight: 1, fillColor: "#42a5f5", fillOpacity: 0.3 }; },
  }).addTo(map);
  var cameras = L.geoJSON(data.plan, {
    filter: function (f) { return f.properties.kind === "camera"; },
    pointToLayer: function (f, ll) {
      return L.circleMarker(ll, { radius: 6, color: "#0d47a1", fillColor: "#fff", fillOpacity: 1, weight: 3 });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip("#" + p.rank + " " + p.model + (p.heading_deg === null ? " (PTZ)" : " " + p.heading_deg + "°"));
    },
  }).addTo(map);
  var keys = L.geoJSON(data.plan, {
    filter: function (f) { return f.properties.kind === "key_object"; },
    pointToLayer: function (f, ll) {
      var bad = f.properties.uncovered;
      return L.circleMarker(ll, { radius: 4, color: bad ? "#c62828" : "#2e7d32", fillOpacity: 0.9, weight: 1 });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip((p.name || p.category) + ": " + Math.round(p.covered * 100) + "%");
    },
  }).addTo(map);
  var t = data.labels || {};
  var overlays = {};
  overlays[t.layer_existing || "existing cameras"] = existing;
  overlays[t.layer_views || "fields of view"] = views;
  overlays[t.layer_cameras || "proposed cameras"] = cameras;
  overlays[t.layer_keys || "key objects"] = keys;
  L.control.layers(null, overlays).addTo(map);
  document.body.setAttribute("data-map-ready", String(cameras.getLayers().length));
})();
