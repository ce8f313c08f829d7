// @ts-check
// A public warning from the incident (CAP 1.2, docs/CAP.md): CityOps's messages about it, each
// with its deliveries to the configured endpoints (BG-ALERT's civil-protection operator, ...),
// and, with warnings.publish, the form: severity, urgency, certainty, expiry, the area (a
// circle around the incident, or drawn: a click on the map sets its centre), Bulgarian and
// English texts. With a warning in force the form updates or cancels it (references it).
// The block survives the panel's live re-renders, so what is typed stays.

import { getJSON, mpath, postJSON } from '../api.js';
import { can } from '../access.js';
import { h } from '../dom.js';
import { fmtDateTime, getLanguage, t } from '../i18n.js';
import { ctx } from '../map/context.js';
import { previewArea } from '../map/warnings.js';
import { state } from '../state.js';
import { toast } from '../ui.js';
import { apiErrorMessage, section } from './common.js';

/** @typedef {import('../types').CapMessage} CapMessage */
/** @typedef {Readonly<import('../types').IncidentSummary>} Incident */

const CHOICES = {
  severity: ['Extreme', 'Severe', 'Moderate', 'Minor'],
  urgency: ['Immediate', 'Expected', 'Future'],
  certainty: ['Observed', 'Likely', 'Possible'],
  status: ['Actual', 'Exercise'],
};
const EXPIRY_MIN = [60, 180, 360, 720, 1440];
const TEXTS = /** @type {const} */ ([['event', 200, false], ['headline', 160, false], ['description', 4000, true], ['instruction', 4000, true]]);

/**
 * @typedef {object} Shown
 * @property {number} incident
 * @property {string} stamp the incident's updated_at the list was loaded for
 * @property {HTMLElement} el
 * @property {HTMLElement} list
 * @property {HTMLFormElement} form
 * @property {CapMessage[]} messages
 * @property {{lat: number, lon: number} | null} center the drawn centre (null: the incident's)
 * @property {string} lang the language it was drawn in
 */
/** @type {Shown | null} */
let shown = null;

/** @param {CapMessage} m */
function messageRow(m) {
  const sent = m.deliveries.map((d) =>
    h(
      'li',
      { class: `cap-delivery st-${d.status}`, dataset: { testid: 'cap-delivery', endpoint: d.endpoint, status: d.status } },
      t('warnings.delivery', { endpoint: d.endpoint, status: t(`warnings.delivery.${d.status}`), n: d.attempts }),
      d.status === 'failed' && d.last_error ? ` — ${d.last_error}` : '',
    ),
  );
  return h(
    'li',
    { class: 'cap-message', dataset: { testid: 'cap-message', identifier: m.identifier, msgType: m.msg_type, inForce: String(m.in_force) } },
    h(
      'div',
      { class: 'share-row-head' },
      h('span', { class: 'chip' }, t(`warnings.type.${m.msg_type}`)),
      m.in_force ? h('span', { class: 'chip warning-in-force' }, t('warnings.in_force')) : null,
      h('strong', null, m.headline),
    ),
    h('div', { class: 'muted' }, fmtDateTime(m.sent), ' · ', h('a', { href: m.url, target: '_blank', rel: 'noopener' }, m.identifier)),
    sent.length ? h('ul', { class: 'cap-deliveries' }, ...sent) : h('div', { class: 'muted' }, t('warnings.no_endpoints')),
  );
}

/** @param {Shown} cur */
async function loadMessages(cur) {
  try {
    /** @type {CapMessage[]} */
    const list = await getJSON(mpath(state.mid || '', `/incidents/${cur.incident}/cap`));
    if (shown !== cur) return;
    cur.messages = list;
    cur.list.replaceChildren(...list.map(messageRow));
    if (!list.length) cur.list.append(h('li', { class: 'muted' }, t('warnings.none')));
    syncMode(cur);
  } catch (err) {
    if (shown === cur) cur.list.replaceChildren(h('li', { class: 'error' }, apiErrorMessage(err)));
  }
}

/** @param {Shown} cur @returns {CapMessage | undefined} */
const inForce = (cur) => cur.messages.filter((m) => m.in_force).pop();

