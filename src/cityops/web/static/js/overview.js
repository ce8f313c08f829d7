// Overview: incidents by sector and status, open incidents by age, sensors and cameras offline.

import { getJSON, mpath } from './api.js';
import { h } from './dom.js';
import { fmtNumber, fmtTime, t } from './i18n.js';
import { on, SECTORS, STATUSES, state } from './state.js';

const REFRESH_MS = 30000;
const AGE_BUCKETS = ['lt_1h', '1h_6h', '6h_24h', 'gt_24h'];

let active = false;
let timer = null;
let debounce = null;
let last = null;

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

function render(data) {
  const root = document.getElementById('overview-body');
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
    bars('overview.by_sector', SECTORS.map((s) => [s, bySector[s] || 0, t(`sector.${s}`)]), 'sector'),
    bars('overview.by_status', STATUSES.map((s) => [s, byStatus[s] || 0, t(`status.${s}`)]), 'st'),
    bars('overview.by_age', AGE_BUCKETS.map((k) => [k, age[k] || 0, t(`age_bucket.${k}`)]), 'age'),
    gauge('overview.sensors', data.sensors_offline || 0, data.sensors_total || 0, 'overview.sensors_offline'),
    gauge('overview.cameras', data.cameras_offline || 0, data.cameras_total || 0, 'overview.cameras_offline'),
  );
}

async function load() {
  if (!active || !state.mid) return;
  try {
    last = await getJSON(mpath(state.mid, '/overview'));
    render(last);
  } catch {
    document.getElementById('overview-body').replaceChildren(h('p', { class: 'error' }, t('error.load')));
  }
}

export function setOverviewActive(on_) {
  active = on_;
  clearInterval(timer);
  timer = null;
  if (active) {
    load();
    timer = setInterval(load, REFRESH_MS);
  }
}

export function initOverview() {
  on('incidents', () => {
    if (!active) return;
    clearTimeout(debounce);
    debounce = setTimeout(load, 1500);
  });
  on('lang', () => {
    if (active && last) render(last);
  });
}
