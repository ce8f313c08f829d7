// @ts-check
// The incident's shares with agencies (S's API): the ones made, with status and time left,
// extended or revoked; and "Share with agency": agency, purpose and duration from the
// municipality's sharing configuration, one click shares the incident's place and the cameras
// that see it. The link (its token exists only in it) is shown once, to be copied.
// Offered only with shares.manage; the block survives the panel's live re-renders.

import { getJSON, mpath, postJSON } from '../api.js';
import { can } from '../access.js';
import { h } from '../dom.js';
import { displayName, fmtAge, fmtDateTime, getLanguage, t } from '../i18n.js';
import { isOpenIncident } from '../model.js';
import { agencyLabel } from '../queue.js';
import { state } from '../state.js';
import { toast } from '../ui.js';
import { agencyOptions, countdown, durationChoices, labelIn, msLeft, orderShares, preferredAgency, shareStatus } from '../share/model.js';
import { apiErrorMessage, section } from './common.js';

/** @typedef {import('../types').ShareView} ShareView */
/** @typedef {import('../types').NewShareView} NewShareView */
/** @typedef {import('../types').SharingConfig} SharingConfig */
/** @typedef {Readonly<import('../types').IncidentSummary>} Incident */

const TICK_MS = 1000;
const CONFIRM_MS = 5000;
/** @type {Readonly<Record<string, string>>} */
const STATUS_KEYS = { active: 'sharing.status_active', expired: 'sharing.status_expired', revoked: 'sharing.status_revoked' };
/** @type {Readonly<Record<string, string>>} */
const ORIGIN_KEYS = { auto: 'sharing.origin_auto', request: 'sharing.origin_request', sos: 'sharing.origin_sos' };

/** @type {Map<string, Promise<SharingConfig | null>>} */
const sharingOf = new Map();

/**
 * @typedef {object} Shown
 * @property {number} incident
 * @property {string} stamp the incident's updated_at the list was loaded for
 * @property {HTMLElement} el
 * @property {HTMLElement} list
 * @property {HTMLElement} form
 * @property {HTMLElement} result
 * @property {ShareView[]} shares
 * @property {SharingConfig | null} sharing
 * @property {number} timer
 * @property {string} lang the language it was drawn in
 */
/** @type {Shown | null} */
let shown = null;

/** @param {string} mid */
function sharing(mid) {
  let p = sharingOf.get(mid);
  if (!p) {
    p = getJSON(mpath(mid, '/sharing')).catch((err) => {
      console.warn('sharing: not loaded', err);
      sharingOf.delete(mid);
      return null;
    });
    sharingOf.set(mid, p);
  }
  return p;
}

/** @param {number} minutes */
const minutesLabel = (minutes) => fmtAge(minutes * 60_000);

/**
 * @param {number[]} choices
 * @param {number} selected
 * @param {Record<string, unknown>} attrs
 */
function minutesSelect(choices, selected, attrs) {
  return h('select', attrs, ...choices.map((m) => h('option', { value: String(m), selected: m === selected }, minutesLabel(m))));
}

/** @param {ShareView} s */
function purposeText(s) {
  const p = shown && shown.sharing ? shown.sharing.purposes.find((x) => x.id === s.purpose) : null;
  return p ? labelIn(p, getLanguage()) : s.purpose;
}

/**
 * @param {ShareView} s
 * @param {number} now
 */
function leftText(s, now) {
  const st = shareStatus(s, now);
  if (st === 'revoked') return t('sharing.revoked_at', { time: fmtDateTime(s.revoked_at || '') });
  if (st === 'expired') return t('sharing.ended_at', { time: fmtDateTime(s.expires_at) });
  return t('sharing.left', { left: countdown(msLeft(s.expires_at, now)), time: fmtDateTime(s.expires_at) });
}

/**
 * @param {string} path
 * @param {unknown} payload
 * @param {(reply: ShareView) => string} message
 */
async function act(path, payload, message) {
  const cur = shown;
  try {
    /** @type {ShareView} */
    const reply = await postJSON(mpath(state.mid || '', path), payload);
    toast(message(reply), 'ok', 3000);
  } catch (err) {
    toast(apiErrorMessage(err), 'error', 7000);
  }
  if (cur && shown === cur) await loadShares(cur);
}

/**
 * One share: status, agency, purpose, cameras, time left; extend and revoke while active.
 * @param {ShareView} s
 * @param {number} now
 */
