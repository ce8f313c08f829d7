// @ts-check
// Sensors: the ones near a place (with charts), and a sensor's own panel. A stale sensor (no
// data for a while) says for how long.

import { h } from '../dom.js';
import { distanceM } from '../geo.js';
import { displayName, fmtAge, fmtDateTime, fmtDistance, fmtNumber, t, tMaybe } from '../i18n.js';
import { state } from '../state.js';
import {
  backButton, closeButton, fact, incidentsList, NEARBY_M, nearbyIncidents, openIn, panel, section, sensorValue, setBody, startCharts, stateBadge,
} from './common.js';

/** @typedef {Readonly<import('../types').Sensor>} Sensor */

const MAX_SENSOR_CHARTS = 4;

/**
 * Sensors within NEARBY_M of a place (and the preferred ones wherever they are): preferred
 * first, then alarms, then nearest.
 * @param {number} lat
 * @param {number} lon
 * @param {ReadonlySet<string>} [preferred]
 * @returns {{s: Sensor, d: number, pref: boolean}[]}
 */
export function nearbySensors(lat, lon, preferred = new Set()) {
  const list = [];
  for (const s of state.sensors.values()) {
    if (!s.position) continue;
    const d = distanceM(lat, lon, s.position.lat, s.position.lon);
    if (d <= NEARBY_M || preferred.has(s.id)) list.push({ s, d, pref: preferred.has(s.id) });
  }
  list.sort((a, b) => Number(b.pref) - Number(a.pref) || Number(b.s.state === 'alarm') - Number(a.s.state === 'alarm') || a.d - b.d);
  return list;
}

/**
 * "No data for 25 min" for a stale sensor, else null.
 * @param {Sensor} s
 */
export function staleText(s) {
  if (s.state !== 'stale') return null;
  return s.ts ? t('sensor.stale_for', { age: fmtAge(Date.now() - Date.parse(s.ts)) }) : t('sensor.never');
}

/**
 * @param {{s: Sensor, d: number}[]} list
 * @param {string} titleKey
 * @returns {{el: HTMLElement, pending: [HTMLElement, Sensor][]}}
 */
export function sensorsBlock(list, titleKey) {
  if (!list.length) return { el: section(titleKey, h('p', { class: 'muted' }, t('incident.no_sensors'))), pending: [] };
  const wrap = h('div', { class: 'sensor-list' });
  /** @type {[HTMLElement, Sensor][]} */
  const pending = [];
  for (const { s, d } of list.slice(0, MAX_SENSOR_CHARTS)) {
    const chart = h('div', { class: 'chart' });
    const stale = staleText(s);
    wrap.appendChild(
      h(
        'div',
        { class: `sensor-card sstate-${s.state || 'unknown'}`, dataset: { sensor: s.id } },
        h(
          'div',
          { class: 'sensor-card-head' },
          h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('sensor', s.id) }, displayName(s)),
          h('span', { class: 'sensor-val', dataset: { sensorValue: s.id } }, sensorValue(s)),
          stateBadge(s.state),
          h('span', { class: 'muted' }, fmtDistance(d)),
        ),
        stale ? h('p', { class: 'stale-note', dataset: { testid: 'sensor-stale' } }, stale) : null,
        chart,
      ),
    );
    pending.push([chart, s]);
  }
  const extra = list.length > MAX_SENSOR_CHARTS ? h('p', { class: 'muted' }, t('incident.more_sensors', { n: list.length - MAX_SENSOR_CHARTS })) : null;
  return { el: section(titleKey, wrap, extra), pending };
}

/** @param {Sensor} s */
export function renderSensor(s) {
  const chart = h('div', { class: 'chart' });
  const thresholds = (s.thresholds || []).map((th) =>
    h('li', null, t(th.op === 'below' ? 'chart.below' : 'chart.above', { value: fmtNumber(th.value, 2), unit: s.unit || '' }), th.rule_id ? h('span', { class: 'muted' }, ` · ${th.rule_id}`) : null),
  );
  const stale = staleText(s);
  const hasRange = s.valid_min !== null && s.valid_min !== undefined && s.valid_max !== null && s.valid_max !== undefined;
  setBody(
    h(
      'div',
      { class: 'd-head' },
      h('div', { class: 'd-kicker' }, backButton(), h('span', { class: 'kind-label' }, t('sensor.title')), stateBadge(s.state), closeButton()),
      h('h2', { class: 'd-title', id: 'detail-title', tabindex: '-1' }, displayName(s)),
    ),
    h('div', { class: `big-value sstate-${s.state || 'unknown'}`, dataset: { sensorValue: s.id } }, sensorValue(s)),
    stale ? h('p', { class: 'stale-note', dataset: { testid: 'sensor-stale' } }, stale) : null,
    h(
      'dl',
      { class: 'facts' },
      fact('sensor.id', s.id),
      fact('sensor.kind', tMaybe(`sensor_kind.${s.kind}`, s.kind)),
      fact('sensor.last_reading', s.ts ? `${fmtDateTime(s.ts)} · ${t('age.ago', { age: fmtAge(Date.now() - Date.parse(s.ts)) })}` : t('sensor.never')),
      fact('sensor.valid_range', hasRange ? `${fmtNumber(s.valid_min, 2)} … ${fmtNumber(s.valid_max, 2)} ${s.unit || ''}` : null),
    ),
    h('section', { class: 'd-section' }, h('h3', { class: 'd-section-title' }, t('sensor.last_hours', { hours: 6 })), chart, thresholds.length ? h('ul', { class: 'thresholds' }, ...thresholds) : null),
    s.position ? incidentsList(nearbyIncidents(s.position.lat, s.position.lon, NEARBY_M), 'sensor.incidents_nearby') : null,
  );
  if (panel.current) startCharts([[chart, s]], panel.current.token);
}
