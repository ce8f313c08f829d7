// @ts-check
// The map: offline base map from /basemap on a canvas, optional online tiles, camera
// field-of-view cones, sensors, key objects and clustered incidents. Live updates restyle
// existing layers in place, batched per animation frame.

import { getJSON, mpath } from './api.js';
import { byId, h } from './dom.js';
import { displayName, fmtNumber, incidentTitle, t, tMaybe } from './i18n.js';
import { fovCone } from './geo.js';
import { emit, incidentMatchesFilters, on, schedule, SEVERITIES, SEVERITY_RANK, state } from './state.js';

/** @typedef {Readonly<import('./types').IncidentSummary>} Incident */
/** @typedef {Readonly<import('./types').Sensor>} Sensor */
/** @typedef {Readonly<import('./types').Camera>} Camera */
/** @typedef {Readonly<import('./types').KeyObject>} KeyObject */
/** @typedef {GeoJSON.Feature} Feature */
/**
 * @typedef {object} Groups
 * @property {L.LayerGroup} base
 * @property {L.LayerGroup} cameras
 * @property {L.LayerGroup} sensors
 * @property {L.LayerGroup} labels
 * @property {L.LayerGroup} keyObjects
 * @property {LMarkerClusterGroup} incidents
 */
/** @typedef {L.MarkerOptions & {severity?: string}} IncidentMarkerOptions */

/** @type {Readonly<Record<string, string>>} */
export const SEVERITY_COLOURS = { minor: '#58a6ff', moderate: '#e3b341', severe: '#f0883e', extreme: '#ff4d4f' };
/** @type {Readonly<Record<string, string>>} */
export const HEALTH_COLOURS = { online: '#3fb950', stale: '#d29922', tampered: '#db61a2', offline: '#f85149', unknown: '#8b949e' };
/** Sensor states: stale (no data for a while) is amber and hollow, offline grey and hollow. */
/** @type {Readonly<Record<string, string>>} */
export const SENSOR_COLOURS = { ok: '#3fb950', alarm: '#ff4d4f', stale: '#c69026', offline: '#6e7681', unknown: '#a5b4c5' };

/** @type {Readonly<Record<string, L.PathOptions>>} */
const ROAD_STYLE = {
  motorway: { color: '#8a6d3b', weight: 5 },
  trunk: { color: '#7d6a45', weight: 4.5 },
  primary: { color: '#6f6650', weight: 4 },
  secondary: { color: '#5d6470', weight: 3.2 },
  tertiary: { color: '#525c69', weight: 2.6 },
  residential: { color: '#46505c', weight: 2 },
  service: { color: '#3a434e', weight: 1.3 },
  path: { color: '#3a4550', weight: 1, dashArray: '3 3' },
};
const LANDUSE_GREEN = new Set(['park', 'grass', 'wood', 'forest', 'meadow', 'recreation_ground', 'village_green', 'cemetery', 'allotments', 'orchard', 'vineyard', 'farmland']);
const LANDUSE_WORK = new Set(['industrial', 'commercial', 'retail', 'railway', 'construction', 'brownfield', 'military']);

const LABEL_MIN_ZOOM = 18;
const LABEL_CELL = [96, 22]; // one label per screen cell, so labels never pile up
const LABEL_MAX = 250;

// Set by initMap before anything else here runs.
/** @type {L.Map} */
let map;
/** @type {{base: L.Canvas, cameras: L.Canvas, sensors: L.Canvas}} */
let renderers;
/** @type {Groups} */
let groups;
/** @type {L.Control.Layers | null} */
let layerControl = null;
/** @type {{offline?: L.Layer, online?: L.TileLayer}} */
const baseLayers = {};
/** @type {Map<string, {layer: L.Polygon, health: string}>} */
const cameraShapes = new Map();
/** @type {Map<string, {layer: L.CircleMarker, state: string}>} */
const sensorMarkers = new Map();
/** @type {Map<string, L.Marker>} */
const keyMarkers = new Map();
/** @type {Map<number, {marker: L.Marker, key: string}>} */
const incidentMarkers = new Map();
/** @type {Map<string, L.Marker>} */
const sensorLabels = new Map();
/** @type {{sensors: Set<string>, cameras: Set<string>, incidents: Set<number>}} */
const dirty = { sensors: new Set(), cameras: new Set(), incidents: new Set() };
/** @type {L.Marker | null} */
let highlight = null;
/** @type {L.LatLngBounds | null} */
let basemapBounds = null;
/** @type {string | null} */
let attribution = null;
let viewSettled = false;
let focusToken = 0;

