// @ts-check
// The person of an SOS episode (an incident of rule `sos`; docs/AGENCIES.md "SOS of vulnerable
// people"): photo, who the person is, the guardian's contact, notes, and "Forward to police"
// (a share of the incident's cameras with origin sos, to the configured police agency).
// Fetched once per incident (each fetch of the contact and of the photo is audited on the
// server), kept across the panel's live re-renders, which come with every new position.
// Offered only with persons.view; the forward button only with shares.manage.

import { can } from '../access.js';
import { API_BASE, getJSON, mpath, postJSON } from '../api.js';
import { h } from '../dom.js';
import { getLanguage, t } from '../i18n.js';
import { isOpenIncident } from '../model.js';
import { agencyLabel } from '../queue.js';
import { emit, state } from '../state.js';
import { toast } from '../ui.js';
import { apiErrorMessage, section } from './common.js';

/** @typedef {import('../types').PersonView} PersonView */
/** @typedef {import('../types').NewShareView} NewShareView */
/** @typedef {Readonly<import('../types').IncidentSummary>} Incident */

/** @type {{incident: number, mid: string, lang: string, el: HTMLElement} | null} */
let shown = null;

/**
 * @param {PersonView} p
 * @param {string} mid
 * @param {number} incident
 */
function card(p, mid, incident) {
  const photo = p.has_photo
    ? h('img', {
        class: 'person-photo',
        alt: t('person.photo_alt', { name: p.name }),
        src: `${API_BASE}${mpath(mid, `/persons/${p.id}/photo.jpg`)}?incident=${incident}`,
        dataset: { testid: 'person-photo' },
      })
    : h('div', { class: 'person-photo person-nophoto muted' }, t('person.no_photo'));
  const phone = h('a', { href: `tel:${p.guardian_phone.replace(/[^+0-9]/g, '')}`, dataset: { testid: 'person-guardian-phone' } }, p.guardian_phone);
  return h(
    'div',
    { class: 'person-card' },
    photo,
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, t('person.name')),
      h('dd', { dataset: { testid: 'person-name' } }, p.name),
      h('dt', null, t('person.kind')),
      h('dd', null, t(`person.kind_${p.kind}`)),
      h('dt', null, t('person.guardian')),
      h('dd', null, p.guardian_name, ' · ', phone),
      h('dt', null, t('person.device')),
      h('dd', null, p.device_id),
      ...(p.notes ? [h('dt', null, t('person.notes')), h('dd', { dataset: { testid: 'person-notes' } }, p.notes)] : []),
    ),
  );
}

/**
 * The share's link, shown once (its token exists only there), selected for copying.
 * @param {HTMLElement} box
 * @param {string} link
 * @param {string} message
 */
function showLink(box, link, message) {
  const input = h('input', { class: 'share-link-input', readonly: true, value: link, 'aria-label': t('person.link'), dataset: { testid: 'person-share-link' } });
  box.replaceChildren(h('p', null, message), input);
  box.hidden = false;
  if (input instanceof HTMLInputElement) input.select();
}

/**
 * @param {string} mid
 * @param {Incident} inc
 * @param {HTMLElement} result
 * @param {HTMLButtonElement} button
 */
async function forward(mid, inc, result, button) {
  button.disabled = true;
  try {
    /** @type {NewShareView} */
    const made = await postJSON(mpath(mid, `/incidents/${inc.id}/person/forward`), {});
    showLink(result, made.link, t('person.forwarded', { agency: agencyLabel(made.agency) }));
    toast(t('person.forwarded', { agency: agencyLabel(made.agency) }), 'ok');
  } catch (err) {
    result.replaceChildren(h('p', { class: 'error', dataset: { testid: 'person-forward-error' } }, apiErrorMessage(err)));
    result.hidden = false;
  } finally {
    button.disabled = false;
  }
}

/**
 * @param {HTMLElement} box
 * @param {string} mid
 * @param {Incident} inc
 */
async function load(box, mid, inc) {
  /** @type {PersonView} */
  let p;
  try {
    p = await getJSON(mpath(mid, `/incidents/${inc.id}/person`));
  } catch (err) {
    box.replaceChildren(h('p', { class: 'error' }, apiErrorMessage(err)));
    return;
  }
  const parts = [card(p, mid, inc.id)];
  if (can(state.me, mid, 'shares.manage') && isOpenIncident(inc)) {
    const result = h('div', { class: 'share-result', hidden: true, dataset: { testid: 'person-forward-result' } });
    const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-danger', dataset: { testid: 'person-forward' } }, t('person.forward')));
    button.addEventListener('click', () => forward(mid, inc, result, button));
    parts.push(h('div', { class: 'assign-row' }, button), result);
  }
  box.replaceChildren(...parts);
  emit('person-track', { person: p.id, incident: inc.id }); // the map follows the person
}

/**
 * The person section of an SOS episode's incident panel, or null for other incidents or
 * without persons.view.
 * @param {Incident} inc
 * @returns {HTMLElement | null}
 */
export function personBlock(inc) {
  const mid = state.mid || '';
  if (inc.rule_id !== 'sos' || !can(state.me, mid, 'persons.view')) return null;
  if (shown && shown.incident === inc.id && shown.mid === mid && shown.lang === getLanguage()) return shown.el;
  const box = h('div', { class: 'person-box' }, h('p', { class: 'muted' }, t('common.loading')));
  const el = section('person.title', box);
  el.dataset.testid = 'person-section';
  shown = { incident: inc.id, mid, lang: getLanguage(), el };
  load(box, mid, inc);
  return el;
}
