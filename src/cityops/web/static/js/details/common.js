// @ts-check
// What the details panels share: the panel's own bookkeeping (what is open, its charts and
// timers, the way back), navigation between panels, and small fragments.

import { ApiError } from '../api.js';
import { isCsrfRefusal } from '../access.js';
import { sensorChart } from '../charts.js';
import { byId, h } from '../dom.js';
import { distanceM } from '../geo.js';
import { fmtNumber, incidentTitle, t } from '../i18n.js';
import { compareIncidents, isOpenIncident } from '../model.js';
import { incidentTypeLabel } from '../queue.js';
import { state } from '../state.js';

/** @typedef {import('../types').DetailKind} DetailKind */
/** @typedef {import('../types').DetailRef} DetailRef */
/** @typedef {import('../charts.js').ChartHandle} ChartHandle */
/** @typedef {Readonly<import('../types').IncidentSummary>} Incident */
/** @typedef {Readonly<import('../types').Sensor>} Sensor */
/** @typedef {import('../dom.js').Child} Child */

/**
 * The open panel. `token` changes with every render, so late answers for an older one are dropped.
 * @typedef {object} Current
 * @property {DetailKind} kind
 * @property {string | number} id
 * @property {import('../types').IncidentDetail | null} detail the incident's last detail
 * @property {(ChartHandle | null)[]} charts
 * @property {number[]} timers
 * @property {number} token
 */

export const NEARBY_M = 600;
export const MAX_LISTED = 8;

/** The panel's bookkeeping (not the console's state: nothing else needs it). */
export const panel = {
  /** @type {Current | null} */
  current: null,
  /** @type {DetailRef[]} */
  back: [],
  token: 0,
};

/** @typedef {{open: (kind: DetailKind, id: string | number, options?: {keepBack?: boolean, fly?: boolean}) => void, close: () => void}} Navigation */
/** @type {Navigation} */
const nav = {
  open: () => {},
  close: () => {},
};

/**
 * details.js routes: opening and closing panels.
 * @param {Navigation} n
 */
export function setNavigation(n) {
  nav.open = n.open;
  nav.close = n.close;
}

export const body = () => byId('details-body');

/**
 * Replace the panel's content (leaving out empty parts: replaceChildren would print "null").
 * @param {...Child} parts
 */
export function setBody(...parts) {
  /** @type {Node[]} */
  const nodes = [];
  const add = (/** @type {unknown} */ p) => {
    if (Array.isArray(p)) p.forEach(add);
    else if (p instanceof Node) nodes.push(p);
    else if (p !== null && p !== undefined && p !== false) nodes.push(document.createTextNode(String(p)));
  };
  parts.forEach(add);
  body().replaceChildren(...nodes);
}

/** Stop what the open panel runs: live views, charts, refresh timers. */
export function teardown() {
  const cur = panel.current;
  if (!cur) return;
  // Live views are endless responses: drop them explicitly so the server stops streaming.
  for (const img of document.querySelectorAll('#details img[data-live]')) img.removeAttribute('src');
  for (const c of cur.charts) if (c) c.destroy();
  for (const timer of cur.timers) clearInterval(timer);
  cur.charts = [];
  cur.timers = [];
}

/**
 * Open another panel from this one, remembering the way back.
 * @param {DetailKind} kind
 * @param {string | number} id
 */
export function openIn(kind, id) {
  const cur = panel.current;
  if (cur) panel.back.push({ kind: cur.kind, id: cur.id });
  if (panel.back.length > 10) panel.back.shift();
  nav.open(kind, id, { keepBack: true, fly: true });
}

function goBack() {
  const prev = panel.back.pop();
  if (prev) nav.open(prev.kind, prev.id, { keepBack: true, fly: true });
}

/** @param {unknown} err */
export function apiErrorMessage(err) {
  if (err instanceof ApiError) {
    if (isCsrfRefusal(err.status, err.detail)) return t('error.csrf');
    if (err.status === 401) return t('login.expired');
    if (err.status === 403) return t('error.forbidden', { detail: err.detail || '' });
    if (err.status === 409) return t('error.conflict', { detail: err.detail || '' });
    if (err.status === 404) return t('error.not_found');
    if (err.detail) return t('error.server_detail', { detail: err.detail });
  }
  return t('error.network');
}

// --- fragments

/**
 * @param {string} titleKey
 * @param {...Child} children
 */
export function section(titleKey, ...children) {
  return h('section', { class: 'd-section' }, h('h3', { class: 'd-section-title' }, t(titleKey)), ...children);
}

/**
 * A fact of a <dl class="facts">, or nothing when the value is empty.
 * @param {string} labelKey
 * @param {Child} value
 */
export function fact(labelKey, value) {
  if (value === null || value === undefined || value === '') return null;
  return [h('dt', null, t(labelKey)), h('dd', null, value)];
}

export function closeButton() {
  return h('button', { type: 'button', class: 'icon-btn d-close', title: t('common.close'), 'aria-label': t('common.close'), onclick: () => nav.close() }, '×');
}

export function backButton() {
  if (!panel.back.length) return null;
  return h('button', { type: 'button', class: 'link-btn d-back', onclick: goBack }, `← ${t('common.back')}`);
}

/** @param {string | null | undefined} health */
export function healthBadge(health) {
  return h('span', { class: `badge health-${health || 'unknown'}` }, t(`health.${health || 'unknown'}`));
}

/** @param {string | null | undefined} st */
export function stateBadge(st) {
  return h('span', { class: `badge sstate-${st || 'unknown'}` }, t(`sensor_state.${st || 'unknown'}`));
}

/** @param {Sensor} s */
export function sensorValue(s) {
  if (s.value === null || s.value === undefined) return '—';
  return `${fmtNumber(s.value, 2)}${s.unit ? ` ${s.unit}` : ''}`;
}

/**
 * Draw the sensor charts of a panel once it is in the page; drop them if it is gone by then.
 * @param {[HTMLElement, Sensor][]} pending
 * @param {number} tok
 */
export function startCharts(pending, tok) {
  for (const [el, s] of pending) {
    sensorChart(el, s).then((handle) => {
      const cur = panel.current;
      if (cur && cur.token === tok) cur.charts.push(handle);
      else if (handle) handle.destroy();
    });
  }
}

/**
 * @param {Incident[]} list
 * @param {string} titleKey
 */
export function incidentsList(list, titleKey) {
  if (!list.length) return section(titleKey, h('p', { class: 'muted' }, t('incident.none_nearby')));
  const shown = list.slice(0, MAX_LISTED);
  return section(
    titleKey,
    h(
      'ul',
      { class: 'plain-list inc-list' },
      ...shown.map((inc) =>
        h(
          'li',
          null,
          h('span', { class: `sev-dot sev-${inc.severity}`, 'aria-hidden': 'true' }),
          h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('incident', inc.id) }, incidentTitle(inc) || incidentTypeLabel(inc)),
          h('span', { class: `chip status st-${inc.status}` }, t(`status.${inc.status}`)),
        ),
      ),
    ),
    list.length > shown.length ? h('p', { class: 'muted' }, t('incident.more_incidents', { n: list.length - shown.length })) : null,
  );
}

/**
 * Open incidents within `radius` metres, in queue order.
 * @param {number} lat
 * @param {number} lon
 * @param {number} radius
 */
export function nearbyIncidents(lat, lon, radius) {
  return [...state.incidents.values()]
    .filter((inc) => isOpenIncident(inc) && inc.location && distanceM(lat, lon, inc.location.lat, inc.location.lon) <= radius)
    .sort(compareIncidents);
}