/** @param {Feature | undefined} feature */
const featureClass = (feature) => (feature && feature.properties && String(feature.properties.class)) || '';

/**
 * @param {Feature | undefined} feature
 * @returns {L.PathOptions}
 */
function landuseStyle(feature) {
  const cls = featureClass(feature);
  if (LANDUSE_GREEN.has(cls)) return { fillColor: '#14261c', fillOpacity: 1, stroke: false };
  if (LANDUSE_WORK.has(cls)) return { fillColor: '#1d1a26', fillOpacity: 1, stroke: false };
  return { fillColor: '#141b24', fillOpacity: 1, stroke: false };
}

/**
 * @param {Feature | undefined} feature
 * @returns {L.PathOptions}
 */
function waterStyle(feature) {
  const g = feature && feature.geometry && feature.geometry.type;
  if (g === 'LineString' || g === 'MultiLineString') {
    const cls = featureClass(feature);
    return { color: '#1f4f7a', weight: cls === 'river' || cls === 'canal' ? 4 : 2, opacity: 1 };
  }
  return { fillColor: '#0f2e4a', fillOpacity: 1, color: '#1f4f7a', weight: 1 };
}

/**
 * @param {Feature | undefined} feature
 * @returns {L.PathOptions}
 */
function roadStyle(feature) {
  const s = ROAD_STYLE[featureClass(feature)] || ROAD_STYLE.service;
  return { ...s, opacity: 1, lineCap: 'round', lineJoin: 'round' };
}

/** @returns {L.PathOptions} */
function buildingStyle() {
  return { fillColor: '#1e2733', fillOpacity: 1, color: '#2b3746', weight: 1 };
}

/** @type {Readonly<Record<string, (feature: Feature | undefined) => L.PathOptions>>} */
const BASE_STYLES = { landuse: landuseStyle, water: waterStyle, buildings: buildingStyle, roads: roadStyle };

/**
 * @param {Camera} cam
 * @returns {L.PathOptions}
 */
function cameraStyle(cam) {
  const c = HEALTH_COLOURS[cam.health] || HEALTH_COLOURS.unknown;
  return { color: c, weight: 1, opacity: 0.8, fillColor: c, fillOpacity: cam.health === 'online' ? 0.16 : 0.22 };
}

/**
 * @param {Sensor} s
 * @returns {L.CircleMarkerOptions}
 */
function sensorStyle(s) {
  const c = SENSOR_COLOURS[s.state] || SENSOR_COLOURS.unknown;
  if (s.state === 'alarm') return { radius: 7, color: '#ffd6d6', weight: 2, fillColor: c, fillOpacity: 1, dashArray: '' };
  if (s.state === 'ok') return { radius: 5, color: '#0b0f14', weight: 1, fillColor: c, fillOpacity: 0.95, dashArray: '' };
  // stale: the last value is old, the sensor may still be there; a dashed amber ring
  if (s.state === 'stale') return { radius: 5, color: c, weight: 2, fillColor: '#2a2110', fillOpacity: 0.9, dashArray: '3 2' };
  return { radius: 5, color: c, weight: 1.5, fillColor: '#0b0f14', fillOpacity: 0.85, dashArray: '' };
}

/** @param {Sensor} s */
function sensorValueText(s) {
  if (s.value === null || s.value === undefined) return '—';
  return `${fmtNumber(s.value, 1)}${s.unit ? ` ${s.unit}` : ''}`;
}

/** @param {Incident} inc */
function incidentIcon(inc) {
  const dot = h('span', { class: 'inc-dot', dataset: { testid: 'incident-marker', incidentId: inc.id, severity: inc.severity, status: inc.status } });
  return L.divIcon({
    className: `inc-marker sev-${inc.severity} st-${inc.status}`,
    html: dot,
    iconSize: [22, 22],
    iconAnchor: [11, 11],
  });
}

