// @ts-check
// "Share with agency" in the incident panel (details/shares.js holds the list) and for a place
// on the map (map/share_here.js): the form (agency, purpose, duration and radius from GET
// /sharing, the radius within the server's limit) and the box that shows a new link once.

import { h } from '../dom.js';
import { displayName, fmtAge, getLanguage, t } from '../i18n.js';
import { agencyLabel } from '../queue.js';
import { state } from '../state.js';
import { toast } from '../ui.js';
import { agencyOptions, durationChoices, labelIn, preferredAgency } from '../share/model.js';
import { defaultRadius, radiusChoices, radiusLimit } from '../share/place.js';

/** @typedef {import('../types').SharingConfig} SharingConfig */
/** @typedef {{agency: string, purpose: string, minutes: number, radius_m: number}} ShareRequest */
/**
 * What is shared: an incident (its agencies preselect one) or a point.
 * @typedef {{location: {lat: number, lon: number} | null, assigned_agency?: string | null, proposed_agency?: string | null}} ShareTarget
 */

/** @param {number} m */
const metres = (m) => (m >= 1000 ? t('sharing.km', { km: (m / 1000).toLocaleString(undefined, { maximumFractionDigits: 2 }) }) : t('sharing.m', { m }));

/** @param {number} minutes */
const minutesLabel = (minutes) => fmtAge(minutes * 60_000);

/**
 * A <select> of durations in minutes, shown as "30 min", "2 h", "1 d".
 * @param {number[]} choices
 * @param {number} selected
 * @param {Record<string, unknown>} attrs
 */
export function minutesSelect(choices, selected, attrs) {
  return h('select', attrs, ...choices.map((m) => h('option', { value: String(m), selected: m === selected }, minutesLabel(m))));
}

/**
 * Show a link once in `box`, selected, with a copy button (the token exists only in the link).
 * @param {HTMLElement} box
 * @param {string} link
 * @param {string} message what the link is, and that it is shown once
 */
export function linkBox(box, link, message) {
  const input = h('input', { class: 'share-link-input', readonly: true, value: link, 'aria-label': t('sharing.link'), dataset: { testid: 'share-link-input' } });
  const copy = h('button', { type: 'button', class: 'btn' }, t('sharing.copy'));
  copy.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(link);
      toast(t('sharing.copied'), 'ok', 2000);
    } catch {
      // no clipboard (plain http): the link stays selected for Ctrl+C
    }
  });
  box.replaceChildren(h('p', null, message), h('div', { class: 'assign-row' }, input, copy));
  box.hidden = false;
  input.select();
}

/**
 * The form of a new share, or why there is none (sharing not configured, no place). The hint
 * says how many cameras the radius holds (`camerasWithin`, asked again at each radius chosen,
 * e.g. to preview them); `submit` makes the share, the button is off meanwhile.
 * @param {SharingConfig | null} cfg
 * @param {ShareTarget} target
 * @param {(radiusM: number) => number} camerasWithin
 * @param {(request: ShareRequest) => Promise<void>} submit
 * @param {string} [hintKey] the hint's text, with {n} and {radius}
 * @returns {HTMLElement}
 */
export function shareForm(cfg, target, camerasWithin, submit, hintKey = 'sharing.cameras_hint') {
  const agencies = agencyOptions(cfg ? cfg.agencies : []);
  if (!cfg || !agencies.length || !cfg.purposes.length) return h('p', { class: 'muted' }, t('sharing.not_configured'));
  if (!target.location) return h('p', { class: 'muted' }, t('sharing.no_location'));
  const lang = getLanguage();
  const preferred = preferredAgency(agencies, target);
  const agency = h(
    'select',
    { name: 'agency', dataset: { testid: 'share-agency' } },
    ...agencies.map((a) => h('option', { value: a.id, selected: a.id === preferred }, state.agencies.has(a.id) ? agencyLabel(a.id) : displayName(a))),
  );
  const purpose = h('select', { name: 'purpose', dataset: { testid: 'share-purpose' } }, ...cfg.purposes.map((p) => h('option', { value: p.id }, labelIn(p, lang))));
  const minutes = minutesSelect(durationChoices(cfg.default_minutes, cfg.max_minutes), cfg.default_minutes, { name: 'minutes', dataset: { testid: 'share-minutes' } });
  const limit = radiusLimit(cfg);
  const firstRadius = defaultRadius(cfg.radius_m, limit);
  const radius = h('select', { name: 'radius_m', dataset: { testid: 'share-radius' } }, ...radiusChoices(cfg.radius_m, limit).map((m) => h('option', { value: String(m), selected: m === firstRadius }, metres(m))));
  const hint = h('p', { class: 'muted share-hint', dataset: { testid: 'share-hint' } });
  const showHint = () => {
    const r = Number(radius.value);
    const n = camerasWithin(r);
    hint.textContent = t(hintKey, { n, radius: metres(r) });
    hint.dataset.cameras = String(n);
  };
  radius.addEventListener('change', showHint);
  showHint();
  const button = h('button', { type: 'submit', class: 'btn primary', dataset: { testid: 'share-submit' } }, t('sharing.share'));
  const form = h(
    'form',
    { class: 'share-form' },
    h('label', { class: 'share-field' }, h('span', null, t('sharing.agency')), agency),
    h('label', { class: 'share-field' }, h('span', null, t('sharing.purpose')), purpose),
    h('label', { class: 'share-field' }, h('span', null, t('sharing.duration')), minutes),
    h('label', { class: 'share-field' }, h('span', null, t('sharing.radius')), radius),
    hint,
    button,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    try {
      await submit({ agency: agency.value, purpose: purpose.value, minutes: Number(minutes.value), radius_m: Number(radius.value) });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
