// @ts-check
// Camera field-of-view cones, coloured by the camera's health.

import { displayName, t } from '../i18n.js';
import { fovCone } from '../geo.js';
import { state } from '../state.js';
import { ctx, escapeText, openDetail } from './context.js';

/** @typedef {import('./context.js').Camera} Camera */

/** @type {Readonly<Record<string, string>>} */
export const HEALTH_COLOURS = { online: '#3fb950', stale: '#d29922', tampered: '#db61a2', offline: '#f85149', unknown: '#8b949e' };

/** @type {Map<string, {layer: L.Polygon, health: string}>} */
const cameraShapes = new Map();

/**
 * @param {Camera} cam
 * @returns {L.PathOptions}
 */
function cameraStyle(cam) {
  const c = HEALTH_COLOURS[cam.health] || HEALTH_COLOURS.unknown;
  return { color: c, weight: 1, opacity: 0.8, fillColor: c, fillOpacity: cam.health === 'online' ? 0.16 : 0.22 };
}

/** @param {Camera} cam */
function addCamera(cam) {
  if (!cam.position) return;
  const pts = fovCone(cam.position.lat, cam.position.lon, cam.heading_deg, cam.fov_deg, cam.range_m);
  const poly = L.polygon(pts, { renderer: ctx.renderers.cameras, ...cameraStyle(cam) });
  poly.on('click', () => openDetail('camera', cam.id));
  poly.bindTooltip(() => `${escapeText(displayName(state.cameras.get(cam.id) || cam))} · ${t(`health.${(state.cameras.get(cam.id) || cam).health || 'unknown'}`)}`, { sticky: true, className: 'map-tip' });
  ctx.groups.cameras.addLayer(poly);
  cameraShapes.set(cam.id, { layer: poly, health: cam.health });
}

export function rebuildCameras() {
  ctx.groups.cameras.clearLayers();
  cameraShapes.clear();
  for (const cam of state.cameras.values()) addCamera(cam);
}

/**
 * Restyle the cones of cameras whose health changed.
 * @param {Iterable<string>} ids
 */
export function restyleCameras(ids) {
  for (const id of ids) {
    const c = state.cameras.get(id);
    const rec = cameraShapes.get(id);
    if (!c || !rec || rec.health === c.health) continue;
    rec.health = c.health;
    rec.layer.setStyle(cameraStyle(c));
  }
}
