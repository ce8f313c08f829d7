// Shared client state, a small event bus, and requestAnimationFrame batching.

export const SEVERITIES = ['extreme', 'severe', 'moderate', 'minor'];
export const SEVERITY_RANK = { extreme: 4, severe: 3, moderate: 2, minor: 1 };
export const STATUSES = ['new', 'acknowledged', 'dispatched', 'on_scene', 'resolved', 'closed', 'cancelled'];
export const OPEN_STATUSES = new Set(['new', 'acknowledged', 'dispatched', 'on_scene']);
export const SECTORS = ['safety', 'transport', 'disaster', 'environment', 'utilities'];
export const CAMERA_HEALTH = ['online', 'stale', 'tampered', 'offline', 'unknown'];
export const SENSOR_STATES = ['ok', 'alarm', 'offline', 'unknown'];

/** Allowed status moves (mirrors cityops.domain.incident.TRANSITIONS). */
export const TRANSITIONS = {
  new: ['acknowledged', 'cancelled'],
  acknowledged: ['dispatched', 'resolved', 'cancelled'],
  dispatched: ['on_scene', 'resolved', 'cancelled'],
  on_scene: ['resolved'],
  resolved: ['closed', 'acknowledged'],
  closed: [],
  cancelled: [],
};

export const state = {
  config: null,
  mid: null,
  municipality: null,
  incidents: new Map(),
  cameras: new Map(),
  sensors: new Map(),
  keyObjects: new Map(),
  agencies: new Map(),
  filters: { sector: '', status: 'open', agency: '' },
  selectedId: null,
  detail: null,
  view: 'ops',
  connection: 'connecting',
};

const bus = new EventTarget();

export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

export function on(name, fn) {
  bus.addEventListener(name, (ev) => fn(ev.detail));
}

// --- requestAnimationFrame batching: many live updates per second become one DOM pass.
const tasks = new Map();
let scheduled = false;

function flush() {
  scheduled = false;
  const run = [...tasks.values()];
  tasks.clear();
  for (const fn of run) {
    try {
      fn();
    } catch (err) {
      console.error(err);
    }
  }
}

/** Run `fn` once in the next animation frame; a later call with the same key replaces it. */
export function schedule(key, fn) {
  tasks.set(key, fn);
  if (!scheduled) {
    scheduled = true;
    // rAF does not run in a hidden tab: fall back to a timer so state never goes stale.
    if (document.hidden) setTimeout(flush, 250);
    else requestAnimationFrame(flush);
  }
}

export function isOpenIncident(inc) {
  return OPEN_STATUSES.has(inc.status);
}

export function incidentMatchesFilters(inc, filters = state.filters) {
  if (filters.sector && inc.sector !== filters.sector) return false;
  if (filters.status === 'open') {
    if (!OPEN_STATUSES.has(inc.status)) return false;
  } else if (filters.status && filters.status !== 'all' && inc.status !== filters.status) {
    return false;
  }
  if (filters.agency === '__none') {
    if (inc.assigned_agency) return false;
  } else if (filters.agency) {
    const agency = inc.assigned_agency || inc.proposed_agency;
    if (agency !== filters.agency) return false;
  }
  return true;
}

/** Most severe first, then oldest first (the longest-waiting incident of a severity on top). */
export function compareIncidents(a, b) {
  const s = (SEVERITY_RANK[b.severity] || 0) - (SEVERITY_RANK[a.severity] || 0);
  if (s) return s;
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) return ta - tb;
  return a.id - b.id;
}

export function filteredIncidents() {
  const list = [];
  for (const inc of state.incidents.values()) if (incidentMatchesFilters(inc)) list.push(inc);
  list.sort(compareIncidents);
  return list;
}
