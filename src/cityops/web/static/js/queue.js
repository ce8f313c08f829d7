// @ts-check
// The incident queue: open incidents by severity then age, filters, keyboard selection,
// a flash (and optional beep) for incidents that arrive live.

import { refreshIncidents } from './data.js';
import { byIdAs, h } from './dom.js';
import { displayName, fmtAge, incidentTitle, t, tMaybe } from './i18n.js';
import { filteredIncidents, sanitizeFilters } from './model.js';
import { beep } from './sound.js';
import { emit, on, schedule, SECTORS, selectIncident, setFilters, state, STATUSES } from './state.js';
import { toast } from './ui.js';

/** @typedef {Readonly<import('./types').IncidentSummary>} Incident */

const FILTER_KEY = 'cityops.filters';
const FLASH_MS = 4000;

const list = () => byIdAs('queue-list', HTMLOListElement);
/** @type {Map<number, HTMLLIElement>} incident id -> <li> */
const items = new Map();
let generation = 0; // bumped when names or language change, so every item is refilled
/** @type {Map<number, number>} incident id -> timeout */
const flashing = new Map();
/** @type {number[]} */
let order = [];

/**
 * The incident type's translation when there is one, else the type id made readable.
 * @param {{type?: string}} inc
 */
export function incidentTypeLabel(inc) {
  const raw = inc.type || '';
  const readable = raw.replace(/[_-]+/g, ' ');
  return tMaybe(`type.${raw}`, readable.charAt(0).toUpperCase() + readable.slice(1));
}

/** @param {string | null | undefined} id */
export function agencyLabel(id) {
  if (!id) return '';
  const a = state.agencies.get(id);
  return a ? displayName(a) : id;
}

/** @param {Incident} inc */
function signature(inc) {
  return [inc.updated_at, inc.status, inc.severity, inc.title, inc.assigned_agency, inc.proposed_agency].join('|');
}

/**
 * @param {HTMLLIElement} li
 * @param {Incident} inc
 */
function fillItem(li, inc) {
  li.className = `q-item sev-${inc.severity} st-${inc.status}`;
  li.dataset.status = inc.status;
  li.dataset.severity = inc.severity;
  li.setAttribute('aria-selected', String(state.selectedId === inc.id));
  if (flashing.has(inc.id)) li.classList.add('flash');
  const agency = inc.assigned_agency || inc.proposed_agency;
  const age = Date.now() - Date.parse(inc.created_at);
  li.replaceChildren(
    h('span', { class: 'q-sev', title: t(`severity.${inc.severity}`) }, h('span', { class: 'q-sev-label' }, t(`severity.${inc.severity}`))),
    h(
      'div',
      { class: 'q-main' },
      h('div', { class: 'q-title' }, incidentTitle(inc) || incidentTypeLabel(inc)),
      h(
        'div',
        { class: 'q-meta' },
        h('span', { class: `chip status st-${inc.status}` }, t(`status.${inc.status}`)),
        h('span', { class: 'q-sector' }, t(`sector.${inc.sector}`)),
        agency
          ? h('span', { class: inc.assigned_agency ? 'q-agency' : 'q-agency proposed', title: inc.assigned_agency ? t('incident.assigned_agency') : t('incident.proposed_agency') }, agencyLabel(agency))
          : null,
      ),
    ),
    h(
      'div',
      { class: 'q-side' },
      h('span', { class: 'q-age', dataset: { created: inc.created_at } }, fmtAge(age)),
      h('span', { class: 'q-id' }, t('incident.number', { id: inc.id })),
    ),
  );
  li.dataset.sig = `${signature(inc)}|${generation}`;
}

/** @param {Incident} inc */
function makeItem(inc) {
  const li = h('li', { role: 'option', id: `q-${inc.id}`, dataset: { testid: 'queue-item', id: inc.id } });
  li.addEventListener('click', () => {
    select(inc.id);
    openSelected();
  });
  return li;
}

function render() {
  const ul = list();
  const incidents = filteredIncidents(state.incidents.values(), state.filters);
  const wanted = new Set();
  /** @type {HTMLLIElement | null} */
  let prev = null;
  for (const inc of incidents) {
    wanted.add(inc.id);
    let li = items.get(inc.id);
    if (!li) {
      li = makeItem(inc);
      items.set(inc.id, li);
    }
    if (li.dataset.sig !== `${signature(inc)}|${generation}`) fillItem(li, inc);
    /** @type {ChildNode | null} */
    const expected = prev ? prev.nextSibling : ul.firstChild;
    if (expected !== li) ul.insertBefore(li, expected);
    prev = li;
  }
  for (const [id, li] of items) {
    if (!wanted.has(id)) {
      li.remove();
      items.delete(id);
    }
  }
  order = incidents.map((i) => i.id);
  byIdAs('queue-count', HTMLElement).textContent = String(incidents.length);
  byIdAs('queue-empty', HTMLElement).hidden = incidents.length > 0;
  markSelected();
}

function markSelected() {
  const ul = list();
  for (const [id, li] of items) li.setAttribute('aria-selected', String(id === state.selectedId));
  if (state.selectedId !== null && items.has(state.selectedId)) {
    ul.setAttribute('aria-activedescendant', `q-${state.selectedId}`);
  } else {
    ul.removeAttribute('aria-activedescendant');
  }
}

