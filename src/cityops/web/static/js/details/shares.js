// @ts-check
// The incident's shares with agencies (S's API): the ones made, with status and time left,
// extended, revoked or given a new link; and "Share with agency" (its form: share_form.js):
// agency, purpose and duration from the municipality's sharing configuration, one click shares
// the incident's place and the cameras that see it. A link (its token exists only in it) is
// shown once, to be copied.
// Offered only with shares.manage; the block survives the panel's live re-renders.

import { getJSON, mpath, postJSON } from '../api.js';
import { can } from '../access.js';
import { h } from '../dom.js';
import { displayName, fmtDateTime, getLanguage, t } from '../i18n.js';
import { isOpenIncident } from '../model.js';
import { agencyLabel } from '../queue.js';
import { state } from '../state.js';
import { toast } from '../ui.js';
import { countdown, extendChoices, labelIn, msLeft, orderShares, shareStatus } from '../share/model.js';
import { apiErrorMessage, section } from './common.js';
import { linkBox, minutesSelect, shareForm } from './share_form.js';

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
 * @property {string} mid
 * @property {number} incident
 * @property {string} stamp the incident's updated_at the list was loaded for
 * @property {HTMLElement} el
 * @property {HTMLElement} list
 * @property {HTMLElement} form
 * @property {HTMLElement} result
 * @property {ShareView[]} shares
 * @property {string} signature the list as last drawn
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
    const choices = extendChoices(s, max, now);
    /** @type {HTMLElement[]} */
    const extending = [];
    if (choices.length) {
      const by = minutesSelect(choices, choices[0] ?? 60, { class: 'share-extend-by', title: t('sharing.extend_by'), 'aria-label': t('sharing.extend_by'), dataset: { testid: 'share-extend-by' } });
      const extend = h('button', { type: 'button', class: 'btn', dataset: { testid: 'share-extend' } }, t('sharing.extend'));
      extend.addEventListener('click', () => {
        extend.disabled = true;
        act(`/shares/${s.id}/extend`, { minutes: Number(by.value) }, (r) => t('sharing.extended', { time: fmtDateTime(r.expires_at) }));
      });
      extending.push(by, extend);
    }
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
    const relink = h('button', { type: 'button', class: 'btn', title: t('sharing.new_link_hint'), dataset: { testid: 'share-relink' } }, t('sharing.new_link'));
    relink.addEventListener('click', () => newLink(s, relink));
    actions = h('div', { class: 'share-actions' }, ...extending, revoke, relink);
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

/**
 * A new link for an active share (an automatic one's, or one whose link was lost); the old
 * link stops working at once.
 * @param {ShareView} s
 * @param {HTMLButtonElement} button
 */
async function newLink(s, button) {
  const cur = shown;
  button.disabled = true;
  try {
    /** @type {NewShareView} */
    const made = await postJSON(mpath(state.mid || '', `/shares/${s.id}/link`), {});
    if (cur && shown === cur) linkBox(cur.result, made.link, t('sharing.relinked', { agency: agencyLabel(made.agency) }));
  } catch (err) {
    toast(apiErrorMessage(err), 'error', 7000);
  } finally {
    button.disabled = false;
  }
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
    // unchanged: the rows stay as they are (an armed revoke, a chosen duration)
    const signature = JSON.stringify(list);
    if (signature === cur.signature) return;
    cur.signature = signature;
    cur.shares = list;
    renderList(cur);
  } catch (err) {
    if (shown === cur) cur.list.replaceChildren(h('li', { class: 'error' }, apiErrorMessage(err)));
  }
}

/**
 * Make the share; show its link once and the list with it.
 * @param {Shown} cur
 * @param {{agency: string, purpose: string, minutes: number}} body
 */
async function create(cur, body) {
  try {
    /** @type {NewShareView} */
    const made = await postJSON(mpath(state.mid || '', `/incidents/${cur.incident}/shares`), body);
    if (shown !== cur) return;
    linkBox(cur.result, made.link, t('sharing.created', { agency: agencyLabel(made.agency) }));
    await loadShares(cur);
  } catch (err) {
    toast(apiErrorMessage(err), 'error', 7000);
  }
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
  // one ran out: drawn as ended now, and the server asked what it is
  if (changed) {
    renderList(cur);
    loadShares(cur);
  }
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
  if (shown && shown.mid === mid && shown.incident === detail.id && shown.lang === getLanguage()) {
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
  const cur = { mid, incident: detail.id, stamp: detail.updated_at, el: section('sharing.title', list, form, result), list, form, result, shares: [], signature: '', sharing: null, timer: 0, lang: getLanguage() };
  shown = cur;
  cur.timer = window.setInterval(() => tickRows(cur), TICK_MS);
  const cameraCount = (detail.cameras || []).length;
  sharing(mid).then((cfg) => {
    if (shown !== cur) return;
    cur.sharing = cfg;
    if (isOpenIncident(inc)) cur.form.replaceChildren(shareForm(cfg, inc, cameraCount, (body) => create(cur, body)));
    loadShares(cur);
  });
  return cur.el;
}
