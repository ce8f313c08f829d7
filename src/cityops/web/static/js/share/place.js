// @ts-check
// A share of a place, without the DOM: the radii an operator is offered (the policy's default,
// never beyond the server's limit) and the cameras the server would share: those whose field of
// view holds the point and that stand within the radius of it, nearest first (the rule of
// services/shares.create and domain/visibility.cameras_seeing; the server decides, this only
// previews). Node imports it in tests.

import { cameraSees, distanceM } from '../geo.js';

/** services/shares.RADIUS_MAX_M: the largest radius the server accepts. */
export const RADIUS_MAX_M = 2000;
const STEPS = [25, 50, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000];

/**
 * The largest radius to offer: the server's limit, or a smaller one GET /sharing gives.
 * @param {{max_radius_m?: number | null} | null | undefined} cfg
 */
export function radiusLimit(cfg) {
  const given = cfg && Number(cfg.max_radius_m);
  return given && Number.isFinite(given) && given > 0 ? Math.min(given, RADIUS_MAX_M) : RADIUS_MAX_M;
}

/**
 * The radii (metres) offered: the usual steps up to `max`, the default among them (brought
 * within 1..max), ascending.
 * @param {number | null | undefined} defaultM
 * @param {number} max
 * @returns {number[]}
 */
export function radiusChoices(defaultM, max) {
  const top = Number.isFinite(max) && max >= 1 ? Math.floor(max) : RADIUS_MAX_M;
  const choices = new Set(STEPS.filter((m) => m <= top));
  choices.add(defaultRadius(defaultM, top));
  return [...choices].sort((a, b) => a - b);
}

/**
 * The radius preselected: the policy's, within 1..max (150 m when it gives none).
 * @param {number | null | undefined} defaultM
 * @param {number} max
 */
export function defaultRadius(defaultM, max) {
  const d = Number(defaultM);
  const r = Number.isFinite(d) && d >= 1 ? Math.round(d) : 150;
  return Math.max(1, Math.min(r, Math.floor(max)));
}

/**
 * @typedef {object} CameraLike
 * @property {string} id
 * @property {{lat: number, lon: number} | null} position
 * @property {number} [heading_deg]
 * @property {number} [fov_deg]
 * @property {number} [range_m]
 */

/**
 * The cameras a share of the point would hold: they see it (within their range and field of
 * view) and stand within `radiusM` of it; nearest first, then by id.
 * @template {CameraLike} C
 * @param {{lat: number, lon: number}} point
 * @param {Iterable<C>} cameras
 * @param {number} radiusM
 * @returns {{camera: C, distance_m: number}[]}
 */
export function camerasSharedAt(point, cameras, radiusM) {
  /** @type {{camera: C, distance_m: number}[]} */
  const found = [];
  for (const camera of cameras) {
    if (!camera.position || !cameraSees(camera, point.lat, point.lon)) continue;
    const d = distanceM(camera.position.lat, camera.position.lon, point.lat, point.lon);
    if (d <= radiusM) found.push({ camera, distance_m: d });
  }
  return found.sort((a, b) => a.distance_m - b.distance_m || (a.camera.id < b.camera.id ? -1 : a.camera.id > b.camera.id ? 1 : 0));
}

/**
 * How many of an incident's cameras (GET /incidents/{id}: those that see it, with their
 * distance) a share of `radiusM` would hold.
 * @param {readonly {distance_m: number}[]} seeing
 * @param {number} radiusM
 */
export function countWithin(seeing, radiusM) {
  return seeing.filter((c) => c.distance_m <= radiusM).length;
}

/**
 * Point shares only (an incident's shares are listed in its panel), active at `now`.
 * @template {{incident_id: number | null, expires_at: string, revoked_at: string | null}} S
 * @param {readonly S[]} shares
 * @param {number} now
 * @returns {S[]}
 */
export function activePointShares(shares, now) {
  return shares.filter((s) => s.incident_id === null && !s.revoked_at && Date.parse(s.expires_at) > now);
}
