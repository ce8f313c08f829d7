// @ts-check
// Key objects (schools, hospitals, …): one symbol each, under the incident markers.

import { displayName, tMaybe } from '../i18n.js';
import { state } from '../state.js';
import { ctx, escapeText, openDetail } from './context.js';

/** @typedef {import('./context.js').KeyObject} KeyObject */

/** @type {Map<string, L.Marker>} */
const keyMarkers = new Map();

/** @param {KeyObject} ko */
function keyObjectIcon(ko) {
  return L.divIcon({ className: `key-marker ko-${ko.kind}`, html: '<span></span>', iconSize: [14, 14], iconAnchor: [7, 7] });
}

export function rebuildKeyObjects() {
  ctx.groups.keyObjects.clearLayers();
  keyMarkers.clear();
  for (const ko of state.keyObjects.values()) {
    if (!ko.position) continue;
    const m = L.marker([ko.position.lat, ko.position.lon], { icon: keyObjectIcon(ko), keyboard: false, riseOnHover: true, pane: 'keyObjects' });
    m.on('click', () => openDetail('key_object', ko.id));
    m.bindTooltip(() => `${escapeText(displayName(ko))} · ${escapeText(tMaybe(`key_kind.${ko.kind}`, ko.kind))}`, { className: 'map-tip', direction: 'top' });
    ctx.groups.keyObjects.addLayer(m);
    keyMarkers.set(ko.id, m);
  }
}
