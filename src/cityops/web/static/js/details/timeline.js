// @ts-check
// The incident's history: the timeline (newest first), the operator's note box, linked events.

import { canNote } from '../actions.js';
import { h } from '../dom.js';
import { fmtDateTime, t, tMaybe } from '../i18n.js';
import { section } from './common.js';
import { postIncident } from './post.js';

/** @typedef {import('../types').IncidentDetail} IncidentDetail */

/** @param {IncidentDetail} detail */
export function timelineBlock(detail) {
  const entries = (detail.timeline || []).slice().sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  if (!entries.length) return section('incident.timeline', h('p', { class: 'muted' }, t('incident.no_timeline')));
  return section(
    'incident.timeline',
    h(
      'ol',
      { class: 'timeline' },
      ...entries.map((e) =>
        h(
          'li',
          { class: `tl tl-${e.kind}`, dataset: { testid: 'timeline-entry', kind: e.kind, to: e.to_status || '' } },
          h('time', { datetime: e.at }, fmtDateTime(e.at)),
          h(
            'div',
            { class: 'tl-body' },
            h('span', { class: 'tl-kind' }, tMaybe(`timeline.${e.kind}`, e.kind)),
            e.from_status || e.to_status
              ? h('span', { class: 'tl-move' }, e.from_status ? t(`status.${e.from_status}`) : '', ' → ', e.to_status ? t(`status.${e.to_status}`) : '')
              : null,
            e.actor ? h('span', { class: 'tl-actor' }, e.actor) : null,
            e.text ? h('p', { class: 'tl-text' }, e.text) : null,
          ),
        ),
      ),
    ),
  );
}

/** @param {IncidentDetail} detail */
export function eventsBlock(detail) {
  const events = (detail.events || []).slice().sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts));
  if (!events.length) return null;
  return section(
    'incident.events',
    h(
      'table',
      { class: 'events' },
      h('thead', null, h('tr', null, h('th', null, t('event.time')), h('th', null, t('event.kind')), h('th', null, t('event.source')), h('th', null, t('event.zone')))),
      h(
        'tbody',
        null,
        ...events.slice(0, 25).map((ev) =>
          h('tr', null, h('td', null, fmtDateTime(ev.ts)), h('td', null, tMaybe(`event_kind.${ev.kind}`, ev.kind)), h('td', null, ev.source_id || '—'), h('td', null, ev.zone || '—')),
        ),
      ),
    ),
  );
}

/** @param {Readonly<import('../types').IncidentSummary>} inc */
export function noteBlock(inc) {
  const allowed = canNote(inc);
  const text = h('textarea', { id: 'note-text', rows: 2, maxlength: 2000, placeholder: t('incident.note_placeholder'), disabled: !allowed });
  const btn = h('button', { type: 'button', class: 'btn', disabled: true }, t('action.add_note'));
  text.addEventListener('input', () => {
    btn.disabled = !allowed || !text.value.trim();
  });
  const submit = async () => {
    const value = text.value.trim();
    if (!value || !allowed) return;
    btn.disabled = true;
    text.value = ''; // the reply re-renders the panel, which keeps unsent text only
    const res = await postIncident(inc.id, '/notes', { text: value }, t('action.done.note'));
    if (!res && text.isConnected) {
      text.value = value;
      btn.disabled = false;
    }
  };
  btn.addEventListener('click', submit);
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      submit();
    }
  });
  return h('section', { class: 'd-section' }, h('label', { class: 'd-section-title', for: 'note-text' }, t('incident.add_note')), text, h('div', { class: 'note-actions' }, h('span', { class: 'muted' }, t('incident.note_hint')), btn));
}
