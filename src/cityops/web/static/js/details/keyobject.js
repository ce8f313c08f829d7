// @ts-check
// A key object (school, hospital, bridge…): its importance, the cameras that see it, the
// sensors and open incidents near it.

import { h } from '../dom.js';
import { cameraSees } from '../geo.js';
import { displayName, fmtDistance, fmtNumber, t, tMaybe } from '../i18n.js';
import { state } from '../state.js';
import {
  backButton, closeButton, fact, healthBadge, incidentsList, MAX_LISTED, NEARBY_M, nearbyIncidents, openIn, section, sensorValue, setBody, stateBadge,
} from './common.js';
import { nearbySensors } from './sensor.js';

/** @param {number | boolean | string} v */
function importanceValue(v) {
  if (typeof v === 'boolean') return t(v ? 'common.yes' : 'common.no');
  if (typeof v === 'number') return fmtNumber(v, 2);
  return String(v);
}

/** @param {Readonly<import('../types').KeyObject>} ko */
export function renderKeyObject(ko) {
  const pos = ko.position;
  const importance = Object.entries(ko.importance || {});
  const cams = pos ? [...state.cameras.values()].filter((c) => cameraSees(c, pos.lat, pos.lon)) : [];
  const sensors = pos ? nearbySensors(pos.lat, pos.lon) : [];
  setBody(
    h(
      'div',
      { class: 'd-head' },
      h('div', { class: 'd-kicker' }, backButton(), h('span', { class: 'kind-label' }, tMaybe(`key_kind.${ko.kind}`, ko.kind)), closeButton()),
      h('h2', { class: 'd-title', id: 'detail-title', tabindex: '-1' }, displayName(ko)),
    ),
    h(
      'dl',
      { class: 'facts' },
      fact('key_object.id', ko.id),
      fact('key_object.kind', tMaybe(`key_kind.${ko.kind}`, ko.kind)),
      ...importance.map(([k, v]) => [h('dt', null, tMaybe(`importance.${k}`, k)), h('dd', null, importanceValue(v))]),
    ),
    section(
      'key_object.cameras',
      cams.length
        ? h('ul', { class: 'plain-list' }, ...cams.map((c) => h('li', null, h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('camera', c.id) }, displayName(c)), healthBadge(c.health))))
        : h('p', { class: 'muted' }, t('key_object.no_cameras')),
    ),
    section(
      'key_object.sensors',
      sensors.length
        ? h(
          'ul',
          { class: 'plain-list' },
          ...sensors.slice(0, MAX_LISTED).map(({ s, d }) =>
            h(
              'li',
              null,
              h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('sensor', s.id) }, displayName(s)),
              h('span', { class: 'sensor-val', dataset: { sensorValue: s.id } }, sensorValue(s)),
              stateBadge(s.state),
              h('span', { class: 'muted' }, fmtDistance(d)),
            ),
          ),
        )
        : h('p', { class: 'muted' }, t('incident.no_sensors')),
    ),
    pos ? incidentsList(nearbyIncidents(pos.lat, pos.lon, NEARBY_M), 'key_object.incidents_nearby') : null,
  );
}
