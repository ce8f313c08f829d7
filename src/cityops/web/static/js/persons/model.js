// @ts-check
// The registry of vulnerable people, pure parts (Node imports them in tests): the person body
// the server takes (PUT/POST .../persons; docs/AGENCIES.md "SOS of vulnerable people"), what the
// form must say before sending, and a circle around a point turned into the polygon the server
// stores as the safe area (the server keeps polygons only).

/** @typedef {[number, number]} Corner [lon, lat] */

export const KINDS = /** @type {const} */ (['child', 'dementia', 'other']);
export const PHOTO_TYPES = ['image/jpeg', 'image/png'];
const EARTH_M = 6371008.8;
export const CIRCLE_CORNERS = 32;
export const MAX_RADIUS_M = 20000;

/**
 * A circle of `radius_m` around (lon, lat) as a polygon of `corners` corners (counter-
 * clockwise from the east), on the sphere; good to well under a metre at these sizes.
 * @param {number} lon
 * @param {number} lat
 * @param {number} radiusM
 * @param {number} [corners]
 * @returns {Corner[]}
 */
export function circleArea(lon, lat, radiusM, corners = CIRCLE_CORNERS) {
  if (!(radiusM > 0) || !Number.isFinite(lon) || !Number.isFinite(lat) || corners < 3) return [];
  const d = radiusM / EARTH_M;
  const φ1 = (lat * Math.PI) / 180;
  const λ1 = (lon * Math.PI) / 180;
  /** @type {Corner[]} */
  const out = [];
  for (let i = 0; i < corners; i += 1) {
    const θ = (2 * Math.PI * i) / corners;
    const φ2 = Math.asin(Math.sin(φ1) * Math.cos(d) + Math.cos(φ1) * Math.sin(d) * Math.sin(θ));
    const λ2 = λ1 + Math.atan2(Math.cos(θ) * Math.sin(d) * Math.cos(φ1), Math.cos(d) - Math.sin(φ1) * Math.sin(φ2));
    out.push([round6(((((λ2 * 180) / Math.PI + 540) % 360) - 180)), round6((φ2 * 180) / Math.PI)]);
  }
  return out;
}

/** @param {number} x */
function round6(x) {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * @typedef {object} FormValues
 * @property {string} kind
 * @property {string} name
 * @property {string} guardian_name
 * @property {string} guardian_phone
 * @property {string} device_id
 * @property {string} notes
 * @property {Corner[]} area
 */

/**
 * The body for POST/PUT .../persons and the problems (i18n keys) to fix first; the server
 * checks again and its refusal is shown as it says.
 * @param {FormValues} v
 * @returns {{body: {kind: string, name: string, guardian_name: string, guardian_phone: string, device_id: string, notes: string, safe_area: Corner[]}, problems: string[]}}
 */
export function personBody(v) {
  const body = {
    kind: v.kind,
    name: v.name.trim(),
    guardian_name: v.guardian_name.trim(),
    guardian_phone: v.guardian_phone.trim(),
    device_id: v.device_id.trim(),
    notes: v.notes.trim(),
    safe_area: v.area.map((c) => /** @type {Corner} */ ([c[0], c[1]])),
  };
  /** @type {string[]} */
  const problems = [];
  if (!KINDS.includes(/** @type {any} */ (body.kind))) problems.push('persons_registry.need_kind');
  if (!body.name) problems.push('persons_registry.need_name');
  if (!body.guardian_name) problems.push('persons_registry.need_guardian');
  if (body.guardian_phone.replace(/[^0-9]/g, '').length < 4) problems.push('persons_registry.need_phone');
  if (!body.device_id) problems.push('persons_registry.need_device');
  if (body.safe_area.length > 0 && body.safe_area.length < 3) problems.push('persons_registry.need_corners');
  if (body.safe_area.length > 200) problems.push('persons_registry.too_many_corners');
  return { body, problems };
}

/**
 * Why a chosen photo cannot be sent (an i18n key), or null.
 * @param {{type: string, size: number}} file
 * @param {number} [maxBytes]
 */
export function photoProblem(file, maxBytes = 5 * 1024 * 1024) {
  if (!PHOTO_TYPES.includes(file.type)) return 'persons_registry.photo_type';
  if (file.size > maxBytes) return 'persons_registry.photo_size';
  return null;
}

/**
 * The centre of an area's corners (their mean), or null for none.
 * @param {readonly Corner[]} area
 * @returns {Corner | null}
 */
export function areaCentre(area) {
  if (!area.length) return null;
  let lon = 0;
  let lat = 0;
  for (const [x, y] of area) {
    lon += x;
    lat += y;
  }
  return [lon / area.length, lat / area.length];
}

/**
 * A registry list sorted for reading: by name (locale-aware), then number.
 * @template {{id: number, name: string}} P
 * @param {readonly P[]} list
 * @param {string} [locale]
 * @returns {P[]}
 */
export function sortedPersons(list, locale = 'en') {
  return [...list].sort((a, b) => a.name.localeCompare(b.name, locale) || a.id - b.id);
}
