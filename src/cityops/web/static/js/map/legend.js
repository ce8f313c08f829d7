// @ts-check
// The map's legend: incident severities, camera health and sensor states, in their colours.

import { byId, h } from '../dom.js';
import { t } from '../i18n.js';
import { SEVERITIES } from '../state.js';
import { HEALTH_COLOURS } from './cameras.js';
import { SEVERITY_COLOURS } from './incidents.js';
import { SENSOR_COLOURS } from './sensors.js';

export function renderLegend() {
  const legend = byId('map-legend');
  /** @param {string} cls @param {string | undefined} colour @param {string} label */
  const item = (cls, colour, label) => h('span', { class: `lg-item ${cls}` }, h('i', { style: { background: colour } }), label);
  legend.replaceChildren(
    h('div', { class: 'lg-row' }, h('b', null, t('map.layer_incidents')), ...SEVERITIES.slice().reverse().map((s) => item('lg-dot', SEVERITY_COLOURS[s], t(`severity.${s}`)))),
    h('div', { class: 'lg-row' }, h('b', null, t('map.layer_cameras')), ...['online', 'stale', 'tampered', 'offline'].map((s) => item('lg-cone', HEALTH_COLOURS[s], t(`health.${s}`)))),
    h('div', { class: 'lg-row' }, h('b', null, t('map.layer_sensors')), ...['ok', 'alarm', 'stale', 'offline', 'unknown'].map((s) => item(`lg-dot lg-${s}`, SENSOR_COLOURS[s], t(`sensor_state.${s}`)))),
  );
}
