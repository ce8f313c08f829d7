// @ts-check
// The recipient's small map: the shared place and its radius, the incident, and the shared
// cameras' fields of view, on the municipality's offline base map when the server offers it
// (the console's base-map styles; no tiles from the internet), else on a plain background.

import { fovCone } from '../geo.js';
import { displayName, t } from '../i18n.js';
import { BASE_STYLES } from '../map/base.js';
import { SEVERITY_COLOURS } from '../map/incidents.js';
import { basemap } from './api.js';

/** @typedef {import('../types').ShareAccess} ShareAccess */

const CAMERA_COLOUR = '#4ea1ff';
const DEFAULT_RANGE_M = 100;

/** @type {L.Map | null} */
let map = null;
/** @type {L.LayerGroup | null} */
let shapes = null;

/** @param {string} s */
function escapeText(s) {
  const d = document.createElement('span');
  d.textContent = s;
  return d.innerHTML;
}

/**
 * Draw the share on the map in `container` (created on first use; redrawn in place after).
 * @param {HTMLElement} container
 * @param {ShareAccess} access
 */
export function drawShareMap(container, access) {
  const { share, incident, cameras } = access;
  if (!map) {
    map = L.map(container, { zoomControl: true, attributionControl: true, scrollWheelZoom: false, keyboard: true });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(escapeText(t('map.attribution')));
    map.createPane('basemap').style.zIndex = '200';
    shapes = L.layerGroup().addTo(map);
    const base = L.layerGroup().addTo(map);
    const renderer = L.canvas({ pane: 'basemap' });
    basemap().then((data) => {
      if (!data || !data.layers) return;
      let drawn = 0;
      for (const name of ['landuse', 'water', 'buildings', 'roads']) {
        const fc = data.layers[name];
        /** @type {L.GeoJSONOptions & {renderer: L.Renderer}} */
        const options = { renderer, pane: 'basemap', interactive: false, style: BASE_STYLES[name] };
        if (!fc || !fc.features.length) continue;
        base.addLayer(L.geoJSON(fc, options));
        drawn += 1;
      }
      if (drawn) container.dataset.basemap = 'true';
    });
  }
  const group = /** @type {L.LayerGroup} */ (shapes);
  group.clearLayers();
  const center = L.latLng(share.lat, share.lon);
  const area = L.circle(center, { radius: share.radius_m, color: '#ffd33d', weight: 2, dashArray: '6 6', fill: true, fillOpacity: 0.06, interactive: false });
  group.addLayer(area);
  for (const cam of cameras) {
    const cone = fovCone(cam.lat, cam.lon, cam.heading, cam.fov, cam.range_m || DEFAULT_RANGE_M);
    const poly = L.polygon(cone, { color: CAMERA_COLOUR, weight: 1, opacity: 0.9, fillColor: CAMERA_COLOUR, fillOpacity: 0.18 });
    poly.bindTooltip(escapeText(displayName(cam) || cam.id), { sticky: true, className: 'map-tip' });
    group.addLayer(poly);
    group.addLayer(L.circleMarker([cam.lat, cam.lon], { radius: 4, color: CAMERA_COLOUR, weight: 2, fillColor: '#0a0e13', fillOpacity: 1, interactive: false }));
  }
  if (incident && incident.lat !== null && incident.lon !== null) {
    const colour = SEVERITY_COLOURS[incident.severity] || SEVERITY_COLOURS.severe;
    const marker = L.circleMarker([incident.lat, incident.lon], { radius: 9, color: '#fff', weight: 2, fillColor: colour, fillOpacity: 1 });
    marker.bindTooltip(escapeText(t('share.map_incident')), { className: 'map-tip' });
    group.addLayer(marker);
  }
  const m = /** @type {L.Map} */ (map);
  m.invalidateSize();
  m.fitBounds(center.toBounds(Math.max(100, share.radius_m * 2.4)), { animate: false, maxZoom: 18 });
  container.dataset.cameras = String(cameras.length);
}

/** Forget the map (the page shows an ended share instead). */
export function removeShareMap() {
  if (map) map.remove();
  map = null;
  shapes = null;
}
