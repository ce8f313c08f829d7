// @ts-check
// What the recipient's page shows: a screen saying why a link opens nothing (missing, invalid,
// expired, revoked, unreachable), or the share: the incident's summary, the small map, the
// shared cameras (refreshed snapshots, or the live view on request) and the time left.
// share.html holds the elements; server data goes in as text only.

import { h } from '../dom.js';
import { displayName, fmtDateTime, fmtDistance, fmtNumber, getLanguage, incidentTitle, t } from '../i18n.js';
import { incidentTypeLabel } from '../queue.js';
import { cameraUrl } from './api.js';
import { drawShareMap, removeShareMap } from './map.js';
import { countdown, labelIn, msLeft } from './model.js';

/** @typedef {import('../types').ShareAccess} ShareAccess */
/** @typedef {import('../types').SharedCamera} SharedCamera */
/** @typedef {import('./model.js').ShareFailure} ShareFailure */

const SNAPSHOT_REFRESH_MS = 5000;

/** @type {Readonly<Record<ShareFailure, [string, string]>>} the title and text of each screen */
const SCREENS = {
  missing: ['share.missing_title', 'share.missing_text'],
  invalid: ['share.invalid_title', 'share.invalid_text'],
  expired: ['share.expired_title', 'share.expired_text'],
  revoked: ['share.revoked_title', 'share.revoked_text'],
  unavailable: ['share.unavailable_title', 'share.unavailable_text'],
};

/** The cameras on show: their cards, whether each plays live, and the refresh timer. */
const shown = {
  /** @type {Map<string, {card: HTMLElement, img: HTMLImageElement, live: boolean}>} */
  cards: new Map(),
  timer: 0,
};

/**
 * An element of share.html (the page has it; a missing one is a bug).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function pageEl(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from share.html`);
  return el;
}

/**
 * Stop every picture: live views are endless responses, dropping their src ends the stream.
 */
export function stopCameras() {
  clearInterval(shown.timer);
  shown.timer = 0;
  for (const { img } of shown.cards.values()) img.removeAttribute('src');
  shown.cards.clear();
  pageEl('share-cam-grid').replaceChildren();
}

/**
 * Say why the link opens nothing, instead of the share.
 * @param {ShareFailure} reason
 * @param {{expiresAt?: string | null, retry?: (() => void) | null}} [options]
 */
export function showScreen(reason, { expiresAt = null, retry = null } = {}) {
  stopCameras();
  removeShareMap();
  pageEl('share-loading').hidden = true;
  pageEl('share-view').hidden = true;
  pageEl('share-left').hidden = true;
  const screen = pageEl('share-screen');
  screen.dataset.reason = reason;
  screen.hidden = false;
  const [title, text] = SCREENS[reason];
  pageEl('share-screen-title').textContent = t(title);
  pageEl('share-screen-text').textContent = expiresAt && reason === 'expired' ? t('share.expired_at', { time: fmtDateTime(expiresAt) }) : t(text);
  const button = pageEl('share-retry');
  button.hidden = !retry;
  button.onclick = retry;
  document.title = t(title);
}

/**
 * A shared camera's card: its picture (a refreshed snapshot until the live view is asked for).
 * @param {SharedCamera} cam
 */
function cameraCard(cam) {
  const name = displayName(cam) || cam.id;
  const wrap = h('div', { class: 'snap loading' });
  const img = h('img', { alt: t('camera.snapshot_alt', { name }), decoding: 'async' });
  const placeholder = h('div', { class: 'snap-placeholder' }, h('span', { class: 'snap-icon', 'aria-hidden': 'true' }), h('span', { dataset: { i18n: 'camera.no_snapshot' } }, t('camera.no_snapshot')));
  img.addEventListener('load', () => wrap.classList.remove('loading', 'missing'));
  img.addEventListener('error', () => {
    wrap.classList.remove('loading');
    wrap.classList.add('missing');
  });
  wrap.append(img, placeholder);
  const toggle = h('button', { type: 'button', class: 'btn', dataset: { testid: 'live-toggle', i18n: 'share.live' } }, t('share.live'));
  const card = h('figure', { class: 'share-cam', dataset: { testid: 'shared-camera', camera: cam.id } }, wrap, h('figcaption', null, h('span', { class: 'cam-name' }, name), toggle));
  const entry = { card, img, live: false };
  toggle.addEventListener('click', () => {
    entry.live = !entry.live;
    toggle.dataset.i18n = entry.live ? 'share.snapshots' : 'share.live';
    toggle.textContent = t(toggle.dataset.i18n);
    toggle.setAttribute('aria-pressed', String(entry.live));
    card.classList.toggle('live', entry.live);
    if (entry.live) {
      img.dataset.live = '1';
      img.src = cameraUrl(cam.id, 'live.mjpg');
    } else {
      delete img.dataset.live;
      img.src = cameraUrl(cam.id, 'snapshot.jpg', Date.now());
    }
  });
  img.src = cameraUrl(cam.id, 'snapshot.jpg', Date.now());
  return entry;
}

