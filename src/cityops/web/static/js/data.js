// Loading lists from the API into the shared state, and applying live updates to it.

import { getJSON, mpath } from './api.js';
import { emit, OPEN_STATUSES, state } from './state.js';

export async function loadConfig() {
  state.config = await getJSON('/config');
  return state.config;
}

function byId(list) {
  const m = new Map();
  for (const item of list || []) m.set(item.id, item);
  return m;
}

export async function loadReference(mid) {
  const [agencies, keyObjects] = await Promise.all([
    getJSON(mpath(mid, '/agencies')).catch(() => []),
    getJSON(mpath(mid, '/key-objects')).catch(() => []),
  ]);
  state.agencies = byId(agencies);
  state.keyObjects = byId(keyObjects);
  emit('reference');
}

export async function refreshCameras(mid = state.mid) {
  state.cameras = byId(await getJSON(mpath(mid, '/cameras')));
  emit('cameras', { all: true });
}

export async function refreshSensors(mid = state.mid) {
  state.sensors = byId(await getJSON(mpath(mid, '/sensors')));
  emit('sensors', { all: true });
}

function incidentQuery() {
  const status = state.filters.status;
  const q = { limit: 500 };
  if (status === 'open' || !status) q.open = 'true';
  else if (status !== 'all') q.status = status;
  return q;
}

function inQuery(inc, q) {
  if (q.open) return OPEN_STATUSES.has(inc.status);
  if (q.status) return inc.status === q.status;
  return true;
}

/** Fetch the incidents the current status filter needs; drop ones the server no longer lists. */
export async function refreshIncidents(mid = state.mid) {
  const q = incidentQuery();
  const list = await getJSON(mpath(mid, '/incidents'), q);
  const seen = new Set(list.map((i) => i.id));
  for (const [id, inc] of state.incidents) {
    if (!seen.has(id) && inQuery(inc, q)) state.incidents.delete(id);
  }
  for (const inc of list) state.incidents.set(inc.id, inc);
  emit('incidents', { all: true, added: [] });
}

export async function loadMunicipality(mid) {
  state.incidents = new Map();
  await Promise.all([loadReference(mid), refreshCameras(mid), refreshSensors(mid), refreshIncidents(mid)]);
}

export async function refetchLive() {
  await Promise.all([refreshIncidents(), refreshSensors(), refreshCameras()]);
}

/** Apply an IncidentSummary (from the live feed or an action's reply). */
export function applyIncident(summary, { live = false } = {}) {
  if (!summary || summary.id === undefined) return;
  if (summary.municipality && state.mid && summary.municipality !== state.mid) return;
  const prev = state.incidents.get(summary.id);
  if (prev && prev.updated_at && summary.updated_at && Date.parse(prev.updated_at) > Date.parse(summary.updated_at)) {
    return; // an older copy arriving late
  }
  const next = { ...(prev || {}), ...summary };
  state.incidents.set(summary.id, next);
  const added = live && !prev && OPEN_STATUSES.has(next.status) ? [next.id] : [];
  emit('incidents', { ids: [next.id], added });
}

export function applySensorUpdate(msg) {
  const s = state.sensors.get(msg.id);
  if (!s) return;
  if (msg.ts && s.ts && Date.parse(msg.ts) < Date.parse(s.ts)) return;
  if ('value' in msg) s.value = msg.value;
  if ('ts' in msg) s.ts = msg.ts;
  if ('state' in msg) s.state = msg.state;
  emit('sensors', { ids: [s.id], readings: [{ id: s.id, ts: msg.ts, value: msg.value }] });
}

export function applyCameraUpdate(msg) {
  const c = state.cameras.get(msg.id);
  if (!c) return;
  c.health = msg.health;
  emit('cameras', { ids: [c.id] });
}