/** @param {LMarkerCluster} cluster */
function clusterIcon(cluster) {
  let worst = 'minor';
  for (const m of cluster.getAllChildMarkers()) {
    const sev = /** @type {IncidentMarkerOptions} */ (m.options).severity || 'minor';
    if ((SEVERITY_RANK[sev] || 0) > (SEVERITY_RANK[worst] || 0)) worst = sev;
  }
  const n = cluster.getChildCount();
  const size = n < 10 ? 32 : n < 50 ? 38 : 44;
  return L.divIcon({
    className: `inc-cluster sev-${worst}`,
    html: h('span', { dataset: { testid: 'incident-cluster', count: n, severity: worst } }, String(n)),
    iconSize: [size, size],
  });
}

/** @param {KeyObject} ko */
function keyObjectIcon(ko) {
  return L.divIcon({ className: `key-marker ko-${ko.kind}`, html: '<span></span>', iconSize: [14, 14], iconAnchor: [7, 7] });
}

/**
 * @param {import('./types').DetailKind} kind
 * @param {string | number} id
 */
function openDetail(kind, id) {
  emit('open-detail', { kind, id, fly: false });
}

// --- building layers

/** @param {Camera} cam */
function addCamera(cam) {
  if (!cam.position) return;
  const pts = fovCone(cam.position.lat, cam.position.lon, cam.heading_deg, cam.fov_deg, cam.range_m);
  const poly = L.polygon(pts, { renderer: renderers.cameras, ...cameraStyle(cam) });
  poly.on('click', () => openDetail('camera', cam.id));
  poly.bindTooltip(() => `${escapeText(displayName(state.cameras.get(cam.id) || cam))} · ${t(`health.${(state.cameras.get(cam.id) || cam).health || 'unknown'}`)}`, { sticky: true, className: 'map-tip' });
  groups.cameras.addLayer(poly);
  cameraShapes.set(cam.id, { layer: poly, health: cam.health });
}

/** @param {Sensor} s */
function addSensor(s) {
  if (!s.position) return;
  const m = L.circleMarker([s.position.lat, s.position.lon], { renderer: renderers.sensors, ...sensorStyle(s) });
  m.on('click', () => openDetail('sensor', s.id));
  m.bindTooltip(() => {
    const cur = state.sensors.get(s.id) || s;
    return `${escapeText(displayName(cur))}: ${escapeText(sensorValueText(cur))} · ${t(`sensor_state.${cur.state || 'unknown'}`)}`;
  }, { className: 'map-tip' });
  groups.sensors.addLayer(m);
  sensorMarkers.set(s.id, { layer: m, state: s.state });
}

/** @param {string} s */
function escapeText(s) {
  const d = document.createElement('span');
  d.textContent = s;
  return d.innerHTML;
}

function rebuildCameras() {
  groups.cameras.clearLayers();
  cameraShapes.clear();
  for (const cam of state.cameras.values()) addCamera(cam);
}

function rebuildSensors() {
  groups.sensors.clearLayers();
  sensorMarkers.clear();
  for (const s of state.sensors.values()) addSensor(s);
  updateLabels();
}

function rebuildKeyObjects() {
  groups.keyObjects.clearLayers();
  keyMarkers.clear();
  for (const ko of state.keyObjects.values()) {
    if (!ko.position) continue;
    const m = L.marker([ko.position.lat, ko.position.lon], { icon: keyObjectIcon(ko), keyboard: false, riseOnHover: true, pane: 'keyObjects' });
    m.on('click', () => openDetail('key_object', ko.id));
    m.bindTooltip(() => `${escapeText(displayName(ko))} · ${escapeText(tMaybe(`key_kind.${ko.kind}`, ko.kind))}`, { className: 'map-tip', direction: 'top' });
    groups.keyObjects.addLayer(m);
    keyMarkers.set(ko.id, m);
  }
}

/**
 * @param {Incident | undefined} inc
 * @returns {inc is Incident & {location: import('./types').Position}}
 */
function incidentVisible(inc) {
  return Boolean(inc && inc.location && incidentMatchesFilters(inc, state.filters));
}

/**
 * @param {number} id
 * @param {L.Marker[]} [batchAdd]
 */
