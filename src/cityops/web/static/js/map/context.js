// @ts-check
// What the map's layers share: the Leaflet map, its canvas renderers and layer groups (set by
// initMap before anything else runs), whether the start view is settled, and small helpers.

import { emit } from '../state.js';

/** @typedef {Readonly<import('../types').IncidentSummary>} Incident */
/** @typedef {Readonly<import('../types').Sensor>} Sensor */
/** @typedef {Readonly<import('../types').Camera>} Camera */
/** @typedef {Readonly<import('../types').KeyObject>} KeyObject */
/** @typedef {GeoJSON.Feature} Feature */
/**
 * @typedef {object} Groups
 * @property {L.LayerGroup} base
 * @property {L.LayerGroup} cameras
 * @property {L.LayerGroup} sensors
 * @property {L.LayerGroup} labels
 * @property {L.LayerGroup} keyObjects
 * @property {LMarkerClusterGroup} incidents
 * @property {L.LayerGroup} planner  the stored camera network plan (map/planner.js), off by default
 * @property {L.LayerGroup} warnings  public warnings in force (map/warnings.js)
 */
/** @typedef {{base: L.Canvas, cameras: L.Canvas, sensors: L.Canvas}} Renderers */

/**
 * The map and its layers; `viewSettled` is false until the start view is set (settleView).
 * @typedef {object} MapContext
 * @property {L.Map} map
 * @property {Renderers} renderers
 * @property {Groups} groups
 * @property {boolean} viewSettled
 */

// map, renderers and groups are set by initMap before anything else here runs.
/** @type {MapContext} */
export const ctx = /** @type {MapContext} */ (/** @type {unknown} */ ({ viewSettled: false }));

/**
 * @param {import('../types').DetailKind} kind
 * @param {string | number} id
 */
export function openDetail(kind, id) {
  emit('open-detail', { kind, id, fly: false });
}

/** @param {string} s */
export function escapeText(s) {
  const d = document.createElement('span');
  d.textContent = s;
  return d.innerHTML;
}
