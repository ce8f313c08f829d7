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
import { getLanguage, t } from '../i18n.js';
import { isOpenIncident } from '../model.js';
import { agencyLabel } from '../queue.js';
import { state } from '../state.js';
import { toast } from '../ui.js';
import { orderShares, shareStatus } from '../share/model.js';
import { countWithin } from '../share/place.js';
import { apiErrorMessage, section } from './common.js';
import { linkBox, shareForm } from './share_form.js';
import { leftText, shareRow, sharingConfig } from './share_row.js';

/** @typedef {import('../types').ShareView} ShareView */
/** @typedef {import('../types').NewShareView} NewShareView */
/** @typedef {import('../types').SharingConfig} SharingConfig */
/** @typedef {Readonly<import('../types').IncidentSummary>} Incident */

const TICK_MS = 1000;

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

/**
 * The rows' view of the block: its sharing configuration, its link box while shown, its reload.
 * @param {Shown} cur
 * @returns {import('./share_row.js').RowContext}
 */
function rowContext(cur) {
  return {
    sharing: cur.sharing,
    result: () => (shown === cur ? cur.result : null),
    changed: () => {
      if (shown === cur) loadShares(cur);
    },
  };
}

/** @param {Shown} cur */
function renderList(cur) {
  const now = Date.now();
  const ordered = orderShares(cur.shares, now);
  const rc = rowContext(cur);
  cur.list.replaceChildren(...ordered.map((s) => shareRow(s, now, rc)));
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
 * @param {import('./share_form.js').ShareRequest} body
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
  const seeing = detail.cameras || [];
  sharingConfig(mid).then((cfg) => {
    if (shown !== cur) return;
    cur.sharing = cfg;
    if (isOpenIncident(inc)) cur.form.replaceChildren(shareForm(cfg, inc, (r) => countWithin(seeing, r), (body) => create(cur, body)));
    loadShares(cur);
  });
  return cur.el;
}