function syncIncident(id, batchAdd) {
  const inc = state.incidents.get(id);
  const existing = incidentMarkers.get(id);
  if (!incidentVisible(inc)) {
    if (existing) {
      groups.incidents.removeLayer(existing.marker);
      incidentMarkers.delete(id);
    }
    return;
  }
  const key = `${inc.severity}|${inc.status}`;
  /** @type {[number, number]} */
  const ll = [inc.location.lat, inc.location.lon];
  if (!existing) {
    /** @type {IncidentMarkerOptions} */
    const options = { icon: incidentIcon(inc), severity: inc.severity, keyboard: false };
    const marker = L.marker(ll, options);
    marker.on('click', () => {
      emit('select-incident', id);
      openDetail('incident', id);
    });
    marker.bindTooltip(() => escapeText(incidentTitle(state.incidents.get(id) || inc)), { className: 'map-tip', direction: 'top', offset: [0, -10] });
    incidentMarkers.set(id, { marker, key });
    if (batchAdd) batchAdd.push(marker);
    else groups.incidents.addLayer(marker);
    return;
  }
  const { marker } = existing;
  const cur = marker.getLatLng();
  if (cur.lat !== ll[0] || cur.lng !== ll[1]) marker.setLatLng(ll);
  if (existing.key !== key) {
    existing.key = key;
    /** @type {IncidentMarkerOptions} */ (marker.options).severity = inc.severity;
    marker.setIcon(incidentIcon(inc));
    groups.incidents.refreshClusters(marker);
  }
}

function syncAllIncidents() {
  // until the start view is set (settleView), drawing would only animate clusters into it
  if (!viewSettled) return;
  /** @type {L.Marker[]} */
  const batch = [];
  for (const id of [...incidentMarkers.keys()]) if (!state.incidents.has(id)) syncIncident(id);
  for (const id of state.incidents.keys()) syncIncident(id, batch);
  if (batch.length) groups.incidents.addLayers(batch);
}

function flushDirty() {
  const restyled = [];
  for (const id of dirty.sensors) {
    const s = state.sensors.get(id);
    const rec = sensorMarkers.get(id);
    if (!s || !rec) continue;
    if (rec.state !== s.state) {
      rec.state = s.state;
      rec.layer.setStyle(sensorStyle(s));
      if (s.state === 'alarm') rec.layer.bringToFront();
      restyled.push({ id, state: s.state, fillColor: rec.layer.options.fillColor });
    }
    const label = sensorLabels.get(id);
    if (label) fillLabel(label, s);
  }
  dirty.sensors.clear();
  // for tests and benchmarks: a sensor's colour on the map changed (drawn in the next frame)
  if (restyled.length) window.dispatchEvent(new CustomEvent('cityops:sensors-restyled', { detail: restyled }));
  for (const id of dirty.cameras) {
    const c = state.cameras.get(id);
    const rec = cameraShapes.get(id);
    if (!c || !rec || rec.health === c.health) continue;
    rec.health = c.health;
    rec.layer.setStyle(cameraStyle(c));
  }
  dirty.cameras.clear();
  if (viewSettled) for (const id of dirty.incidents) syncIncident(id);
  dirty.incidents.clear();
}

// --- value labels for sensors at street zoom (DOM, so only for what is in view)

/**
 * @param {L.Marker} marker
 * @param {Sensor} s
 */
function fillLabel(marker, s) {
  const el = marker.getElement();
  if (!el) return;
  const span = el.firstChild;
  if (span) span.textContent = sensorValueText(s);
  el.className = `sensor-label leaflet-marker-icon st-${s.state || 'unknown'}`;
}

function updateLabels() {
  if (!map) return;
  const show = map.getZoom() >= LABEL_MIN_ZOOM && map.hasLayer(groups.sensors);
  const keep = new Set();
  if (show) {
    const bounds = map.getBounds().pad(0.1);
    const taken = new Set();
    // alarms first, so they get a label wherever labels compete for room
    const ordered = [...state.sensors.values()].sort((a, b) => Number(b.state === 'alarm') - Number(a.state === 'alarm'));
    for (const s of ordered) {
      if (keep.size >= LABEL_MAX) break;
      if (!s.position || !bounds.contains([s.position.lat, s.position.lon])) continue;
      const pt = map.latLngToContainerPoint([s.position.lat, s.position.lon]);
      const cell = `${Math.floor(pt.x / LABEL_CELL[0])}:${Math.floor(pt.y / LABEL_CELL[1])}`;
      if (taken.has(cell)) continue;
      taken.add(cell);
      keep.add(s.id);
      if (!sensorLabels.has(s.id)) {
        const m = L.marker([s.position.lat, s.position.lon], {
          // iconSize null: the label's own CSS sizes it
          icon: L.divIcon({ className: 'sensor-label', html: h('span', null, ''), iconSize: /** @type {any} */ (null), iconAnchor: [-8, 8] }),
          interactive: false,
          keyboard: false,
          pane: 'labels',
        });
        groups.labels.addLayer(m);
        sensorLabels.set(s.id, m);
      }
      const label = sensorLabels.get(s.id);
      if (label) fillLabel(label, s);
    }
  }
  for (const [id, m] of sensorLabels) {
    if (!keep.has(id)) {
      groups.labels.removeLayer(m);
      sensorLabels.delete(id);
    }
  }
}