/** The form publishes a new warning, or updates/cancels the one in force. @param {Shown} cur */
function syncMode(cur) {
  const current = inForce(cur);
  cur.form.dataset.mode = current ? 'update' : 'alert';
  const submit = cur.form.querySelector('[data-testid="warning-submit"]');
  if (submit) submit.textContent = t(current ? 'warnings.publish_update' : 'warnings.publish');
  const cancel = cur.form.querySelector('[data-testid="warning-cancel"]');
  if (cancel instanceof HTMLElement) cancel.hidden = !current;
}

/** @type {Readonly<Record<string, (v: string) => string>>} */
const LABELS = {
  severity: (v) => t(`warnings.severity.${v}`),
  urgency: (v) => t(`warnings.urgency.${v}`),
  certainty: (v) => t(`warnings.certainty.${v}`),
  status: (v) => t(`warnings.status.${v}`),
};

/** @param {keyof typeof CHOICES} name @param {readonly string[]} values @param {string} selected */
function choice(name, values, selected) {
  const label = LABELS[name] || ((/** @type {string} */ v) => v);
  const select = h('select', { name, dataset: { testid: `warning-${name}` } }, ...values.map((v) => h('option', { value: v, selected: v === selected }, label(v))));
  return h('label', { class: 'share-field' }, h('span', null, t(`warnings.field.${name}`)), select);
}

/** @param {string} lang @param {Incident} inc */
function textFields(lang, inc) {
  const title = lang === 'bg' ? inc.title_local || inc.title || '' : inc.title || '';
  return h(
    'fieldset',
    { class: 'warning-texts', dataset: { lang } },
    h('legend', null, t(`warnings.texts.${lang}`)),
    ...TEXTS.map(([field, max, long]) => {
      const attrs = { name: `${lang}.${field}`, maxlength: String(max), required: field !== 'instruction', dataset: { testid: `warning-${lang}-${field}` } };
      const input = long ? h('textarea', { ...attrs, rows: '2' }) : h('input', attrs);
      if (field === 'headline' || field === 'event') input.value = title.slice(0, max);
      return h('label', { class: 'share-field' }, h('span', null, t(`warnings.field.${field}`)), input);
    }),
  );
}

/** @param {Shown} cur @param {Incident} inc */
function showPreview(cur, inc) {
  const where = cur.center || (inc.location ? { lat: inc.location.lat, lon: inc.location.lon } : null);
  const radius = Number(/** @type {HTMLInputElement} */ (cur.form.elements.namedItem('radius_m')).value);
  previewArea(where && radius > 0 ? { ...where, radius_m: radius } : null);
}

/** @param {Shown} cur @param {string} msgType */
function body(cur, msgType) {
  const f = cur.form.elements;
  const value = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (f.namedItem(name)).value.trim();
  /** @param {string} lang */
  const texts = (lang) => ({ event: value(`${lang}.event`), headline: value(`${lang}.headline`), description: value(`${lang}.description`), instruction: value(`${lang}.instruction`) || null });
  const current = inForce(cur);
  return {
    incident_id: cur.incident,
    msg_type: msgType,
    references: msgType === 'Alert' ? null : current ? current.identifier : null,
    status: value('status'),
    severity: value('severity'),
    urgency: value('urgency'),
    certainty: value('certainty'),
    expires_in_min: Number(value('expires_in_min')),
    radius_m: Number(value('radius_m')),
    center: cur.center ? [cur.center.lon, cur.center.lat] : null,
    bg: texts('bg'),
    en: texts('en'),
  };
}

/** @param {Shown} cur @param {string} msgType @param {HTMLButtonElement} button */
async function publish(cur, msgType, button) {
  if (!cur.form.reportValidity()) return;
  button.disabled = true;
  try {
    /** @type {{identifier: string, sent_to: string[]}} */
    const made = await postJSON(mpath(state.mid || '', '/cap/messages'), body(cur, msgType));
    toast(t('warnings.published', { id: made.identifier, n: made.sent_to.length }), 'ok', 5000);
    if (msgType === 'Cancel') previewArea(null); // nothing is covered any more
    if (shown === cur) await loadMessages(cur);
  } catch (err) {
    toast(apiErrorMessage(err), 'error', 8000);
  } finally {
    button.disabled = false;
  }
}

