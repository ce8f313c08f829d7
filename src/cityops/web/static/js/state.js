// @ts-check
// The console's state and the only place that writes it. Other modules read `state` (typed
// read-only) and change it through the mutators below, each of which tells the bus what changed.
// No DOM here: Node imports it in tests.

import { emit } from './bus.js';
import { DEFAULT_FILTERS, inQuery, OPEN_STATUSES } from './model.js';

export { emit, on, schedule } from './bus.js';
export {
  CAMERA_HEALTH, compareIncidents, incidentMatchesFilters, isOpenIncident, OPEN_STATUSES, SECTORS, SENSOR_STATES,
  SEVERITIES, SEVERITY_RANK, STATUSES,
} from './model.js';

/** @typedef {import('./types').State} State */
/** @typedef {import('./types').IncidentSummary} IncidentSummary */
/** @typedef {import('./types').Sensor} Sensor */
/** @typedef {import('./types').Camera} Camera */

/** @type {State} */
const s = {
  config: null,
  mid: null,
  municipality: null,
  incidents: new Map(),
  cameras: new Map(),
  sensors: new Map(),
  keyObjects: new Map(),
  agencies: new Map(),
  filters: { ...DEFAULT_FILTERS },
  selectedId: null,
  detail: null,
  view: 'ops',
  connection: 'connecting',
  health: null,
  me: null,
};

/** Read the state here; write it only through this module's functions. */
export const state = /** @type {import('./types').ReadonlyState} */ (s);

/**
 * @template {{id: string}} T
 * @param {readonly T[] | null | undefined} list
 * @returns {Map<string, T>}
 */
function byId(list) {
  const m = new Map();
  for (const item of list || []) m.set(item.id, item);
  return m;
}

/** @param {import('./types').ConsoleConfig} config */
export function setConfig(config) {
  s.config = config;
}

/**
 * Switch to a municipality: its incidents are loaded afresh, nothing stays selected.
 * @param {import('./types').Municipality} muni
 */
export function setMunicipality(muni) {
  s.mid = muni.id;
  s.municipality = muni;
  s.selectedId = null;
  s.incidents = new Map();
}

/**
 * @param {import('./types').Agency[]} agencies
 * @param {import('./types').KeyObject[]} keyObjects
 */
export function setReference(agencies, keyObjects) {
  s.agencies = byId(agencies);
  s.keyObjects = byId(keyObjects);
  emit('reference');
}

/** @param {Camera[]} list */
export function setCameras(list) {
  s.cameras = byId(list);
  emit('cameras', { all: true });
}

/** @param {Sensor[]} list */
export function setSensors(list) {
  s.sensors = byId(list);
  emit('sensors', { all: true });
}

/**
 * The server's answer to an incident list query: replaces what that query covers (an
 * incident the server no longer lists for it is dropped), keeps the rest.
 * @param {IncidentSummary[]} list
 * @param {import('./model.js').IncidentQuery} query
 */
export function mergeIncidents(list, query) {
  const seen = new Set(list.map((i) => i.id));
  for (const [id, inc] of s.incidents) {
    if (!seen.has(id) && inQuery(inc, query)) s.incidents.delete(id);
  }
  for (const inc of list) s.incidents.set(inc.id, inc);
  emit('incidents', { all: true, added: [] });
}

/**
 * Apply an IncidentSummary (from the live feed, a list or an action's reply). An older copy
 * arriving late and another municipality's incident are ignored.
 * @param {Partial<IncidentSummary> & {id: number}} summary
 * @param {{live?: boolean}} [options] live: a new open incident flashes in the queue
 * @returns {boolean} whether the state changed
 */
export function applyIncident(summary, { live = false } = {}) {
  if (!summary || typeof summary.id !== 'number') return false;
  if (summary.municipality && s.mid && summary.municipality !== s.mid) return false;
  const prev = s.incidents.get(summary.id);
  if (prev && prev.updated_at && summary.updated_at && Date.parse(prev.updated_at) > Date.parse(summary.updated_at)) {
    return false;
  }
  const next = /** @type {IncidentSummary} */ ({ ...(prev || {}), ...summary });
  s.incidents.set(summary.id, next);
  const added = live && !prev && OPEN_STATUSES.has(next.status) ? [next.id] : [];
  emit('incidents', { ids: [next.id], added });
  return true;
}

/**
 * A sensor's new reading or state (live `sensor` event). A reading older than the one shown is
 * ignored. A state change without a reading (ts null: stale, offline) keeps the last value and
 * its time, so a stale sensor can say since when it is silent.
 * @param {import('./types').SensorUpdate} msg
 * @returns {boolean} whether the state changed
 */
export function applySensorUpdate(msg) {
  const cur = s.sensors.get(msg.id);
  if (!cur) return false;
  if (msg.ts && cur.ts && Date.parse(msg.ts) < Date.parse(cur.ts)) return false;
  const next = { ...cur };
  if (msg.ts) {
    next.ts = msg.ts;
    next.value = msg.value ?? null;
  }
  if (msg.state !== undefined) next.state = msg.state;
  s.sensors.set(cur.id, next);
  const reading = msg.ts ? [{ id: cur.id, ts: msg.ts, value: msg.value }] : [];
  emit('sensors', { ids: [cur.id], readings: reading });
  return true;
}

/**
 * @param {import('./types').CameraUpdate} msg
 * @returns {boolean} whether the state changed
 */
export function applyCameraUpdate(msg) {
  const cur = s.cameras.get(msg.id);
  if (!cur) return false;
  s.cameras.set(cur.id, { ...cur, health: msg.health });
  emit('cameras', { ids: [cur.id] });
  return true;
}

/** @param {import('./types').Filters} filters */
export function setFilters(filters) {
  s.filters = { ...filters };
  emit('filters');
}

/** @param {number | null} id */
export function selectIncident(id) {
  s.selectedId = id;
  emit('select', id);
}

/** @param {import('./types').DetailRef | null} ref */
export function setDetail(ref) {
  s.detail = ref ? { ...ref } : null;
}

/** @param {import('./types').View} view */
export function setView(view) {
  s.view = view;
}

/** @param {import('./types').Connection} value */
export function setConnection(value) {
  s.connection = value;
  emit('connection', value);
}

/** @param {import('./types').Health | null} health */
export function setHealth(health) {
  s.health = health;
  emit('health', health);
}

/**
 * The signed-in account (GET /auth/me), or null once the session has ended.
 * @param {import('./types').Me | null} me
 */
export function setMe(me) {
  s.me = me;
  emit('session', me);
}