// --- base map

async function loadBasemap() {
  groups.base.clearLayers();
  basemapBounds = null;
  /** @type {{layers?: Record<string, GeoJSON.FeatureCollection>, bounds?: number[]}} */
  let data;
  try {
    data = await getJSON(mpath(state.mid || '', '/basemap'));
  } catch (err) {
    console.warn('basemap unavailable', err);
    emit('basemap', { ok: false });
    return;
  }
  for (const name of ['landuse', 'water', 'buildings', 'roads']) {
    const fc = data.layers && data.layers[name];
    if (!fc) continue;
    /** @type {L.GeoJSONOptions & {renderer: L.Renderer}} */
    const options = { renderer: renderers.base, pane: 'basemap', interactive: false, style: BASE_STYLES[name] };
    groups.base.addLayer(L.geoJSON(fc, options));
  }
  if (data.bounds && data.bounds.length === 4) {
    const [w = 0, s = 0, e = 0, n = 0] = data.bounds;
    basemapBounds = L.latLngBounds([s, w], [n, e]);
  }
  emit('basemap', { ok: true });
}

function buildLayerControl() {
  if (layerControl) layerControl.remove();
  /** @type {Record<string, L.Layer>} */
  const bases = {};
  if (baseLayers.offline) bases[t('map.layer_offline')] = baseLayers.offline;
  if (baseLayers.online) bases[t('map.layer_online')] = baseLayers.online;
  const overlays = {
    [t('map.layer_incidents')]: groups.incidents,
    [t('map.layer_cameras')]: groups.cameras,
    [t('map.layer_sensors')]: groups.sensors,
    [t('map.layer_key_objects')]: groups.keyObjects,
  };
  layerControl = L.control.layers(bases, overlays, { collapsed: window.innerWidth < 1500, position: 'topright' }).addTo(map);
  const toggle = layerControl.getContainer()?.querySelector('.leaflet-control-layers-toggle');
  if (toggle instanceof HTMLElement) {
    toggle.title = t('map.layers');
    toggle.setAttribute('aria-label', t('map.layers'));
  }
}

function translateControls() {
  const zoom = map.zoomControl && map.zoomControl.getContainer();
  const zin = zoom && zoom.querySelector('.leaflet-control-zoom-in');
  const zout = zoom && zoom.querySelector('.leaflet-control-zoom-out');
  if (zin instanceof HTMLElement) {
    zin.title = t('map.zoom_in');
    zin.setAttribute('aria-label', t('map.zoom_in'));
  }
  if (zout instanceof HTMLElement) {
    zout.title = t('map.zoom_out');
    zout.setAttribute('aria-label', t('map.zoom_out'));
  }
  map.attributionControl.setPrefix(false);
  if (attribution) map.attributionControl.removeAttribution(attribution);
  attribution = escapeText(t('map.attribution'));
  map.attributionControl.addAttribution(attribution);
  buildLayerControl();
  renderLegend();
}

