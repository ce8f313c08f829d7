// @ts-check
// The incident's action buttons and agency assignment, as the server's `actions` allow.

import { actionButtons, actionPayload, canAssign } from '../actions.js';
import { h } from '../dom.js';
import { displayName, t } from '../i18n.js';
import { agencyLabel } from '../queue.js';
import { state } from '../state.js';
import { askCancelReason } from '../ui.js';
import { postIncident } from './post.js';

/** @typedef {Readonly<import('../types').IncidentSummary>} Incident */

/**
 * @param {Incident} inc
 * @param {ReturnType<typeof actionButtons>[number]} button
 */
async function run(inc, button) {
  let reason = null;
  if (button.action === 'cancel') {
    reason = await askCancelReason();
    if (!reason) return;
  }
  await postIncident(inc.id, button.path, actionPayload(button.action, reason), t(`action.done.${button.key}`));
}

/** @param {Incident} inc */
export function actionsBlock(inc) {
  const buttons = actionButtons(inc).map((b) => {
    const btn = h(
      'button',
      { type: 'button', class: `btn ${b.cls}`, disabled: !b.enabled, title: t(b.titleKey), dataset: { action: b.key } },
      t(`action.${b.key}`),
    );
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      await run(inc, b);
      if (btn.isConnected) btn.disabled = false;
    });
    return btn;
  });
  const assignable = canAssign(inc);
  const agencies = [...state.agencies.values()].sort((a, b) => displayName(a).localeCompare(displayName(b)));
  const preselect = inc.assigned_agency || inc.proposed_agency || '';
  const select = h(
    'select',
    { id: 'assign-agency', disabled: !assignable },
    h('option', { value: '' }, t('incident.choose_agency')),
    ...agencies.map((a) =>
      h('option', { value: a.id, selected: a.id === preselect }, `${displayName(a)}${a.id === inc.proposed_agency ? ` · ${t('incident.proposed')}` : ''}`),
    ),
  );
  const assignBtn = h('button', { type: 'button', class: 'btn', disabled: !assignable || !preselect, dataset: { action: 'assign' } }, t('action.assign'));
  select.addEventListener('change', () => {
    assignBtn.disabled = !select.value;
  });
  assignBtn.addEventListener('click', async () => {
    if (!select.value) return;
    assignBtn.disabled = true;
    await postIncident(inc.id, '/assign', { agency: select.value, note: null }, t('action.done.assign', { agency: agencyLabel(select.value) }));
    if (assignBtn.isConnected) assignBtn.disabled = false;
  });
  return h(
    'section',
    { class: 'd-section d-actions' },
    h('div', { class: 'action-grid' }, ...buttons),
    h('div', { class: 'assign-row' }, h('label', { class: 'visually-hidden', for: 'assign-agency' }, t('incident.assign_agency')), select, assignBtn),
  );
}
