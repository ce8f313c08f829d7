// @ts-check
// The incident's deliveries to agencies (dispatch, docs/DISPATCH.md): to whom, by webhook or
// e-mail, how each went (waiting, retrying with its last error, sent, failed for good) and
// whether the agency acknowledged it. Fetched with the panel, again when the incident changes,
// and every few seconds while a delivery is still on its way.

import { getJSON, mpath } from '../api.js';
import { h } from '../dom.js';
import { fmtDateTime, getLanguage, t } from '../i18n.js';
import { agencyLabel } from '../queue.js';
import { state } from '../state.js';
import { apiErrorMessage, panel, section } from './common.js';

/** @typedef {import('../types').Delivery} Delivery */

const POLL_MS = 5000;

/**
 * @typedef {{incident: number, stamp: string, lang: string, el: HTMLElement, list: HTMLElement,
 *   timer: number, mid: string}} Shown
 */
/** @type {Shown | null} */
let shown = null;

/** @param {Delivery} d */
function statusKey(d) {
  return d.acknowledged_at ? 'acknowledged' : d.status;
}

/** @param {Delivery} d */
function row(d) {
  const key = statusKey(d);
  const when = d.acknowledged_at || d.sent_at;
  /** @type {(HTMLElement | string | null)[]} */
  const facts = [
    h('span', { class: `chip delivery-status dl-${key}`, dataset: { testid: 'delivery-status' } }, t(`delivery.status.${key}`)),
    h('strong', null, agencyLabel(d.agency)),
    h('span', { class: 'muted' }, `${t(`delivery.channel.${d.channel}`)} · ${d.target}`),
  ];
  const lines = [h('div', { class: 'delivery-line' }, ...facts)];
  const detail = [t('delivery.attempts', { n: String(d.attempts) })];
  if (when) detail.push(fmtDateTime(when));
  else if (d.status === 'retrying' || d.status === 'pending') detail.push(t('delivery.next', { at: fmtDateTime(d.next_at) }));
  lines.push(h('div', { class: 'muted delivery-when' }, detail.join(' · ')));
  if (d.last_error && !d.acknowledged_at && d.status !== 'sent') {
    lines.push(h('div', { class: 'delivery-error', dataset: { testid: 'delivery-error' } }, d.last_error));
  }
  return h('li', { class: `delivery dl-${key}`, dataset: { testid: 'delivery', deliveryId: d.id, status: key } }, ...lines);
}

/** @param {Shown} cur */
async function load(cur) {
  clearTimeout(cur.timer);
  /** @type {Delivery[]} */
  let list;
  try {
    list = await getJSON(mpath(cur.mid, `/incidents/${cur.incident}/deliveries`));
  } catch (err) {
    if (shown === cur) cur.list.replaceChildren(h('li', { class: 'error' }, apiErrorMessage(err)));
    return;
  }
  if (shown !== cur) return;
  cur.list.replaceChildren(
    ...(list.length ? list.map(row) : [h('li', { class: 'muted', dataset: { testid: 'deliveries-none' } }, t('delivery.none'))]),
  );
  const onItsWay = list.some((d) => !d.acknowledged_at && (d.status === 'pending' || d.status === 'retrying'));
  if (onItsWay) {
    cur.timer = window.setTimeout(() => {
      const open = panel.current;
      if (shown === cur && open && open.kind === 'incident' && open.id === cur.incident) load(cur);
    }, POLL_MS);
  }
}

/**
 * The deliveries section of an incident's panel (the same element across live re-renders of the
 * same incident, so that the list does not flicker).
 * @param {import('../types').IncidentDetail} detail
 */
export function deliveriesBlock(detail) {
  const mid = state.mid || '';
  if (shown && shown.incident === detail.id && shown.mid === mid && shown.lang === getLanguage()) {
    if (shown.stamp !== detail.updated_at) {
      shown.stamp = detail.updated_at;
      load(shown);
    }
    return shown.el;
  }
  if (shown) clearTimeout(shown.timer);
  const list = h('ul', { class: 'plain-list delivery-list', dataset: { testid: 'deliveries' } }, h('li', { class: 'muted' }, t('common.loading')));
  const el = section('delivery.title', list);
  el.dataset.testid = 'deliveries-section';
  /** @type {Shown} */
  const cur = { incident: detail.id, stamp: detail.updated_at, lang: getLanguage(), el, list, timer: 0, mid };
  shown = cur;
  load(cur);
  return el;
}
