// @ts-check
// Places shared with agencies (docs/AGENCIES.md "Console"): each active share of a point (GET
// /shares?active=true; an incident's shares are listed in its panel) drawn as its circle with
// a label of the agency and the time left; a click on the label opens the share as the incident panel shows it (extend,
// revoke, new link: details/share_row.js). Only for shares.manage. Reloaded when the
// municipality is shown, after a change, and every 30 s (another operator's shares).

import { getJSON, mpath } from '../api.js';
import { can } from '../access.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { agencyLabel } from '../queue.js';
import { on, state } from '../state.js';
import { countdown, msLeft } from '../share/model.js';
import { activePointShares } from '../share/place.js';
import { leftText, shareRow, sharingConfig } from '../details/share_row.js';
import { ctx } from './context.js';

/** @typedef {import('../types').ShareView} ShareView */

const REFRESH_MS = 30_000;
const TICK_MS = 1000;
const COLOUR = '#39c5cf';

/** @type {L.LayerGroup | null} */
let group = null;
/** @type {ShareView[]} */
let shares = [];
let signature = '';
let loading = 0;
/** @type {Map<number, {marker: L.Marker, label: HTMLElement}>} */
const shapes = new Map();

/** @param {ShareView} s */
const tipText = (s) => t('sharing.point_tip', { agency: agencyLabel(s.agency), left: countdown(msLeft(s.expires_at, Date.now())) });

/** The municipality may be shared from here: the signed-in account holds shares.manage in it. */
export function mayShare() {
  return Boolean(state.mid) && can(state.me, state.mid, 'shares.manage');
}

/**
 * The share's popup: its row (made again at each opening: the share as it is now) and the box
 * a new link appears in.
 * @param {ShareView} s
 * @param {L.Marker} marker
 */
function popupFor(s, marker) {
  const slot = h('div');
  const result = h('div', { class: 'share-result', dataset: { testid: 'share-link' }, hidden: true });
  const box = h('div', { class: 'point-share-popup', dataset: { testid: 'point-share-popup', shareId: s.id } }, slot, result);
  marker.bindPopup(box, { maxWidth: 380, minWidth: 280 });
  marker.on('popupopen', () => {
    result.hidden = true;
    sharingConfig(state.mid || '').then((cfg) => {
      slot.replaceChildren(shareRow(s, Date.now(), { sharing: cfg, result: () => (box.isConnected ? result : null), changed: () => refreshPointShares() }, 'div'));
      marker.getPopup()?.update();
    });
  });
}

/**
 * The circle (not clickable: the cameras' cones under it stay so) and, at its centre, a label
 * with the agency and the time left that opens the share.
 * @param {ShareView} s
 */
function draw(s) {
  if (!group) return;
  const at = L.latLng(s.lat, s.lon);
  L.circle(at, { radius: s.radius_m, color: COLOUR, weight: 2, fillColor: COLOUR, fillOpacity: 0.1, dashArray: '8 4', interactive: false }).addTo(group);
  const label = h('span', { class: 'point-share-label', dataset: { testid: 'point-share', shareId: s.id, agency: s.agency, cameras: s.cameras.join(' ') } }, tipText(s));
  const icon = L.divIcon({ className: 'point-share-marker', html: label, iconSize: undefined });
  const marker = L.marker(at, { icon, title: t('sharing.place_title'), keyboard: true });
  popupFor(s, marker);
  marker.addTo(group);
  shapes.set(s.id, { marker, label });
}

function redraw() {
  if (!group) return;
  group.clearLayers();
  shapes.clear();
  for (const s of shares) draw(s);
  const box = ctx.map.getContainer();
  box.dataset.pointShares = String(shares.length);
  box.dataset.pointShareIds = shares.map((s) => s.id).join(' ');
}

/** Fetch the municipality's active point shares and draw them (nothing without shares.manage). */
export async function refreshPointShares() {
  const mid = state.mid;
  const mine = ++loading;
  if (!mid || !mayShare()) {
    shares = [];
    signature = '';
    redraw();
    return;
  }
  try {
    /** @type {ShareView[]} */
    const list = await getJSON(mpath(mid, '/shares?active=true'));
    if (mine !== loading || mid !== state.mid) return;
    const points = activePointShares(list, Date.now());
    const sig = JSON.stringify(points);
    // unchanged: the circles stay (an open popup, a link just shown)
    if (sig === signature) return;
    signature = sig;
    shares = points;
  } catch (err) {
    console.warn('point shares: not loaded', err);
    return;
  }
  redraw();
}

/** Each second: the time left in the labels and an open popup; a share that ran out goes. */
function tick() {
  const now = Date.now();
  let ended = false;
  for (const s of shares) {
    const shape = shapes.get(s.id);
    if (!shape) continue;
    if (msLeft(s.expires_at, now) <= 0) ended = true;
    shape.label.textContent = tipText(s);
    const popup = shape.marker.getPopup();
    const line = popup && popup.isOpen() ? popup.getElement()?.querySelector(`[data-share-left="${s.id}"]`) : null;
    if (line) line.textContent = leftText(s, now);
  }
  if (ended) {
    shares = activePointShares(shares, now);
    signature = '';
    redraw();
    refreshPointShares();
  }
}

/**
 * For tests: where a place is on the map's container (pixels), after centring the map on it.
 * @param {number} lat
 * @param {number} lon
 * @param {number} [zoom]
 */
export function mapPoint(lat, lon, zoom = 17) {
  const at = L.latLng(lat, lon);
  ctx.map.setView(at, zoom, { animate: false });
  const p = ctx.map.latLngToContainerPoint(at);
  return { x: p.x, y: p.y };
}

export function initPointShares() {
  group = L.layerGroup().addTo(ctx.map);
  on('basemap', () => refreshPointShares()); // a municipality was (re)shown
  on('lang', () => {
    signature = '';
    redraw();
  });
  window.setInterval(() => refreshPointShares(), REFRESH_MS);
  window.setInterval(tick, TICK_MS);
}
