// @ts-check
// Camera wall: a grid of snapshots refreshed every 5 s (only the tiles in view), with health,
// and what each camera's analytics sees now (live `detections`: boxes and a count, ~1/s).

import { snapshotUrl } from './api.js';
import { byId, byIdAs, h } from './dom.js';
import { displayName, fmtTime, t, tMaybe } from './i18n.js';
import { CAMERA_HEALTH, emit, on, schedule, state } from './state.js';

const REFRESH_MS = 5000;
const DETECTIONS_MAX_AGE_MS = 3000;
/** @typedef {{el: HTMLButtonElement, img: HTMLImageElement, badge: HTMLSpanElement, stamp: HTMLSpanElement, name: HTMLSpanElement, text: HTMLSpanElement, boxes: HTMLDivElement, count: HTMLSpanElement, expire: number, visible: boolean}} Tile */
/** @typedef {Readonly<import('./types').Camera>} Camera */

/** @type {Map<string, Tile>} camera id -> tile */
const tiles = new Map();
/** @type {IntersectionObserver | null} */
let observer = null;
let timer = 0;
let active = false;

/**
 * @param {string} id
 * @param {Tile} tile
 */
function refreshTile(id, tile) {
  if (state.cameras.get(id)?.has_video === false) {
    tile.el.classList.remove('loading');
    tile.el.classList.add('missing');
    return;
  }
  const next = new Image();
  next.onload = () => {
    tile.img.src = next.src;
    tile.el.classList.remove('missing', 'loading');
    tile.stamp.textContent = fmtTime(Date.now());
  };
  next.onerror = () => {
    tile.el.classList.remove('loading');
    tile.el.classList.add('missing');
  };
  next.src = snapshotUrl(state.mid || '', id, Date.now());
}

/**
 * Where a box of the picture (fractions) lies in the tile, in percent of the tile: the snapshot
 * is drawn with `object-fit: cover`, so a picture of another shape is scaled and cropped.
 * @param {HTMLImageElement} img
 * @param {[number, number, number, number]} box
 */
export function boxInTile(img, box) {
  const W = img.clientWidth || 1;
  const H = img.clientHeight || 1;
  const w = img.naturalWidth || W;
  const hh = img.naturalHeight || H;
  const scale = Math.max(W / w, H / hh);
  const dw = w * scale;
  const dh = hh * scale;
  const ox = (W - dw) / 2;
  const oy = (H - dh) / 2;
  const pct = (/** @type {number} */ v, /** @type {number} */ total) => `${((v / total) * 100).toFixed(2)}%`;
  return {
    left: pct(ox + box[0] * dw, W),
    top: pct(oy + box[1] * dh, H),
    width: pct((box[2] - box[0]) * dw, W),
    height: pct((box[3] - box[1]) * dh, H),
  };
}

/** @param {Tile} tile */
function clearDetections(tile) {
  tile.boxes.replaceChildren();
  tile.count.textContent = '';
  tile.el.dataset.detections = '0';
}

/** @param {import('./types').Detections} d */
function showDetections(d) {
  const tile = tiles.get(d.id);
  if (!active || !tile) return;
  clearTimeout(tile.expire);
  tile.boxes.replaceChildren(
    ...d.objects.map((o) => {
      const box = h('div', { class: `wall-det det-${o.label}`, title: tMaybe(`object.${o.label}`, o.label) });
      Object.assign(box.style, boxInTile(tile.img, o.box));
      return box;
    }),
  );
  tile.count.textContent = d.objects.length ? t('wall.detections', { count: d.objects.length }) : '';
  tile.el.dataset.detections = String(d.objects.length);
  // a camera whose analytics stopped (or moved to a worker that is not seen) shows nothing old
  tile.expire = window.setTimeout(() => clearDetections(tile), DETECTIONS_MAX_AGE_MS);
}

function refreshVisible() {
  if (!active || document.hidden) return;
  for (const [id, tile] of tiles) if (tile.visible) refreshTile(id, tile);
}

/** @param {Camera} cam */
function matches(cam) {
  const health = byIdAs('wall-health', HTMLSelectElement).value;
  const q = byIdAs('wall-search', HTMLInputElement).value.trim().toLowerCase();
  if (health && (cam.health || 'unknown') !== health) return false;
  if (q && !`${displayName(cam)} ${cam.name || ''} ${cam.id}`.toLowerCase().includes(q)) return false;
  return true;
}

/**
 * @param {Camera} cam
 * @returns {Tile}
 */
