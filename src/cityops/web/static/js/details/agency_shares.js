// @ts-check
// For an agency's liaison account: what is shared with its agency now (GET /m/{mid}/agency/shares,
// the same view a link gives), in the situation summary: each share's incident or place,
// purpose, end and cameras (their panels open from here; the server lets the liaison see them
// while the share is active). Fetched at most every 15 s; the summary redraws it when it comes.

import { getJSON, mpath } from '../api.js';
import { membershipIn } from '../access.js';
import { h } from '../dom.js';
import { displayName, fmtDateTime, getLanguage, incidentTitle, t } from '../i18n.js';
import { state } from '../state.js';
import { labelIn } from '../share/model.js';
import { openIn, panel, section } from './common.js';

/** @typedef {import('../types').ShareAccess} ShareAccess */

const REFRESH_MS = 15_000;

/** @type {{mid: string | null, at: number, list: ShareAccess[] | null, loading: boolean}} */
const cache = { mid: null, at: 0, list: null, loading: false };

/**
 * @param {string} mid
 * @param {() => void} redraw
 */
async function load(mid, redraw) {
  cache.loading = true;
  try {
    /** @type {ShareAccess[]} */
    const list = await getJSON(mpath(mid, '/agency/shares'));
    if (state.mid !== mid) return;
    cache.mid = mid;
    cache.list = list;
  } catch (err) {
    console.warn('agency shares: not loaded', err);
  } finally {
    cache.at = Date.now();
    cache.loading = false;
  }
  if (panel.current === null && state.mid === mid) redraw();
}

/** @param {ShareAccess} access */
function item(access) {
  const { share, incident } = access;
  const title = incident ? incidentTitle(incident) || incident.type : t('share.place_title');
  const purpose = labelIn({ id: share.purpose, label: access.purpose_label, label_local: access.purpose_label_local }, getLanguage());
  return h(
    'li',
    { class: 'share-row', dataset: { testid: 'agency-share', shareId: share.id } },
    h('div', { class: 'share-row-head' }, h('strong', null, title), h('span', { class: 'muted' }, purpose)),
    h('div', { class: 'share-left-line' }, t('agency_shares.until', { time: fmtDateTime(access.expires_at) })),
    h(
      'div',
      { class: 'share-actions' },
      ...access.cameras.map((cam) =>
        state.cameras.has(cam.id)
          ? h('button', { type: 'button', class: 'btn', dataset: { camera: cam.id }, onclick: () => openIn('camera', cam.id) }, displayName(cam) || cam.id)
          : h('span', { class: 'chip' }, displayName(cam) || cam.id),
      ),
    ),
  );
}

/**
 * The summary's "Shared with your agency" section: only for a liaison account.
 * @param {() => void} redraw draws the summary again (when the list arrives)
 * @returns {HTMLElement | null}
 */
export function agencySharesBlock(redraw) {
  const mid = state.mid;
  const m = membershipIn(state.me, mid);
  if (!mid || !m || m.role !== 'liaison' || !m.agency) return null;
  const fresh = cache.mid === mid && Date.now() - cache.at < REFRESH_MS;
  if (!fresh && !cache.loading) load(mid, redraw);
  const list = cache.mid === mid ? cache.list : null;
  /** @type {HTMLElement} */
  let content;
  if (list === null) content = h('p', { class: 'muted' }, t('common.loading'));
  else if (!list.length) content = h('p', { class: 'muted' }, t('agency_shares.none'));
  else content = h('ul', { class: 'plain-list share-list' }, ...list.map(item));
  return h('div', { dataset: { testid: 'agency-shares' } }, section('agency_shares.title', content));
}