function refreshAges() {
  const now = Date.now();
  for (const el of list().querySelectorAll('.q-age')) {
    if (el instanceof HTMLElement) el.textContent = fmtAge(now - Date.parse(el.dataset.created || ''));
  }
}

/**
 * Select an incident in the queue (and scroll it into view).
 * @param {number} id
 * @param {{scroll?: boolean}} [options]
 */
export function select(id, { scroll = true } = {}) {
  selectIncident(id);
  markSelected();
  const li = items.get(id);
  if (li && scroll) li.scrollIntoView({ block: 'nearest' });
}

/**
 * Move the selection by `delta` places in the visible queue.
 * @param {number} delta
 */
export function moveSelection(delta) {
  if (!order.length) return;
  let i = state.selectedId === null ? -1 : order.indexOf(state.selectedId);
  if (i < 0) i = delta > 0 ? -1 : order.length;
  i = Math.max(0, Math.min(order.length - 1, i + delta));
  const id = order[i];
  if (id !== undefined) select(id);
}

export function openSelected() {
  if (state.selectedId === null) return;
  emit('open-detail', { kind: 'incident', id: state.selectedId, fly: true });
}

/** @param {number[]} ids */
function flash(ids) {
  let loudest = 0;
  for (const id of ids) {
    const inc = state.incidents.get(id);
    if (!inc) continue;
    clearTimeout(flashing.get(id));
    flashing.set(
      id,
      window.setTimeout(() => {
        flashing.delete(id);
        const li = items.get(id);
        if (li) li.classList.remove('flash');
      }, FLASH_MS),
    );
    const li = items.get(id);
    if (li) {
      li.classList.remove('flash');
      void li.offsetWidth; // restart the animation
      li.classList.add('flash');
    }
    /** @type {Record<string, number>} */
    const ranks = { minor: 1, moderate: 1, severe: 2, extreme: 3 };
    const rank = ranks[inc.severity] || 1;
    loudest = Math.max(loudest, rank);
  }
  if (loudest) beep(loudest, loudest >= 2);
}

/**
 * @param {string} value
 * @param {string} label
 * @param {string} selected
 */
function option(value, label, selected) {
  return h('option', { value, selected: value === selected }, label);
}

export function fillFilters() {
  const f = state.filters;
  byIdAs('filter-sector', HTMLSelectElement).replaceChildren(
    option('', t('filter.all_sectors'), f.sector),
    ...SECTORS.map((s) => option(s, t(`sector.${s}`), f.sector)),
  );
  byIdAs('filter-status', HTMLSelectElement).replaceChildren(
    option('open', t('filter.open'), f.status),
    ...STATUSES.map((s) => option(s, t(`status.${s}`), f.status)),
    option('all', t('filter.all_statuses'), f.status),
  );
  const agencies = [...state.agencies.values()].sort((a, b) => displayName(a).localeCompare(displayName(b)));
  byIdAs('filter-agency', HTMLSelectElement).replaceChildren(
    option('', t('filter.all_agencies'), f.agency),
    option('__none', t('filter.unassigned'), f.agency),
    ...agencies.map((a) => option(a.id, displayName(a), f.agency)),
  );
}

function onFilterChange() {
  const prevStatus = state.filters.status;
  setFilters(
    sanitizeFilters({
      sector: byIdAs('filter-sector', HTMLSelectElement).value,
      status: byIdAs('filter-status', HTMLSelectElement).value,
      agency: byIdAs('filter-agency', HTMLSelectElement).value,
    }),
  );
  localStorage.setItem(FILTER_KEY, JSON.stringify(state.filters));
  if (state.filters.status !== prevStatus && state.filters.status !== 'open') {
    refreshIncidents().catch(() => toast(t('error.load'), 'error'));
  }
}

export function initQueue() {
  try {
    const saved = JSON.parse(localStorage.getItem(FILTER_KEY) || 'null');
    if (saved && typeof saved === 'object') setFilters(sanitizeFilters(saved));
  } catch {
    /* ignore a corrupt saved filter */
  }
  for (const id of ['filter-sector', 'filter-status', 'filter-agency']) {
    byIdAs(id, HTMLSelectElement).addEventListener('change', onFilterChange);
  }
  let pointerFocus = false;
  list().addEventListener('pointerdown', () => {
    pointerFocus = true;
  });
  list().addEventListener('focus', () => {
    // keyboard focus starts at the top; a click selects what was clicked instead
    const first = order[0];
    if (!pointerFocus && state.selectedId === null && first !== undefined) select(first);
    pointerFocus = false;
  });
  on('incidents', (d) => {
    schedule('queue', render);
    const added = d && d.added;
    if (added && added.length) schedule(`flash-${added.join(',')}`, () => flash(added));
  });
  on('filters', () => schedule('queue', render));
  on('reference', () => {
    generation += 1;
    fillFilters();
    schedule('queue', render);
  });
  on('lang', () => {
    generation += 1;
    fillFilters();
    schedule('queue', render);
  });
  setInterval(refreshAges, 30000);
  fillFilters();
}
