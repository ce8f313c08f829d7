// @ts-check
// Adding or changing a person (persons.manage): the fields, the photo (PUT .../photo, JPEG or
// PNG) and the safe area (area.js). What the form finds wrong is said before sending; what the
// server refuses is shown as the server says it (e.g. a device already taken).

import { API_BASE, mpath, send } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { state } from '../state.js';
import { toast } from '../ui.js';
import { apiErrorMessage } from '../details/common.js';
import { areaEditor } from './area.js';
import { KINDS, PHOTO_TYPES, personBody, photoProblem } from './model.js';

/** @typedef {import('../types').PersonView} PersonView */

/**
 * @param {string} key
 * @param {HTMLElement} input
 */
function field(key, input) {
  return h('label', { class: 'field' }, h('span', null, t(key)), input);
}

/**
 * @param {string} name
 * @param {string} value
 * @param {Record<string, string | number | boolean>} [extra]
 */
function text(name, value, extra = {}) {
  return h('input', { type: 'text', name, value, dataset: { testid: `persons-${name}` }, ...extra });
}

/**
 * The form for `person` (null: a new person). `done` is told after a save or a removal.
 * @param {PersonView | null} person
 * @param {{done: (id: number | null) => void, onMap: (editor: import('./area.js').AreaEditor) => void}} hooks
 */
export function personForm(person, hooks) {
  const mid = state.mid || '';
  const kind = h('select', { name: 'kind', dataset: { testid: 'persons-kind' } }, ...KINDS.map((k) => h('option', { value: k, selected: person ? person.kind === k : k === 'child' }, t(`person.kind_${k}`))));
  const name = text('name', person ? person.name : '', { maxlength: 200, required: true });
  const guardian = text('guardian_name', person ? person.guardian_name : '', { maxlength: 200, required: true });
  const phone = text('guardian_phone', person ? person.guardian_phone : '', { maxlength: 40, required: true, type: 'tel' });
  const device = text('device_id', person ? person.device_id : '', { maxlength: 64, required: true });
  const notes = h('textarea', { name: 'notes', maxlength: '2000', rows: '2', dataset: { testid: 'persons-notes' } }, person ? person.notes : '');
  const photo = h('input', { type: 'file', name: 'photo', accept: PHOTO_TYPES.join(','), dataset: { testid: 'persons-photo' } });
  const current = person && person.has_photo
    ? h('img', { class: 'person-photo', alt: t('person.photo_alt', { name: person.name }), src: `${API_BASE}${mpath(mid, `/persons/${person.id}/photo.jpg`)}`, dataset: { testid: 'persons-current-photo' } })
    : null;
  const mapBox = h('div', { class: 'persons-map', dataset: { testid: 'persons-area-map' } });
  const tools = h('div', { class: 'persons-area-tools' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true, dataset: { testid: 'persons-error' } });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'persons-save' } }, t('persons_registry.save'));
  const remove = person ? h('button', { type: 'button', class: 'btn btn-danger', dataset: { testid: 'persons-remove' } }, t('persons_registry.remove')) : null;
  const form = h(
    'form',
    { class: 'persons-form', dataset: { testid: 'persons-form' }, novalidate: true },
    h('h3', { class: 'd-section-title' }, t(person ? 'persons_registry.edit' : 'persons_registry.add')),
    field('person.kind', kind),
    field('person.name', name),
    field('persons_registry.guardian_name', guardian),
    field('persons_registry.guardian_phone', phone),
    field('person.device', device),
    field('person.notes', notes),
    current,
    field(person && person.has_photo ? 'persons_registry.photo_replace' : 'persons_registry.photo', photo),
    h('div', { class: 'field' }, h('span', null, t('persons_registry.area')), tools, mapBox),
    error,
    h('div', { class: 'assign-row' }, save, remove),
  );
  const editor = areaEditor(mapBox, tools, person ? person.safe_area : [], true);
  hooks.onMap(editor);

  /** @param {string} message */
  const fail = (message) => {
    error.textContent = message;
    error.hidden = false;
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const { body, problems } = personBody({
      kind: kind.value,
      name: name.value,
      guardian_name: guardian.value,
      guardian_phone: phone.value,
      device_id: device.value,
      notes: notes.value,
      area: editor.corners(),
    });
    const file = photo.files && photo.files[0];
    const photoWrong = file ? photoProblem(file) : null;
    if (photoWrong) problems.push(photoWrong);
    if (problems.length) {
      fail(problems.map((k) => t(k)).join(' '));
      return;
    }
    save.disabled = true;
    try {
      /** @type {PersonView} */
      const saved = person ? await send('PUT', mpath(mid, `/persons/${person.id}`), body) : await send('POST', mpath(mid, '/persons'), body);
      if (file) {
        try {
          await send('PUT', mpath(mid, `/persons/${saved.id}/photo`), file);
        } catch (err) {
          toast(t('persons_registry.photo_failed', { error: apiErrorMessage(err) }), 'error', 10000);
        }
      }
      toast(t('persons_registry.saved', { name: saved.name }), 'ok');
      hooks.done(saved.id);
    } catch (err) {
      fail(apiErrorMessage(err));
    } finally {
      save.disabled = false;
    }
  });
  if (remove && person) {
    remove.addEventListener('click', async () => {
      if (!window.confirm(t('persons_registry.remove_confirm', { name: person.name }))) return;
      try {
        await send('DELETE', mpath(mid, `/persons/${person.id}`));
        toast(t('persons_registry.removed', { name: person.name }), 'ok');
        hooks.done(null);
      } catch (err) {
        fail(apiErrorMessage(err));
      }
    });
  }
  return form;
}