function shareRow(s, now) {
  const st = shareStatus(s, now);
  const cams = s.cameras.map((id) => displayName(state.cameras.get(id)) || id);
  /** @type {HTMLElement | null} */
  let actions = null;
  if (st === 'active') {
    const max = shown && shown.sharing ? shown.sharing.max_minutes : 1440;
    const choices = durationChoices(60, max);
    const by = minutesSelect(choices, choices.includes(60) ? 60 : choices[0] ?? 60, { class: 'share-extend-by', 'aria-label': t('sharing.extend_by') });
    const extend = h('button', { type: 'button', class: 'btn', dataset: { testid: 'share-extend' } }, t('sharing.extend'));
    extend.addEventListener('click', () => {
      extend.disabled = true;
      act(`/shares/${s.id}/extend`, { minutes: Number(by.value) }, (r) => t('sharing.extended', { time: fmtDateTime(r.expires_at) }));
    });
    const revoke = h('button', { type: 'button', class: 'btn danger', dataset: { testid: 'share-revoke' } }, t('sharing.revoke'));
    let armed = 0;
    revoke.addEventListener('click', () => {
      if (!armed) {
        // the first click asks; a second one within a few seconds revokes
        revoke.textContent = t('sharing.revoke_confirm');
        revoke.dataset.armed = 'true';
        armed = window.setTimeout(() => {
          armed = 0;
          revoke.textContent = t('sharing.revoke');
          delete revoke.dataset.armed;
        }, CONFIRM_MS);
        return;
      }
      clearTimeout(armed);
      revoke.disabled = true;
      act(`/shares/${s.id}/revoke`, {}, () => t('sharing.revoked'));
    });
    actions = h('div', { class: 'share-actions' }, by, extend, revoke);
  }
  return h(
    'li',
    { class: `share-row share-${st}`, dataset: { testid: 'share', shareId: s.id, status: st } },
    h(
      'div',
      { class: 'share-row-head' },
      h('span', { class: `chip share-st share-st-${st}` }, t(STATUS_KEYS[st] || 'sharing.status_active')),
      h('strong', null, agencyLabel(s.agency)),
      h('span', { class: 'muted' }, purposeText(s)),
      ORIGIN_KEYS[s.origin] ? h('span', { class: 'chip' }, t(ORIGIN_KEYS[s.origin] || '')) : null,
    ),
    h('div', { class: 'muted share-cams' }, t('sharing.cameras_count', { n: cams.length }), cams.length ? `: ${cams.join(', ')}` : ''),
    h('div', { class: 'share-left-line', dataset: { shareLeft: s.id } }, leftText(s, now)),
    actions,
  );
}

/** @param {Shown} cur */
function renderList(cur) {
  const now = Date.now();
  const ordered = orderShares(cur.shares, now);
  cur.list.replaceChildren(...ordered.map((s) => shareRow(s, now)));
  if (!ordered.length) cur.list.append(h('li', { class: 'muted' }, t('sharing.none')));
  cur.list.dataset.active = String(ordered.filter((s) => shareStatus(s, now) === 'active').length);
}

/** @param {Shown} cur */
async function loadShares(cur) {
  try {
    /** @type {ShareView[]} */
    const list = await getJSON(mpath(state.mid || '', `/incidents/${cur.incident}/shares`));
    if (shown !== cur) return;
    cur.shares = list;
    renderList(cur);
  } catch (err) {
    if (shown === cur) cur.list.replaceChildren(h('li', { class: 'error' }, apiErrorMessage(err)));
  }
}

/**
 * @param {Shown} cur
 * @param {string} link
 * @param {string} agency
 */
function showLink(cur, link, agency) {
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
  cur.result.replaceChildren(h('p', null, t('sharing.created', { agency: agencyLabel(agency) })), h('div', { class: 'assign-row' }, input, copy));
  cur.result.hidden = false;
  input.select();
}

/**
 * The form of a new share, once the municipality's sharing configuration is known.
 * @param {Shown} cur
 * @param {Incident} inc
 * @param {number} cameraCount
 */