function renderLegend() {
  const legend = byId('map-legend');
  /** @param {string} cls @param {string | undefined} colour @param {string} label */
  const item = (cls, colour, label) => h('span', { class: `lg-item ${cls}` }, h('i', { style: { background: colour } }), label);
  legend.replaceChildren(
    h('div', { class: 'lg-row' }, h('b', null, t('map.layer_incidents')), ...SEVERITIES.slice().reverse().map((s) => item('lg-dot', SEVERITY_COLOURS[s], t(`severity.${s}`)))),
    h('div', { class: 'lg-row' }, h('b', null, t('map.layer_cameras')), ...['online', 'stale', 'tampered', 'offline'].map((s) => item('lg-cone', HEALTH_COLOURS[s], t(`health.${s}`)))),
    h('div', { class: 'lg-row' }, h('b', null, t('map.layer_sensors')), ...['ok', 'alarm', 'stale', 'offline', 'unknown'].map((s) => item(`lg-dot lg-${s}`, SENSOR_COLOURS[s], t(`sensor_state.${s}`)))),
  );
}

/** @param {L.LatLngExpression | null} latlng */
function setHighlight(latlng) {
  if (highlight) {
    highlight.remove();
    highlight = null;
  }
  if (!latlng) return;
  highlight = L.marker(latlng, {
    icon: L.divIcon({ className: 'sel-ring', html: '<span></span>', iconSize: [44, 44], iconAnchor: [22, 22] }),
    interactive: false,
    keyboard: false,
    pane: 'highlight',
  }).addTo(map);
}

/**
 * @param {import('./types').DetailKind} kind
 * @param {string | number} id
 * @returns {[number, number] | null}
 */
function positionOf(kind, id) {
  if (kind === 'incident') {
    const inc = state.incidents.get(Number(id));
    return inc && inc.location ? [inc.location.lat, inc.location.lon] : null;
  }
  const key = String(id);
  const obj = kind === 'camera' ? state.cameras.get(key) : kind === 'sensor' ? state.sensors.get(key) : state.keyObjects.get(key);
  return obj && obj.position ? [obj.position.lat, obj.position.lon] : null;
}

/** An incident opened from the queue may sit in a cluster even at street zoom (several
 * incidents at one gauge or crossing): fan the cluster out where it is, keeping the zoom.
 * @param {number} id
 * @param {number} token
 */
function revealIncident(id, token) {
  const group = groups.incidents;
  const rec = incidentMarkers.get(id);
  if (token !== focusToken || !rec || !group.hasLayer(rec.marker)) return;
  if (/** @type {any} */ (group)._inZoomAnimation) {
    // after a zoom the clusters re-form with an animation of their own (markercluster 1.5)
    group.once('animationend', () => revealIncident(id, token));
    return;
  }
  const parent = /** @type {L.Marker | LMarkerCluster | null} */ (group.getVisibleParent(rec.marker));
  if (parent && parent !== rec.marker && 'spiderfy' in parent && typeof parent.spiderfy === 'function') parent.spiderfy();
}

/**
 * Highlight what the details panel shows, and fly there when asked.
 * @param {import('./types').DetailKind} kind
 * @param {string | number} id
 * @param {boolean} fly
 */
export function focusOn(kind, id, fly) {
  const ll = positionOf(kind, id);
  setHighlight(ll);
  if (!ll || !fly) return;
  const token = ++focusToken; // a later focus wins over one still flying
  if (kind === 'incident') map.once('moveend', () => revealIncident(Number(id), token));
  map.setView(ll, Math.max(map.getZoom(), 17), { animate: true });
}

/**
 * Set the start view once the municipality's lists are loaded, then draw its incidents.
 * Without an imported base map the view holds every camera, sensor and key object.
 */
export function settleView() {
  if (!map) return;
  if (!basemapBounds) {
    /** @type {[number, number][]} */
    const points = [];
    for (const src of [state.cameras, state.sensors, state.keyObjects]) {
      for (const obj of src.values()) if (obj.position) points.push([obj.position.lat, obj.position.lon]);
    }
    if (points.length >= 2) map.fitBounds(L.latLngBounds(points).pad(0.08), { animate: false, maxZoom: 17 });
  }
  viewSettled = true;
  syncAllIncidents();
}

/**
 * For tests and benchmarks (read-only): how a sensor is drawn on the map right now.
 * @param {string} id
 */
export function sensorOnMap(id) {
  const rec = sensorMarkers.get(id);
  if (!map || !rec) return null;
  const o = rec.layer.options;
  const p = map.latLngToContainerPoint(rec.layer.getLatLng());
  return { state: rec.state, fillColor: o.fillColor, color: o.color, radius: o.radius, x: p.x, y: p.y, shown: map.hasLayer(rec.layer) };
}

