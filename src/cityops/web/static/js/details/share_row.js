// @ts-check
// One share with an agency as an operator handles it (the incident's panel, details/shares.js,
// and a shared place's circle on the map, map/point_shares.js): status, agency, purpose,
// cameras and time left; while active, extend (a chosen time from now, within the policy's
// maximum), revoke (two clicks) and a new link (shown once). Also the municipality's sharing
// configuration (GET /sharing), loaded once.

import { getJSON, mpath, postJSON } from '../api.js';
import { h } from '../dom.js';
import { displayName, fmtDateTime, getLanguage, t } from '../i18n.js';
import { agencyLabel } from '../queue.js';
import { state } from '../state.js';
import { toast } from '../ui.js';
import { countdown, extendChoices, labelIn, msLeft, shareStatus } from '../share/model.js';
import { apiErrorMessage } from './common.js';
import { linkBox, minutesSelect } from './share_form.js';

/** @typedef {import('../types').ShareView} ShareView */
/** @typedef {import('../types').NewShareView} NewShareView */
/** @typedef {import('../types').SharingConfig} SharingConfig */

/**
 * What a row needs from where it is shown.
 * @typedef {object} RowContext
 * @property {SharingConfig | null} sharing
 * @property {() => HTMLElement | null} result where a new link is shown (null: gone meanwhile)
 * @property {() => void} changed the share was extended or revoked: reload
 */

const CONFIRM_MS = 5000;
/** @type {Readonly<Record<string, string>>} */
const STATUS_KEYS = { active: 'sharing.status_active', expired: 'sharing.status_expired', revoked: 'sharing.status_revoked' };
/** @type {Readonly<Record<string, string>>} */
const ORIGIN_KEYS = { auto: 'sharing.origin_auto', request: 'sharing.origin_request', sos: 'sharing.origin_sos' };

/** @type {Map<string, Promise<SharingConfig | null>>} */
const sharingOf = new Map();

/**
 * The municipality's sharing configuration (null when it cannot be read; asked again then).
 * @param {string} mid
 */
export function sharingConfig(mid) {
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

/**
 * @param {ShareView} s
 * @param {SharingConfig | null} cfg
 */
function purposeText(s, cfg) {
  const p = cfg ? cfg.purposes.find((x) => x.id === s.purpose) : null;
  return p ? labelIn(p, getLanguage()) : s.purpose;
}

/**
 * "42:10 left · until 15:02", or when it ended.
 * @param {ShareView} s
 * @param {number} now
 */
export function leftText(s, now) {
  const st = shareStatus(s, now);
  if (st === 'revoked') return t('sharing.revoked_at', { time: fmtDateTime(s.revoked_at || '') });
  if (st === 'expired') return t('sharing.ended_at', { time: fmtDateTime(s.expires_at) });
  return t('sharing.left', { left: countdown(msLeft(s.expires_at, now)), time: fmtDateTime(s.expires_at) });
}

/**
 * @param {RowContext} rc
 * @param {string} path
 * @param {unknown} payload
 * @param {(reply: ShareView) => string} message
 */
async function act(rc, path, payload, message) {
  try {
    /** @type {ShareView} */
    const reply = await postJSON(mpath(state.mid || '', path), payload);
    toast(message(reply), 'ok', 3000);
  } catch (err) {
    toast(apiErrorMessage(err), 'error', 7000);
  }
  rc.changed();
}

/**
 * A new link for an active share (an automatic one's, or one whose link was lost); the old
 * link stops working at once.
 * @param {RowContext} rc
 * @param {ShareView} s
 * @param {HTMLButtonElement} button
 */
async function newLink(rc, s, button) {
  button.disabled = true;
  try {
    /** @type {NewShareView} */
    const made = await postJSON(mpath(state.mid || '', `/shares/${s.id}/link`), {});
    const box = rc.result();
    if (box) linkBox(box, made.link, t('sharing.relinked', { agency: agencyLabel(made.agency) }));
  } catch (err) {
    toast(apiErrorMessage(err), 'error', 7000);
  } finally {
    button.disabled = false;
  }
}

/**
 * Extend, revoke and new link of an active share.
 * @param {RowContext} rc
 * @param {ShareView} s
 * @param {number} now
 */
function actions(rc, s, now) {
  const max = rc.sharing ? rc.sharing.max_minutes : 1440;
  const choices = extendChoices(s, max, now);
  /** @type {HTMLElement[]} */
  const extending = [];
  if (choices.length) {
    const by = minutesSelect(choices, choices[0] ?? 60, { class: 'share-extend-by', title: t('sharing.extend_by'), 'aria-label': t('sharing.extend_by'), dataset: { testid: 'share-extend-by' } });
    const extend = h('button', { type: 'button', class: 'btn', dataset: { testid: 'share-extend' } }, t('sharing.extend'));
    extend.addEventListener('click', () => {
      extend.disabled = true;
      act(rc, `/shares/${s.id}/extend`, { minutes: Number(by.value) }, (r) => t('sharing.extended', { time: fmtDateTime(r.expires_at) }));
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
    act(rc, `/shares/${s.id}/revoke`, {}, () => t('sharing.revoked'));
  });
  const relink = h('button', { type: 'button', class: 'btn', title: t('sharing.new_link_hint'), dataset: { testid: 'share-relink' } }, t('sharing.new_link'));
  relink.addEventListener('click', () => newLink(rc, s, relink));
  return h('div', { class: 'share-actions' }, ...extending, revoke, relink);
}

/**
 * One share: status, agency, purpose, cameras, time left; extend and revoke while active.
 * @param {ShareView} s
 * @param {number} now
 * @param {RowContext} rc
 * @param {'li' | 'div'} [tag] the element: 'li' in a list
 */
export function shareRow(s, now, rc, tag = /** @type {'li' | 'div'} */ ('li')) {
  const st = shareStatus(s, now);
  const cams = s.cameras.map((id) => displayName(state.cameras.get(id)) || id);
  return h(
    tag,
    { class: `share-row share-${st}`, dataset: { testid: 'share', shareId: s.id, status: st } },
    h(
      'div',
      { class: 'share-row-head' },
      h('span', { class: `chip share-st share-st-${st}` }, t(STATUS_KEYS[st] || 'sharing.status_active')),
      h('strong', null, agencyLabel(s.agency)),
      h('span', { class: 'muted' }, purposeText(s, rc.sharing)),
      ORIGIN_KEYS[s.origin] ? h('span', { class: 'chip' }, t(ORIGIN_KEYS[s.origin] || '')) : null,
    ),
    h('div', { class: 'muted share-cams' }, t('sharing.cameras_count', { n: cams.length }), cams.length ? `: ${cams.join(', ')}` : ''),
    h('div', { class: 'share-left-line', dataset: { shareLeft: s.id } }, leftText(s, now)),
    st === 'active' ? actions(rc, s, now) : null,
  );
}