/** @param {Shown} cur @param {Incident} inc */
function buildForm(cur, inc) {
  const radius = h('input', { name: 'radius_m', type: 'number', min: '10', max: '50000', step: '10', value: '500', required: true, dataset: { testid: 'warning-radius' } });
  const draw = h('button', { type: 'button', class: 'btn', dataset: { testid: 'warning-draw' } }, t('warnings.draw'));
  const where = h('span', { class: 'muted', dataset: { testid: 'warning-where' } }, t(inc.location ? 'warnings.around_incident' : 'warnings.draw_needed'));
  draw.addEventListener('click', () => {
    where.textContent = t('warnings.click_map');
    ctx.map.once('click', (ev) => {
      cur.center = { lat: ev.latlng.lat, lon: ev.latlng.lng };
      where.textContent = t('warnings.drawn', { lat: cur.center.lat.toFixed(5), lon: cur.center.lon.toFixed(5) });
      showPreview(cur, inc);
    });
  });
  radius.addEventListener('input', () => showPreview(cur, inc));
  const expires = h('select', { name: 'expires_in_min', dataset: { testid: 'warning-expires' } }, ...EXPIRY_MIN.map((m) => h('option', { value: String(m), selected: m === 180 }, t('warnings.hours', { n: m / 60 }))));
  const submit = h('button', { type: 'submit', class: 'btn primary', dataset: { testid: 'warning-submit' } }, t('warnings.publish'));
  const cancel = h('button', { type: 'button', class: 'btn danger', hidden: true, dataset: { testid: 'warning-cancel' } }, t('warnings.cancel'));
  const form = cur.form;
  form.append(
    h('div', { class: 'warning-choices' }, choice('severity', CHOICES.severity, 'Severe'), choice('urgency', CHOICES.urgency, 'Immediate'), choice('certainty', CHOICES.certainty, 'Likely'), choice('status', CHOICES.status, 'Actual')),
    h('label', { class: 'share-field' }, h('span', null, t('warnings.field.expires')), expires),
    h('div', { class: 'share-field' }, h('span', null, t('warnings.field.area')), h('div', { class: 'assign-row' }, radius, h('span', null, 'm'), draw), where),
    textFields('bg', inc),
    textFields('en', inc),
    h('div', { class: 'share-actions' }, submit, cancel),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    publish(cur, form.dataset.mode === 'update' ? 'Update' : 'Alert', submit);
  });
  cancel.addEventListener('click', () => publish(cur, 'Cancel', cancel));
}

/**
 * The incident's public warnings block; null for a role that may neither read nor publish.
 * @param {import('../types').IncidentDetail} detail
 * @param {Incident} inc
 */
export function warningBlock(detail, inc) {
  if (!can(state.me, state.mid, 'incidents.read') || inc.municipality !== state.mid) return null;
  if (shown && shown.incident === detail.id && shown.el.isConnected && shown.lang === getLanguage()) {
    if (shown.stamp !== inc.updated_at) {
      shown.stamp = inc.updated_at;
      loadMessages(shown);
    }
    return shown.el;
  }
  previewArea(null);
  const list = h('ul', { class: 'cap-messages', dataset: { testid: 'cap-messages' } });
  const form = h('form', { class: 'share-form warning-form', hidden: true, dataset: { testid: 'warning-form', mode: 'alert' } });
  /** @type {Shown} */
  const cur = { incident: detail.id, stamp: inc.updated_at, el: h('div'), list, form, messages: [], center: null, lang: getLanguage() };
  /** @type {HTMLElement | null} */
  let open = null;
  if (can(state.me, state.mid, 'warnings.publish')) {
    buildForm(cur, inc);
    const toggle = h('button', { type: 'button', class: 'btn', dataset: { testid: 'warning-open' } }, t('warnings.draft'));
    toggle.addEventListener('click', () => {
      form.hidden = !form.hidden;
      if (form.hidden) previewArea(null);
      else showPreview(cur, inc);
    });
    open = toggle;
  }
  cur.el = h('div', { dataset: { testid: 'warning-block' } }, section('warnings.title', list, open, form));
  shown = cur;
  loadMessages(cur);
  return cur.el;
}
