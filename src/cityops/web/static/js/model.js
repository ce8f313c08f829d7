// @ts-check
// The console's vocabulary and the queue's rules: which incidents a filter shows and in which
// order. Pure: no DOM, no state (tests import it under Node).

/** @typedef {import('./types').IncidentSummary} IncidentSummary */
/** @typedef {import('./types').Filters} Filters */
/** @typedef {import('./types').Severity} Severity */
/** @typedef {import('./types').Status} Status */

/** @type {readonly Severity[]} */
export const SEVERITIES = ['extreme', 'severe', 'moderate', 'minor'];
/** @type {Readonly<Record<string, number>>} */
export const SEVERITY_RANK = { extreme: 4, severe: 3, moderate: 2, minor: 1 };
/** @type {readonly Status[]} */
export const STATUSES = ['new', 'acknowledged', 'dispatched', 'on_scene', 'resolved', 'closed', 'cancelled'];
/** @type {ReadonlySet<string>} */
export const OPEN_STATUSES = new Set(['new', 'acknowledged', 'dispatched', 'on_scene']);
/** @type {readonly import('./types').Sector[]} */
export const SECTORS = ['safety', 'transport', 'disaster', 'environment', 'utilities'];
/** @type {readonly import('./types').CameraHealth[]} */
export const CAMERA_HEALTH = ['online', 'stale', 'tampered', 'offline', 'unknown'];
/** @type {readonly import('./types').SensorState[]} */
export const SENSOR_STATES = ['ok', 'alarm', 'stale', 'offline', 'unknown'];

/** @type {Filters} */
export const DEFAULT_FILTERS = { sector: '', status: 'open', agency: '' };

/** @param {{status: string}} inc */
export function isOpenIncident(inc) {
  return OPEN_STATUSES.has(inc.status);
}

/**
 * @param {Readonly<IncidentSummary>} inc
 * @param {Readonly<Filters>} filters
 */
export function incidentMatchesFilters(inc, filters) {
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

/**
 * Most severe first, then oldest first (the longest-waiting incident of a severity on top).
 * @param {Readonly<IncidentSummary>} a
 * @param {Readonly<IncidentSummary>} b
 */
export function compareIncidents(a, b) {
  const s = (SEVERITY_RANK[b.severity] || 0) - (SEVERITY_RANK[a.severity] || 0);
  if (s) return s;
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) return ta - tb;
  return a.id - b.id;
}

/**
 * The queue: the incidents the filters show, in queue order.
 * @template {Readonly<IncidentSummary>} T
 * @param {Iterable<T>} incidents
 * @param {Readonly<Filters>} filters
 * @returns {T[]}
 */
export function filteredIncidents(incidents, filters) {
  const list = [];
  for (const inc of incidents) if (incidentMatchesFilters(inc, filters)) list.push(inc);
  list.sort(compareIncidents);
  return list;
}

/**
 * Filters restored from storage: only known values, the rest from the defaults.
 * @param {unknown} saved
 * @returns {Filters}
 */
export function sanitizeFilters(saved) {
  const f = { ...DEFAULT_FILTERS };
  if (!saved || typeof saved !== 'object') return f;
  const s = /** @type {Record<string, unknown>} */ (saved);
  if (typeof s.sector === 'string' && (s.sector === '' || SECTORS.includes(/** @type {any} */ (s.sector)))) {
    f.sector = /** @type {Filters['sector']} */ (s.sector);
  }
  if (typeof s.status === 'string' && (s.status === 'open' || s.status === 'all' || STATUSES.includes(/** @type {any} */ (s.status)))) {
    f.status = /** @type {Filters['status']} */ (s.status);
  }
  if (typeof s.agency === 'string') f.agency = s.agency;
  return f;
}

/**
 * The incident list query a status filter needs: open incidents, one status, or all.
 * @param {Readonly<Filters>} filters
 * @returns {IncidentQuery}
 */
export function incidentQuery(filters) {
  const status = filters.status;
  /** @type {IncidentQuery} */
  const q = { limit: 500 };
  if (status === 'open' || !status) q.open = 'true';
  else if (status !== 'all') q.status = status;
  return q;
}

/**
 * Whether the server would list `inc` for the query `q`.
 * @param {Readonly<IncidentSummary>} inc
 * @param {IncidentQuery} q
 */
export function inQuery(inc, q) {
  if (q.open) return OPEN_STATUSES.has(inc.status);
  if (q.status) return inc.status === q.status;
  return true;
}

/** @typedef {{limit: number, open?: 'true', status?: Status}} IncidentQuery */
