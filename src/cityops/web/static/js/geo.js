// @ts-check
// Small spherical geometry for the map: camera field-of-view cones, distances, bearings.

const R = 6371008.8; // mean Earth radius, metres
/** @param {number} d */
const rad = (d) => (d * Math.PI) / 180;
/** @param {number} r */
const deg = (r) => (r * 180) / Math.PI;

/** @typedef {[number, number]} LatLon [lat, lon] */

/**
 * The point `dist` metres from (lat, lon) towards compass bearing `bearing` (degrees).
 * @param {number} lat
 * @param {number} lon
 * @param {number} bearing
 * @param {number} dist
 * @returns {LatLon}
 */
export function destination(lat, lon, bearing, dist) {
  const d = dist / R;
  const b = rad(bearing);
  const p1 = rad(lat);
  const l1 = rad(lon);
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
  const l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return [deg(p2), ((deg(l2) + 540) % 360) - 180];
}

/**
 * A camera's field of view as a wedge polygon of [lat, lon] points: the camera position, then
 * an arc of radius `range` from heading - fov/2 to heading + fov/2 (a full circle for fov >= 360).
 * @param {number} lat
 * @param {number} lon
 * @param {number} heading
 * @param {number} fov
 * @param {number} range
 * @param {number} [stepDeg]
 * @returns {LatLon[]}
 */
export function fovCone(lat, lon, heading, fov, range, stepDeg = 6) {
  const r = Math.max(1, Number(range) || 0);
  const f = Math.min(360, Math.max(1, Number(fov) || 0));
  const h = Number(heading) || 0;
  const n = Math.max(2, Math.ceil(f / stepDeg));
  const arc = [];
  for (let i = 0; i <= n; i += 1) arc.push(destination(lat, lon, h - f / 2 + (f * i) / n, r));
  if (f >= 360) return arc;
  return [[lat, lon], ...arc];
}

/**
 * Great-circle distance in metres.
 * @param {number} lat1 @param {number} lon1 @param {number} lat2 @param {number} lon2
 */
export function distanceM(lat1, lon1, lat2, lon2) {
  const p1 = rad(lat1);
  const p2 = rad(lat2);
  const dp = p2 - p1;
  const dl = rad(lon2 - lon1);
  const a = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * Initial compass bearing (0..360) from the first point to the second.
 * @param {number} lat1 @param {number} lon1 @param {number} lat2 @param {number} lon2
 */
export function bearingDeg(lat1, lon1, lat2, lon2) {
  const p1 = rad(lat1);
  const p2 = rad(lat2);
  const dl = rad(lon2 - lon1);
  const y = Math.sin(dl) * Math.cos(p2);
  const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
  return (deg(Math.atan2(y, x)) + 360) % 360;
}

/**
 * The smaller angle between two bearings (0..180).
 * @param {number} a @param {number} b
 */
export function angleBetween(a, b) {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

/**
 * Whether the camera's cone covers the point (distance within range, angle within fov/2).
 * @param {{position: {lat: number, lon: number} | null, range_m?: number, fov_deg?: number, heading_deg?: number}} cam
 * @param {number} lat
 * @param {number} lon
 */
export function cameraSees(cam, lat, lon) {
  if (!cam.position) return false;
  const dist = distanceM(cam.position.lat, cam.position.lon, lat, lon);
  if (dist > (cam.range_m || 0)) return false;
  if ((cam.fov_deg || 0) >= 360 || dist < 1) return true;
  const b = bearingDeg(cam.position.lat, cam.position.lon, lat, lon);
  return angleBetween(b, cam.heading_deg || 0) <= (cam.fov_deg || 0) / 2;
}

/**
 * Compass point key ("n", "ne", …) for a bearing, to translate.
 * @param {number} bearing
 */
export function compassKey(bearing) {
  const keys = ['n', 'ne', 'e', 'se', 's', 'sw', 'w', 'nw'];
  return keys[Math.round((((bearing % 360) + 360) % 360) / 45) % 8];
}
