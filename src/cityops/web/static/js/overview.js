// @ts-check
// Overview: incidents by sector and status, open incidents by age, sensors and cameras offline;
// for admins, retention in force and the retention job's last run.

import { can } from './access.js';
import { getJSON, mpath } from './api.js';
import { byId, h } from './dom.js';
import { fmtNumber, fmtTime, t } from './i18n.js';
import { loadRetention, retentionCard } from './retention.js';
import { on, SECTORS, STATUSES, state } from './state.js';

const REFRESH_MS = 30000;
const AGE_BUCKETS = ['lt_1h', '1h_6h', '6h_24h', 'gt_24h'];

let active = false;
let timer = 0;
let debounce = 0;
/** @type {import('./types').Overview | null} */
let last = null;
/** @type {import('./types').RetentionView | null} */
let retention = null;

/**
 * @param {string} titleKey
 * @param {[string, number, string][]} entries key, value, label
 * @param {string} cls
 */
function bars(titleKey, entries, cls) {
  const max = Math.max(1, ...entries.map(([, v]) => v));
  return h(
    'section',
    { class: 'ov-card' },
    h('h3', { class: 'd-section-title' }, t(titleKey)),
    h(
      'ul',
      { class: 'bars' },
      ...entries.map(([key, value, label]) =>
        h(
          'li',
          { class: `${cls}-${key}` },
          h('span', { class: 'bar-label' }, label),
          h('span', { class: 'bar-track' }, h('span', { class: 'bar-fill', style: { width: `${(100 * value) / max}%` } })),
          h('span', { class: 'bar-value' }, fmtNumber(value, 0)),
        ),
      ),
    ),
  );
}

/**
 * @param {string} titleKey
 * @param {number} bad
 * @param {number} total
 * @param {string} badKey
 */
function gauge(titleKey, bad, total, badKey) {
  const pct = total ? Math.round((100 * bad) / total) : 0;
  return h(
    'section',
    { class: `ov-card gauge ${bad ? 'attention' : ''}` },
    h('h3', { class: 'd-section-title' }, t(titleKey)),
    h('div', { class: 'gauge-value' }, h('span', { class: 'big' }, fmtNumber(bad, 0)), h('span', { class: 'muted' }, t('overview.of_total', { total: fmtNumber(total, 0) }))),
    h('div', { class: 'bar-track wide' }, h('span', { class: 'bar-fill', style: { width: `${pct}%` } })),
    h('p', { class: 'muted' }, t(badKey, { pct })),
  );
}

/** @param {import('./types').Overview} data */
function render(data) {
  const root = byId('overview-body');
  const bySector = data.incidents_by_sector || {};
  const byStatus = data.incidents_by_status || {};
  const age = data.open_by_age || {};
  const openTotal = AGE_BUCKETS.reduce((n, k) => n + (age[k] || 0), 0);
  root.replaceChildren(
    h(
      'div',
      { class: 'ov-head' },
      h('h2', { class: 'panel-title' }, t('overview.title')),
      h('span', { class: 'muted' }, t('overview.updated', { time: fmtTime(Date.now()) })),
    ),
    h(
      'div',
      { class: 'ov-kpis' },
      h('div', { class: 'sum-tile' }, h('span', { class: 'sum-value' }, fmtNumber(openTotal, 0)), h('span', { class: 'sum-label' }, t('overview.open_total'))),
      h('div', { class: 'sum-tile' }, h('span', { class: 'sum-value' }, fmtNumber(byStatus.new || 0, 0)), h('span', { class: 'sum-label' }, t('summary.unacknowledged'))),
      h('div', { class: 'sum-tile' }, h('span', { class: 'sum-value' }, fmtNumber(age.gt_24h || 0, 0)), h('span', { class: 'sum-label' }, t('overview.older_than_day'))),
    ),
    bars('overview.by_sector', SECTORS.map((s) => /** @type {[string, number, string]} */ ([s, bySector[s] || 0, t(`sector.${s}`)])), 'sector'),
    bars('overview.by_status', STATUSES.map((s) => /** @type {[string, number, string]} */ ([s, byStatus[s] || 0, t(`status.${s}`)])), 'st'),
    bars('overview.by_age', AGE_BUCKETS.map((k) => /** @type {[string, number, string]} */ ([k, age[k] || 0, t(`age_bucket.${k}`)])), 'age'),
    gauge('overview.sensors', data.sensors_offline || 0, data.sensors_total || 0, 'overview.sensors_offline'),
    gauge('overview.cameras', data.cameras_offline || 0, data.cameras_total || 0, 'overview.cameras_offline'),
  );
  if (retention) root.append(retentionCard(retention));
}

async function load() {
  if (!active || !state.mid) return;
  try {
    const mid = state.mid;
    const admin = can(state.me, mid, 'retention.manage');
    /** @type {[import('./types').Overview, import('./types').RetentionView | null]} */
    const [data, kept] = await Promise.all([getJSON(mpath(mid, '/overview')), admin ? loadRetention(mid).catch(() => null) : null]);
    last = data;
    retention = kept;
    render(data);
  } catch {
    byId('overview-body').replaceChildren(h('p', { class: 'error' }, t('error.load')));
  }
}

/** @param {boolean} on_ */
export function setOverviewActive(on_) {
  active = on_;
  clearInterval(timer);
  timer = 0;
  if (active) {
    load();
    timer = window.setInterval(load, REFRESH_MS);
  }
}

export function initOverview() {
  on('incidents', () => {
    if (!active) return;
    clearTimeout(debounce);
    debounce = window.setTimeout(load, 1500);
  });
  on('lang', () => {
    if (active && last) render(last);
  });
}