function refreshSnapshots() {
  for (const [id, entry] of shown.cards) {
    if (entry.live) continue;
    const next = new Image();
    next.onload = () => {
      if (!entry.live && shown.cards.get(id) === entry) entry.img.src = next.src;
    };
    next.src = cameraUrl(id, 'snapshot.jpg', Date.now());
  }
}

/**
 * The shared cameras' cards; cameras still shared keep their card (and a live view its stream).
 * @param {readonly SharedCamera[]} cameras
 */
function showCameras(cameras) {
  const grid = pageEl('share-cam-grid');
  const ids = new Set(cameras.map((c) => c.id));
  for (const [id, entry] of shown.cards) {
    if (ids.has(id)) continue;
    entry.img.removeAttribute('src');
    shown.cards.delete(id);
  }
  for (const cam of cameras) if (!shown.cards.has(cam.id)) shown.cards.set(cam.id, cameraCard(cam));
  grid.replaceChildren(...cameras.map((c) => /** @type {{card: HTMLElement}} */ (shown.cards.get(c.id)).card));
  if (!cameras.length) grid.append(h('p', { class: 'muted', dataset: { i18n: 'share.no_cameras' } }, t('share.no_cameras')));
  if (!shown.timer) shown.timer = window.setInterval(refreshSnapshots, SNAPSHOT_REFRESH_MS);
}

/**
 * @param {string} labelKey
 * @param {string} value
 */
function fact(labelKey, value) {
  if (!value) return [];
  return [h('dt', null, t(labelKey)), h('dd', null, value)];
}

/**
 * The summary's texts (again after the language changes).
 * @param {ShareAccess} access
 */
export function showSummary(access) {
  const { share, incident } = access;
  const lang = getLanguage();
  const agency = displayName({ id: share.agency, name: access.agency_name || share.agency, name_local: access.agency_name_local || null });
  const purpose = labelIn({ id: share.purpose, label: access.purpose_label, label_local: access.purpose_label_local }, lang);
  const title = incident ? incidentTitle(incident) || incidentTypeLabel(incident) : t('share.place_title');
  pageEl('share-title').textContent = title;
  document.title = `${title} · ${t('share.page_title')}`;
  pageEl('share-badges').replaceChildren(
    ...(incident
      ? [h('span', { class: `sev-badge sev-${incident.severity}` }, t(`severity.${incident.severity}`)), h('span', { class: `chip status st-${incident.status}` }, t(`status.${incident.status}`))]
      : []),
    h('span', { class: 'muted' }, t('share.shared_with', { agency })),
  );
  const place = `${fmtNumber(share.lat, 5)}, ${fmtNumber(share.lon, 5)} · ${t('share.radius', { radius: fmtDistance(share.radius_m) })}`;
  pageEl('share-facts').replaceChildren(
    ...fact('share.purpose', purpose),
    ...fact('incident.type', incident ? incidentTypeLabel(incident) : ''),
    ...fact('incident.created', incident ? fmtDateTime(incident.created_at) : ''),
    ...fact('share.place', place),
    ...fact('share.until', fmtDateTime(access.expires_at)),
  );
  const left = pageEl('share-left');
  left.dataset.expires = access.expires_at;
  tick(Date.now());
}

/**
 * Show the share: summary, map, cameras, time left.
 * @param {ShareAccess} access
 */
export function showAccess(access) {
  pageEl('share-loading').hidden = true;
  pageEl('share-screen').hidden = true;
  const view = pageEl('share-view');
  const first = view.hidden;
  view.hidden = false;
  view.dataset.share = String(access.share.id);
  pageEl('share-left').hidden = false;
  showSummary(access);
  showCameras(access.cameras);
  if (first) drawShareMap(pageEl('share-map'), access);
}

/**
 * Update the time left; true while some is left.
 * @param {number} now
 */
export function tick(now) {
  const left = pageEl('share-left');
  const ms = msLeft(left.dataset.expires || '', now);
  left.textContent = t('share.time_left', { left: countdown(ms) });
  left.dataset.seconds = String(Math.floor(ms / 1000));
  left.classList.toggle('ending', ms < 5 * 60_000);
  return ms > 0;
}
