// @ts-check
// Incident markers, clustered, coloured by severity; a cluster takes its worst incident's colour.

import { h } from '../dom.js';
import { incidentTitle } from '../i18n.js';
import { emit, incidentMatchesFilters, SEVERITY_RANK, state } from '../state.js';
import { ctx, escapeText, openDetail } from './context.js';

/** @typedef {import('./context.js').Incident} Incident */
/** @typedef {L.MarkerOptions & {severity?: string}} IncidentMarkerOptions */

/** @type {Readonly<Record<string, string>>} */
export const SEVERITY_COLOURS = { minor: '#58a6ff', moderate: '#e3b341', severe: '#f0883e', extreme: '#ff4d4f' };

/** @type {Map<number, {marker: L.Marker, key: string}>} */
const incidentMarkers = new Map();

/** @param {Incident} inc */
function incidentIcon(inc) {
  const dot = h('span', { class: 'inc-dot', dataset: { testid: 'incident-marker', incidentId: inc.id, severity: inc.severity, status: inc.status } });
  return L.divIcon({
    className: `inc-marker sev-${inc.severity} st-${inc.status}`,
    html: dot,
    iconSize: [22, 22],
    iconAnchor: [11, 11],
  });
}

/** @param {LMarkerCluster} cluster */
function clusterIcon(cluster) {
  let worst = 'minor';
  for (const m of cluster.getAllChildMarkers()) {
    const sev = /** @type {IncidentMarkerOptions} */ (m.options).severity || 'minor';
    if ((SEVERITY_RANK[sev] || 0) > (SEVERITY_RANK[worst] || 0)) worst = sev;
  }
  const n = cluster.getChildCount();
  const size = n < 10 ? 32 : n < 50 ? 38 : 44;
  return L.divIcon({
    className: `inc-cluster sev-${worst}`,
    html: h('span', { dataset: { testid: 'incident-cluster', count: n, severity: worst } }, String(n)),
    iconSize: [size, size],
  });
}

/** The incidents' layer: a cluster group. */
export function incidentGroup() {
  return L.markerClusterGroup({
    iconCreateFunction: clusterIcon,
    showCoverageOnHover: false,
    maxClusterRadius: 40,
    spiderfyOnMaxZoom: true,
    chunkedLoading: true,
  });
}

/**
 * @param {Incident | undefined} inc
 * @returns {inc is Incident & {location: import('../types').Position}}
 */
function incidentVisible(inc) {
  return Boolean(inc && inc.location && incidentMatchesFilters(inc, state.filters));
}

/**
 * @param {number} id
 * @param {L.Marker[]} [batchAdd]
 */
export function syncIncident(id, batchAdd) {
  const { groups } = ctx;
  const inc = state.incidents.get(id);
  const existing = incidentMarkers.get(id);
  if (!incidentVisible(inc)) {
    if (existing) {
      groups.incidents.removeLayer(existing.marker);
      incidentMarkers.delete(id);
    }
    return;
  }
  const key = `${inc.severity}|${inc.status}`;
  /** @type {[number, number]} */
  const ll = [inc.location.lat, inc.location.lon];
  if (!existing) {
    /** @type {IncidentMarkerOptions} */
    const options = { icon: incidentIcon(inc), severity: inc.severity, keyboard: false };
    const marker = L.marker(ll, options);
    marker.on('click', () => {
      emit('select-incident', id);
      openDetail('incident', id);
    });
    marker.bindTooltip(() => escapeText(incidentTitle(state.incidents.get(id) || inc)), { className: 'map-tip', direction: 'top', offset: [0, -10] });
    incidentMarkers.set(id, { marker, key });
    if (batchAdd) batchAdd.push(marker);
    else groups.incidents.addLayer(marker);
    return;
  }
  const { marker } = existing;
  const cur = marker.getLatLng();
  if (cur.lat !== ll[0] || cur.lng !== ll[1]) marker.setLatLng(ll);
  if (existing.key !== key) {
    existing.key = key;
    /** @type {IncidentMarkerOptions} */ (marker.options).severity = inc.severity;
    marker.setIcon(incidentIcon(inc));
    groups.incidents.refreshClusters(marker);
  }
}

export function syncAllIncidents() {
  // until the start view is set (settleView), drawing would only animate clusters into it
  if (!ctx.viewSettled) return;
  /** @type {L.Marker[]} */
  const batch = [];
  for (const id of [...incidentMarkers.keys()]) if (!state.incidents.has(id)) syncIncident(id);
  for (const id of state.incidents.keys()) syncIncident(id, batch);
  if (batch.length) ctx.groups.incidents.addLayers(batch);
}

/** An incident opened from the queue may sit in a cluster even at street zoom (several
 * incidents at one gauge or crossing): fan the cluster out where it is, keeping the zoom.
 * @param {number} id
 * @param {() => boolean} wanted false once a later focus has taken over
 */
export function revealIncident(id, wanted) {
  const group = ctx.groups.incidents;
  const rec = incidentMarkers.get(id);
  if (!wanted() || !rec || !group.hasLayer(rec.marker)) return;
  if (/** @type {any} */ (group)._inZoomAnimation) {
    // after a zoom the clusters re-form with an animation of their own (markercluster 1.5)
    group.once('animationend', () => revealIncident(id, wanted));
    return;
  }
  const parent = /** @type {L.Marker | LMarkerCluster | null} */ (group.getVisibleParent(rec.marker));
  if (parent && parent !== rec.marker && 'spiderfy' in parent && typeof parent.spiderfy === 'function') parent.spiderfy();
}
