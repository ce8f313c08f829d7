// @ts-check
// The situation summary, shown while no panel is open.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { isOpenIncident, SEVERITIES } from '../model.js';
import { state } from '../state.js';
import { agencySharesBlock } from './agency_shares.js';
import { setBody } from './common.js';

/**
 * @param {number} value
 * @param {string} key
 * @param {string} [cls]
 */
function tile(value, key, cls = '') {
  return h('div', { class: `sum-tile ${cls}` }, h('span', { class: 'sum-value' }, String(value)), h('span', { class: 'sum-label' }, t(key)));
}

export function renderSummary() {
  /** @type {Record<string, number>} */
  const bySev = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  let fresh = 0;
  for (const inc of state.incidents.values()) {
    if (!isOpenIncident(inc)) continue;
    bySev[inc.severity] = (bySev[inc.severity] || 0) + 1;
    if (inc.status === 'new') fresh += 1;
  }
  let alarms = 0;
  let silent = 0;
  for (const s of state.sensors.values()) {
    if (s.state === 'alarm') alarms += 1;
    else if (s.state === 'offline' || s.state === 'stale') silent += 1;
  }
  let camsDown = 0;
  for (const c of state.cameras.values()) if (c.health === 'offline' || c.health === 'tampered') camsDown += 1;
  setBody(
    h('div', { class: 'd-head' }, h('h2', { class: 'd-title' }, t('summary.title'))),
    h('div', { class: 'sum-grid' }, ...SEVERITIES.map((s) => tile(bySev[s] || 0, `severity.${s}`, `sev-${s}`))),
    h(
      'div',
      { class: 'sum-grid pairs' },
      tile(fresh, 'summary.unacknowledged', fresh ? 'attention' : ''),
      tile(alarms, 'summary.sensor_alarms', alarms ? 'attention' : ''),
      tile(silent, 'summary.sensors_offline'),
      tile(camsDown, 'summary.cameras_down'),
    ),
    agencySharesBlock(renderSummary),
    h('p', { class: 'hint' }, t('summary.hint')),
    h('p', { class: 'hint' }, t('summary.keys')),
  );
}
