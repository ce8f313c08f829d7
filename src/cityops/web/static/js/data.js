// @ts-check
// Loading lists from the API into the state (through the store's mutators).

import { getJSON, mpath } from './api.js';
import { incidentQuery } from './model.js';
import { mergeIncidents, setCameras, setConfig, setReference, setSensors, state } from './state.js';

/** @returns {Promise<import('./types').ConsoleConfig>} */
export async function loadConfig() {
  /** @type {import('./types').ConsoleConfig} */
  const config = await getJSON('/config');
  setConfig(config);
  return config;
}

/** @param {string} mid */
export async function loadReference(mid) {
  const [agencies, keyObjects] = await Promise.all([
    getJSON(mpath(mid, '/agencies')).catch(() => []),
    getJSON(mpath(mid, '/key-objects')).catch(() => []),
  ]);
  setReference(agencies, keyObjects);
}

/** The current municipality (set before anything is loaded). */
function currentMid() {
  if (!state.mid) throw new Error('no municipality chosen');
  return state.mid;
}

export async function refreshCameras(mid = currentMid()) {
  setCameras(await getJSON(mpath(mid, '/cameras')));
}

export async function refreshSensors(mid = currentMid()) {
  setSensors(await getJSON(mpath(mid, '/sensors')));
}

/** Fetch the incidents the current status filter needs; drop ones the server no longer lists. */
export async function refreshIncidents(mid = currentMid()) {
  const q = incidentQuery(state.filters);
  mergeIncidents(await getJSON(mpath(mid, '/incidents'), q), q);
}

/** @param {string} mid */
export async function loadMunicipality(mid) {
  await Promise.all([loadReference(mid), refreshCameras(mid), refreshSensors(mid), refreshIncidents(mid)]);
}

/** After a reconnect or a `resync`: everything the live feed keeps up to date, afresh. */
export async function refetchLive() {
  await Promise.all([refreshIncidents(), refreshSensors(), refreshCameras()]);
}