/** For tests and benchmarks: how many sensor markers the map holds. */
export function sensorsOnMap() {
  let n = 0;
  for (const rec of sensorMarkers.values()) if (map && map.hasLayer(rec.layer)) n += 1;
  return n;
}

export function invalidate() {
  if (map) map.invalidateSize();
}

export function focusMap() {
  byId('map').focus();
}

export function initMap() {
  map = L.map('map', { preferCanvas: true, zoomControl: true, attributionControl: true, minZoom: 3, maxZoom: 20, worldCopyJump: false });
  /** @param {string} name @param {number} z @param {boolean} [inert] */
  const pane = (name, z, inert = false) => {
    const el = map.createPane(name);
    el.style.zIndex = String(z);
    if (inert) el.style.pointerEvents = 'none';
  };
  pane('basemap', 250, true);
  pane('cones', 410);
  pane('sensorPane', 420);
  pane('labels', 430, true);
  // key objects under the incident markers and clusters (markerPane, 600): an incident at a
  // school must not hide behind the school's symbol
  pane('keyObjects', 450);
  pane('highlight', 640, true);
  renderers = {
    base: L.canvas({ pane: 'basemap', padding: 0.3 }),
    cameras: L.canvas({ pane: 'cones', padding: 0.3 }),
    sensors: L.canvas({ pane: 'sensorPane', padding: 0.3, tolerance: 3 }),
  };
  groups = {
    base: L.layerGroup(),
    cameras: L.layerGroup(),
    sensors: L.layerGroup(),
    labels: L.layerGroup(),
    keyObjects: L.layerGroup(),
    incidents: L.markerClusterGroup({
    iconCreateFunction: clusterIcon,
    showCoverageOnHover: false,
    maxClusterRadius: 40,
    spiderfyOnMaxZoom: true,
    chunkedLoading: true,
    }),
  };
  baseLayers.offline = groups.base;
  groups.base.addTo(map);
  for (const g of [groups.cameras, groups.sensors, groups.labels, groups.keyObjects, groups.incidents]) g.addTo(map);
  map.on('zoomend moveend overlayadd overlayremove', () => schedule('map-labels', updateLabels));
  map.on('overlayremove', (ev) => {
    if (ev.layer !== groups.sensors) return;
    groups.labels.clearLayers();
    sensorLabels.clear();
  });

  on('sensors', (d) => {
    if (d && d.all) schedule('map-sensors-all', rebuildSensors);
    else if (d && d.ids) {
      for (const id of d.ids) dirty.sensors.add(id);
      schedule('map-dirty', flushDirty);
    }
  });
  on('cameras', (d) => {
    if (d && d.all) schedule('map-cameras-all', rebuildCameras);
    else if (d && d.ids) {
      for (const id of d.ids) dirty.cameras.add(id);
      schedule('map-dirty', flushDirty);
    }
  });
  on('incidents', (d) => {
    if (d && d.all) schedule('map-incidents-all', syncAllIncidents);
    else if (d && d.ids) {
      for (const id of d.ids) dirty.incidents.add(id);
      schedule('map-dirty', flushDirty);
    }
  });
  on('filters', () => schedule('map-incidents-all', syncAllIncidents));
  on('reference', () => rebuildKeyObjects());
  on('lang', () => {
    translateControls();
    updateLabels();
  });
  on('detail-opened', (d) => focusOn(d.kind, d.id, d.fly));
  on('close-detail', () => setHighlight(null));
  return map;
}

/**
 * Set up for a municipality: centre, online tiles if configured, base map.
 * @param {Readonly<import('./types').Municipality>} muni
 */
export async function showMunicipality(muni) {
  viewSettled = false;
  const c = muni.center || { lat: 42.6977, lon: 23.3219 };
  map.setView([c.lat, c.lon], 15);
  if (baseLayers.online) {
    baseLayers.online.remove();
    delete baseLayers.online;
  }
  if (state.config && state.config.tile_url) {
    baseLayers.online = L.tileLayer(state.config.tile_url, { maxZoom: 19 });
  }
  translateControls();
  await loadBasemap();
  if (basemapBounds) {
    map.fitBounds(basemapBounds, { animate: false });
  } else if (baseLayers.online) {
    if (baseLayers.offline) baseLayers.offline.remove();
    baseLayers.online.addTo(map);
  }
}
