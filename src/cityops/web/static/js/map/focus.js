// @ts-check
// What the details panel shows, on the map: a ring around it, and a flight there when asked.

import { state } from '../state.js';
import { ctx } from './context.js';
import { revealIncident } from './incidents.js';

/** @type {L.Marker | null} */
let highlight = null;
let focusToken = 0;

/** @param {L.LatLngExpression | null} latlng */
export function setHighlight(latlng) {
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
  }).addTo(ctx.map);
}

/**
 * @param {import('../types').DetailKind} kind
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

/**
 * Highlight what the details panel shows, and fly there when asked.
 * @param {import('../types').DetailKind} kind
 * @param {string | number} id
 * @param {boolean} fly
 */
export function focusOn(kind, id, fly) {
  const { map } = ctx;
  const ll = positionOf(kind, id);
  setHighlight(ll);
  if (!ll || !fly) return;
  const token = ++focusToken; // a later focus wins over one still flying
  if (kind === 'incident') map.once('moveend', () => revealIncident(Number(id), () => token === focusToken));
  map.setView(ll, Math.max(map.getZoom(), 17), { animate: true });
}
