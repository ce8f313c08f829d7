// @ts-check
// The registry of vulnerable people (docs/AGENCIES.md "SOS of vulnerable people"), a tab of
// the console for persons.view holders: the list (names, kinds, devices: no contact), and one
// person's record on request (GET .../persons/{id}: each opening, and the photo, audited by the
// server). persons.manage holders (admin, supervisor) add, change and remove people; the
// others see the record read-only, without any edit control.

import { can } from '../access.js';
import { API_BASE, getJSON, mpath } from '../api.js';
import { byId, h } from '../dom.js';
import { getLanguage, t } from '../i18n.js';
import { on, state } from '../state.js';
import { apiErrorMessage } from '../details/common.js';
import { areaEditor } from './area.js';
import { personForm } from './form.js';
import { sortedPersons } from './model.js';

/** @typedef {import('../types').PersonView} PersonView */
/** @typedef {Omit<PersonView, 'guardian_name' | 'guardian_phone' | 'notes' | 'created_at' | 'incident_id'>} PersonBrief */

let active = false;
let loading = 0;
/** The municipality the list shows. */
let listedMid = '';
/** @type {number | null} the person shown (null: none or the new-person form) */
let shownId = null;
/** @type {import('./area.js').AreaEditor | null} */
let editor = null;

const manager = () => can(state.me, state.mid, 'persons.manage');

function dropEditor() {
  if (editor) editor.destroy();
  editor = null;
}

/** @param {PersonBrief} p */
function row(p) {
  const open = h('button', { type: 'button', class: 'link-btn', dataset: { testid: 'persons-open' } }, p.name);
  open.addEventListener('click', () => showPerson(p.id));
  return h(
    'tr',
    { dataset: { testid: 'persons-row', personId: p.id, selected: String(p.id === shownId) } },
    h('td', null, open),
    h('td', null, t(`person.kind_${p.kind}`)),
    h('td', { class: 'mono' }, p.device_id),
    h('td', null, p.has_photo ? t('persons_registry.yes') : '—'),
    h('td', null, p.safe_area.length ? t('persons_registry.area_corners', { n: p.safe_area.length }) : '—'),
  );
}

async function loadList() {
  const mid = state.mid;
  if (!mid) return;
  const token = ++loading;
  listedMid = mid;
  /** @type {PersonBrief[]} */
  let list;
  try {
    list = await getJSON(mpath(mid, '/persons'));
  } catch (err) {
    if (token === loading) byId('persons-empty').textContent = apiErrorMessage(err);
    return;
  }
  if (token !== loading) return;
  byId('persons-rows').replaceChildren(...sortedPersons(list, getLanguage()).map(row));
  const empty = byId('persons-empty');
  empty.textContent = t('persons_registry.empty');
  empty.hidden = list.length > 0;
}

/** @param {PersonView} p */
function readOnly(p) {
  const mid = state.mid || '';
  const photo = p.has_photo
    ? h('img', { class: 'person-photo', alt: t('person.photo_alt', { name: p.name }), src: `${API_BASE}${mpath(mid, `/persons/${p.id}/photo.jpg`)}`, dataset: { testid: 'persons-view-photo' } })
    : h('div', { class: 'person-photo person-nophoto muted' }, t('person.no_photo'));
  const mapBox = h('div', { class: 'persons-map', dataset: { testid: 'persons-area-map' } });
  const tools = h('div', { class: 'persons-area-tools' });
  const el = h(
    'div',
    { class: 'persons-view', dataset: { testid: 'persons-view' } },
    h('h3', { class: 'd-section-title' }, p.name),
    h(
      'div',
      { class: 'person-card' },
      photo,
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, t('person.kind')),
        h('dd', null, t(`person.kind_${p.kind}`)),
        h('dt', null, t('person.guardian')),
        h('dd', { dataset: { testid: 'persons-view-guardian' } }, `${p.guardian_name} · ${p.guardian_phone}`),
        h('dt', null, t('person.device')),
        h('dd', null, p.device_id),
        h('dt', null, t('person.notes')),
        h('dd', null, p.notes || '—'),
      ),
    ),
    h('div', { class: 'field' }, h('span', null, t('persons_registry.area')), tools, mapBox),
  );
  queueMicrotask(() => {
    editor = areaEditor(mapBox, tools, p.safe_area, false);
  });
  return el;
}

/** @param {number} id */
async function showPerson(id) {
  const mid = state.mid || '';
  shownId = id;
  dropEditor();
  const detail = byId('persons-detail');
  detail.replaceChildren(h('p', { class: 'muted' }, t('common.loading')));
  for (const r of document.querySelectorAll('[data-testid="persons-row"]')) {
    if (r instanceof HTMLElement) r.dataset.selected = String(r.dataset.personId === String(id));
  }
  /** @type {PersonView} */
  let p;
  try {
    p = await getJSON(mpath(mid, `/persons/${id}`));
  } catch (err) {
    detail.replaceChildren(h('p', { class: 'error' }, apiErrorMessage(err)));
    return;
  }
  if (shownId !== id) return;
  detail.replaceChildren(manager() ? personForm(p, { done, onMap: (e) => (editor = e) }) : readOnly(p));
}

function showNew() {
  shownId = null;
  dropEditor();
  byId('persons-detail').replaceChildren(personForm(null, { done, onMap: (e) => (editor = e) }));
}

/** @param {number | null} id the person saved, or null after a removal */
function done(id) {
  loadList();
  if (id === null) {
    shownId = null;
    dropEditor();
    byId('persons-detail').replaceChildren();
  } else showPerson(id);
}

/** @param {boolean} on */
export function setPersonsActive(on) {
  const was = active;
  active = on;
  byId('persons-add').hidden = !manager();
  if (on && !was) loadList();
  if (!on && was) {
    dropEditor();
    shownId = null;
    byId('persons-detail').replaceChildren();
  }
}

/** Another municipality (or account) while the tab is shown: its list, nobody open. */
function followMunicipality() {
  if (!active || (state.mid || '') === listedMid) return;
  dropEditor();
  shownId = null;
  byId('persons-detail').replaceChildren();
  byId('persons-add').hidden = !manager();
  loadList();
}

export function initPersonsRegistry() {
  byId('persons-add').addEventListener('click', showNew);
  on('reference', followMunicipality);
  on('session', followMunicipality);
  on('lang', () => {
    if (active) loadList();
  });
}