function makeTile(cam) {
  const img = h('img', { alt: '', decoding: 'async' });
  const badge = h('span', { class: 'badge' });
  const stamp = h('span', { class: 'wall-stamp' });
  const name = h('span', { class: 'wall-name' });
  const text = h('span', { class: 'ph-text' });
  const boxes = h('div', { class: 'wall-dets', 'aria-hidden': 'true' });
  const count = h('span', { class: 'wall-count-dets', dataset: { testid: 'wall-detections' } });
  const el = h(
    'button',
    { type: 'button', class: 'wall-tile loading', dataset: { camera: cam.id } },
    h('div', { class: 'wall-img' }, img, boxes, h('div', { class: 'snap-placeholder' }, h('span', { class: 'snap-icon', 'aria-hidden': 'true' }), text)),
    h('div', { class: 'wall-meta' }, name, badge, count, stamp),
  );
  el.addEventListener('click', () => {
    emit('show-view', 'ops');
    emit('open-detail', { kind: 'camera', id: cam.id, fly: true });
  });
  const tile = { el, img, badge, stamp, name, text, boxes, count, expire: 0, visible: false };
  fillTile(cam, tile);
  return tile;
}

/**
 * @param {Camera} cam
 * @param {Tile} tile
 */
function fillTile(cam, tile) {
  const health = cam.health || 'unknown';
  tile.badge.className = `badge health-${health}`;
  tile.badge.textContent = t(`health.${health}`);
  tile.name.textContent = displayName(cam);
  tile.img.alt = t('camera.snapshot_alt', { name: displayName(cam) });
  tile.text.textContent = t('camera.no_snapshot');
  tile.el.classList.toggle('unhealthy', health !== 'online');
}

function render() {
  const grid = byId('wall-grid');
  const obs = observer;
  if (!obs) return;
  const cams = [...state.cameras.values()].filter(matches);
  cams.sort((a, b) => {
    /** @param {Camera} c */
    const bad = (c) => (c.health === 'online' ? 1 : 0);
    return bad(a) - bad(b) || displayName(a).localeCompare(displayName(b));
  });
  const wanted = new Set(cams.map((c) => c.id));
  for (const [id, tile] of tiles) {
    if (!wanted.has(id)) {
      obs.unobserve(tile.el);
      tile.el.remove();
      tiles.delete(id);
    }
  }
  const frag = document.createDocumentFragment();
  for (const cam of cams) {
    let tile = tiles.get(cam.id);
    if (!tile) {
      tile = makeTile(cam);
      tiles.set(cam.id, tile);
      obs.observe(tile.el);
    } else fillTile(cam, tile);
    frag.appendChild(tile.el);
  }
  grid.appendChild(frag);
  byId('wall-count').textContent = t('wall.count', { shown: cams.length, total: state.cameras.size });
  document.getElementById('wall-empty-hint')?.remove();
  if (!cams.length) grid.appendChild(h('p', { class: 'empty', id: 'wall-empty-hint' }, t('wall.empty')));
}

function fillHealthFilter() {
  const sel = byIdAs('wall-health', HTMLSelectElement);
  const v = sel.value;
  sel.replaceChildren(h('option', { value: '' }, t('wall.all')), ...CAMERA_HEALTH.map((s) => h('option', { value: s, selected: s === v }, t(`health.${s}`))));
}

/** @param {boolean} on_ */
export function setWallActive(on_) {
  active = on_;
  clearInterval(timer);
  timer = 0;
  if (active) {
    render();
    refreshVisible();
    timer = window.setInterval(refreshVisible, REFRESH_MS);
  }
}

export function initWall() {
  observer = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        const id = e.target instanceof HTMLElement ? e.target.dataset.camera : undefined;
        const tile = id === undefined ? undefined : tiles.get(id);
        if (!id || !tile) continue;
        const was = tile.visible;
        tile.visible = e.isIntersecting;
        if (active && tile.visible && !was) refreshTile(id, tile);
      }
    },
    { rootMargin: '200px' },
  );
  fillHealthFilter();
  byId('wall-health').addEventListener('change', render);
  byId('wall-search').addEventListener('input', () => schedule('wall', render));
  on('cameras', (d) => {
    if (!active) return;
    if (d && d.all) schedule('wall', render);
    else if (d && d.ids) {
      const ids = d.ids;
      schedule(`wall-${ids.join(',')}`, () => {
        for (const id of ids) {
          const tile = tiles.get(id);
          const cam = state.cameras.get(id);
          if (tile && cam) fillTile(cam, tile);
        }
      });
    }
  });
  on('lang', () => {
    fillHealthFilter();
    if (active) render();
  });
  on('detections', (d) => {
    if (d) showDetections(d);
  });
}
