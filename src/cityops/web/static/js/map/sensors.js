// @ts-check
// Sensor markers, coloured by the sensor's state, and their value labels at street zoom (DOM,
// so only for what is in view).

import { h } from '../dom.js';
import { displayName, fmtNumber, t } from '../i18n.js';
import { state } from '../state.js';
import { ctx, escapeText, openDetail } from './context.js';

/** @typedef {import('./context.js').Sensor} Sensor */

/** Sensor states: stale (no data for a while) is amber and hollow, offline grey and hollow. */
/** @type {Readonly<Record<string, string>>} */
export const SENSOR_COLOURS = { ok: '#3fb950', alarm: '#ff4d4f', stale: '#c69026', offline: '#6e7681', unknown: '#a5b4c5' };

const LABEL_MIN_ZOOM = 18;
const LABEL_CELL = [96, 22]; // one label per screen cell, so labels never pile up
const LABEL_MAX = 250;

/** @type {Map<string, {layer: L.CircleMarker, state: string}>} */
const sensorMarkers = new Map();
/** @type {Map<string, L.Marker>} */
const sensorLabels = new Map();

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

/** @param {Sensor} s */
function addSensor(s) {
  if (!s.position) return;
  const m = L.circleMarker([s.position.lat, s.position.lon], { renderer: ctx.renderers.sensors, ...sensorStyle(s) });
  m.on('click', () => openDetail('sensor', s.id));
  m.bindTooltip(() => {
    const cur = state.sensors.get(s.id) || s;
    return `${escapeText(displayName(cur))}: ${escapeText(sensorValueText(cur))} · ${t(`sensor_state.${cur.state || 'unknown'}`)}`;
  }, { className: 'map-tip' });
  ctx.groups.sensors.addLayer(m);
  sensorMarkers.set(s.id, { layer: m, state: s.state });
}

export function rebuildSensors() {
  ctx.groups.sensors.clearLayers();
  sensorMarkers.clear();
  for (const s of state.sensors.values()) addSensor(s);
  updateLabels();
}

/**
 * Restyle the markers of sensors whose state changed and refill their labels.
 * @param {Iterable<string>} ids
 * @returns {{id: string, state: string, fillColor: string | undefined}[]} the sensors restyled
 */
export function restyleSensors(ids) {
  const restyled = [];
  for (const id of ids) {
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
  return restyled;
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

export function updateLabels() {
  const { map, groups } = ctx;
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

/** Drop every value label (the sensors layer was switched off). */
export function clearLabels() {
  ctx.groups.labels.clearLayers();
  sensorLabels.clear();
}

/**
 * For tests and benchmarks (read-only): how a sensor is drawn on the map right now.
 * @param {string} id
 */
export function sensorOnMap(id) {
  const { map } = ctx;
  const rec = sensorMarkers.get(id);
  if (!map || !rec) return null;
  const o = rec.layer.options;
  const p = map.latLngToContainerPoint(rec.layer.getLatLng());
  return { state: rec.state, fillColor: o.fillColor, color: o.color, radius: o.radius, x: p.x, y: p.y, shown: map.hasLayer(rec.layer) };
}

/** For tests and benchmarks: how many sensor markers the map holds. */
export function sensorsOnMap() {
  const { map } = ctx;
  let n = 0;
  for (const rec of sensorMarkers.values()) if (map && map.hasLayer(rec.layer)) n += 1;
  return n;
}
