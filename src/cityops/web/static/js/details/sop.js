// @ts-check
// The incident's standard operating procedure: steps ticked off by the operator (while the
// server's `actions` include `sop`).

import { canTickSop } from '../actions.js';
import { h } from '../dom.js';
import { fmtDateTime, getLanguage, t } from '../i18n.js';
import { agencyLabel } from '../queue.js';
import { section } from './common.js';
import { postIncident } from './post.js';

/**
 * @param {Readonly<import('../types').IncidentSummary>} inc
 * @param {import('../types').Sop | null} sop
 * @param {boolean} [mayAct] the account may act on incidents (else the steps are shown, not ticked)
 */
export function sopBlock(inc, sop, mayAct = true) {
  if (!sop || !sop.steps || !sop.steps.length) return section('incident.sop', h('p', { class: 'muted' }, t('incident.no_sop')));
  const local = getLanguage() !== 'en';
  const title = local && sop.title_local ? sop.title_local : sop.title;
  const done = sop.steps.filter((s) => s.done).length;
  const enabled = mayAct && canTickSop(inc);
  const list = h('ol', { class: 'sop' });
  for (const step of sop.steps) {
    const id = `sop-${inc.id}-${step.id}`;
    const box = h('input', { type: 'checkbox', id, checked: Boolean(step.done), disabled: !enabled });
    box.addEventListener('change', async () => {
      box.disabled = true;
      const res = await postIncident(inc.id, `/sop/${encodeURIComponent(step.id)}`, { done: box.checked }, null);
      if (!res && box.isConnected) {
        box.checked = !box.checked;
        box.disabled = false;
      }
    });
    const text = local && step.text_local ? step.text_local : step.text;
    list.appendChild(
      h(
        'li',
        { class: step.done ? 'done' : '' },
        box,
        h(
          'label',
          { for: id },
          h('span', { class: 'sop-text' }, text),
          step.agency ? h('span', { class: 'sop-agency' }, agencyLabel(step.agency)) : null,
          step.done && (step.done_by || step.done_at)
            ? h('span', { class: 'sop-done' }, t('incident.sop_done_by', { who: step.done_by || '—', at: step.done_at ? fmtDateTime(step.done_at) : '—' }))
            : null,
        ),
      ),
    );
  }
  return h(
    'section',
    { class: 'd-section' },
    h('h3', { class: 'd-section-title' }, t('incident.sop'), h('span', { class: 'count-badge' }, `${done}/${sop.steps.length}`)),
    title ? h('p', { class: 'sop-title' }, title) : null,
    list,
  );
}