function fillForm(cur, inc, cameraCount) {
  const cfg = cur.sharing;
  const agencies = agencyOptions(cfg ? cfg.agencies : []);
  if (!cfg || !agencies.length || !cfg.purposes.length) {
    cur.form.replaceChildren(h('p', { class: 'muted' }, t('sharing.not_configured')));
    return;
  }
  if (!inc.location) {
    cur.form.replaceChildren(h('p', { class: 'muted' }, t('sharing.no_location')));
    return;
  }
  const lang = getLanguage();
  const preferred = preferredAgency(agencies, inc);
  const agency = h('select', { name: 'agency', dataset: { testid: 'share-agency' } }, ...agencies.map((a) => h('option', { value: a.id, selected: a.id === preferred }, state.agencies.has(a.id) ? agencyLabel(a.id) : displayName(a))));
  const purpose = h('select', { name: 'purpose', dataset: { testid: 'share-purpose' } }, ...cfg.purposes.map((p) => h('option', { value: p.id }, labelIn(p, lang))));
  const minutes = minutesSelect(durationChoices(cfg.default_minutes, cfg.max_minutes), cfg.default_minutes, { name: 'minutes', dataset: { testid: 'share-minutes' } });
  const submit = h('button', { type: 'submit', class: 'btn primary', dataset: { testid: 'share-submit' } }, t('sharing.share'));
  const form = h(
    'form',
    { class: 'share-form' },
    h('label', { class: 'share-field' }, h('span', null, t('sharing.agency')), agency),
    h('label', { class: 'share-field' }, h('span', null, t('sharing.purpose')), purpose),
    h('label', { class: 'share-field' }, h('span', null, t('sharing.duration')), minutes),
    h('p', { class: 'muted share-hint' }, t('sharing.cameras_hint', { n: cameraCount })),
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    try {
      /** @type {NewShareView} */
      const made = await postJSON(mpath(state.mid || '', `/incidents/${cur.incident}/shares`), { agency: agency.value, purpose: purpose.value, minutes: Number(minutes.value) });
      if (shown === cur) {
        showLink(cur, made.link, made.agency);
        await loadShares(cur);
      }
    } catch (err) {
      toast(apiErrorMessage(err), 'error', 7000);
    } finally {
      submit.disabled = false;
    }
  });
  cur.form.replaceChildren(form);
}

/** @param {Shown} cur */
function tickRows(cur) {
  if (shown !== cur || !cur.el.isConnected) {
    // the panel shows something else now: a later visit builds the block afresh
    clearInterval(cur.timer);
    if (shown === cur) shown = null;
    return;
  }
  const now = Date.now();
  let changed = false;
  for (const s of cur.shares) {
    const line = cur.list.querySelector(`[data-share-left="${s.id}"]`);
    if (line) line.textContent = leftText(s, now);
    const row = line && line.closest('li');
    if (row instanceof HTMLElement && row.dataset.status !== shareStatus(s, now)) changed = true;
  }
  // one ran out: the server says what it is now
  if (changed) loadShares(cur);
}

/**
 * The incident's shares block (null without shares.manage, or for a neighbour's incident). The
 * same element is handed back while the same incident is shown, so what the operator chose and
 * the link just made stay through live re-renders.
 * @param {import('../types').IncidentDetail} detail
 * @param {Incident} inc
 * @param {boolean} foreign handed over from another municipality
 * @returns {HTMLElement | null}
 */
export function sharesBlock(detail, inc, foreign) {
  const mid = state.mid || '';
  if (foreign || !can(state.me, mid, 'shares.manage')) return null;
  if (shown && shown.incident === detail.id && shown.lang === getLanguage()) {
    if (shown.stamp !== detail.updated_at) {
      shown.stamp = detail.updated_at;
      loadShares(shown);
    }
    return shown.el;
  }
  if (shown) clearInterval(shown.timer);
  const list = h('ul', { class: 'plain-list share-list', dataset: { testid: 'shares-list' } }, h('li', { class: 'muted' }, t('common.loading')));
  const form = h('div', { class: 'share-new', dataset: { testid: 'share-new' } });
  const result = h('div', { class: 'share-result', dataset: { testid: 'share-link' }, hidden: true });
  /** @type {Shown} */
  const cur = { incident: detail.id, stamp: detail.updated_at, el: section('sharing.title', list, form, result), list, form, result, shares: [], sharing: null, timer: 0, lang: getLanguage() };
  shown = cur;
  cur.timer = window.setInterval(() => tickRows(cur), TICK_MS);
  const cameraCount = (detail.cameras || []).length;
  sharing(mid).then((cfg) => {
    if (shown !== cur) return;
    cur.sharing = cfg;
    if (isOpenIncident(inc)) fillForm(cur, inc, cameraCount);
    loadShares(cur);
  });
  return cur.el;
}
