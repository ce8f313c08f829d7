// @ts-check
// The live feed's events (contract: hello, incident, sensor, camera, resync, detections) checked and applied
// to the state. No EventSource here (live.js owns the connection), so tests drive it directly.

import { emit } from './bus.js';
import { applyCameraUpdate, applyIncident, applySensorUpdate } from './state.js';

/** @typedef {import('./types').LiveKind} LiveKind */
/** @typedef {import('./types').LiveEvent} LiveEvent */

/** @type {readonly LiveKind[]} */
export const LIVE_KINDS = ['hello', 'incident', 'sensor', 'camera', 'resync', 'detections', 'warning', 'person'];

/** @param {unknown} v @returns {v is Record<string, unknown>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
/** @param {unknown} v @returns {string | null} */
const str = (v) => (typeof v === 'string' ? v : null);

/**
 * Check one event's data (the SSE `data:` text) against the contract; null when it does not fit.
 * @param {string} kind
 * @param {string} text
 * @returns {LiveEvent | null}
 */
export function parseLiveEvent(kind, text) {
  /** @type {unknown} */
  let data;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    return null;
  }
  if (!isObject(data)) return null;
  switch (kind) {
    case 'hello':
      return { kind, data: { municipality: str(data.municipality) || '', server_time: str(data.server_time) || '' } };
    case 'resync':
      return { kind, data: { reason: str(data.reason) || 'overflow' } };
    case 'incident':
      if (typeof data.id !== 'number' || typeof data.status !== 'string') return null;
      return { kind, data: /** @type {import('./types').IncidentSummary} */ (/** @type {unknown} */ (data)) };
    case 'sensor': {
      const id = str(data.id);
      if (!id) return null;
      /** @type {import('./types').SensorUpdate} */
      const update = { id };
      if ('value' in data) update.value = typeof data.value === 'number' ? data.value : null;
      if ('ts' in data) update.ts = str(data.ts);
      if (typeof data.state === 'string') update.state = /** @type {import('./types').SensorState} */ (data.state);
      return { kind, data: update };
    }
    case 'camera': {
      const id = str(data.id);
      const health = str(data.health);
      if (!id || !health) return null;
      return { kind, data: { id, health: /** @type {import('./types').CameraHealth} */ (health) } };
    }
    case 'detections': {
      const id = str(data.id);
      const ts = str(data.ts);
      if (!id || !ts || !Array.isArray(data.objects)) return null;
      /** @type {import('./types').DetectedObject[]} */
      const objects = [];
      for (const o of data.objects) {
        if (!isObject(o) || !Array.isArray(o.box) || o.box.length !== 4 || !o.box.every((v) => typeof v === 'number')) return null;
        const box = /** @type {[number, number, number, number]} */ (o.box);
        objects.push({ track: typeof o.track === 'number' ? o.track : null, label: str(o.label) || 'other', box });
      }
      return { kind, data: { id, ts, objects } };
    }
    case 'warning': {
      // a public warning (CAP) opened, updated or ended: map/warnings.js refetches the list
      const identifier = str(data.identifier);
      const change = str(data.change);
      if (!identifier || !change) return null;
      return { kind, data: { identifier, change, headline: str(data.headline) || identifier } };
    }
    case 'person': {
      // a vulnerable person's track point (persons.view only): map/persons.js draws it
      const ts = str(data.ts);
      if (typeof data.person_id !== 'number' || !ts) return null;
      const num = (/** @type {unknown} */ v) => (typeof v === 'number' ? v : null);
      const incident = typeof data.incident_id === 'number' ? data.incident_id : null;
      const inside = typeof data.inside === 'boolean' ? data.inside : null;
      const point = { person_id: data.person_id, incident_id: incident, kind: str(data.kind) || 'position', ts };
      return { kind, data: { ...point, lon: num(data.lon), lat: num(data.lat), accuracy_m: num(data.accuracy_m), inside } };
    }
    default:
      return null;
  }
}

/**
 * @typedef {object} LiveHandlers
 * @property {(data: import('./types').HelloData) => void} [hello] the first event of a connection
 * @property {(reason: string) => void} resync the server dropped this client's backlog: refetch
 */

/**
 * Apply one live event to the state (incident, sensor, camera) or hand it to `handlers`
 * (hello, resync). Returns whether anything was applied.
 * @param {LiveEvent} ev
 * @param {LiveHandlers} handlers
 * @returns {boolean}
 */
export function applyLiveEvent(ev, handlers) {
  switch (ev.kind) {
    case 'incident':
      return applyIncident(ev.data, { live: true });
    case 'sensor':
      return applySensorUpdate(ev.data);
    case 'camera':
      return applyCameraUpdate(ev.data);
    case 'hello':
      if (handlers.hello) handlers.hello(ev.data);
      return true;
    case 'resync':
      handlers.resync(ev.data.reason);
      return true;
    case 'detections': // transient: the camera wall draws it, nothing is kept in the state
      emit('detections', ev.data);
      return true;
    case 'warning':
      emit('warning', ev.data);
      return true;
    case 'person':
      emit('person', ev.data);
      return true;
    default:
      return false;
  }
}

/**
 * Parse and apply one SSE event; a malformed one is logged and dropped.
 * @param {string} kind
 * @param {string} text
 * @param {LiveHandlers} handlers
 */
export function dispatchLive(kind, text, handlers) {
  const ev = parseLiveEvent(kind, text);
  if (!ev) {
    console.warn('live: bad event', kind);
    return false;
  }
  return applyLiveEvent(ev, handlers);
}
