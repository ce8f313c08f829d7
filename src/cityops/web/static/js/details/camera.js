// @ts-check
// Cameras: snapshots (refreshed) or the MJPEG live view, the cameras that see an incident, and
// a camera's own panel with what is in its view.

import { liveViewUrl, snapshotUrl } from '../api.js';
import { h } from '../dom.js';
import { cameraSees, compassKey } from '../geo.js';
import { displayName, fmtDistance, fmtNumber, t } from '../i18n.js';
import { isOpenIncident } from '../model.js';
import { state } from '../state.js';
import { backButton, closeButton, fact, healthBadge, incidentsList, openIn, panel, section, setBody } from './common.js';

const SNAPSHOT_REFRESH_MS = 5000;
const MAX_CAMERAS = 6;

/**
 * A snapshot <img> with a translated placeholder when the camera has none (404) or fails.
 * `live`: the MJPEG live view instead of refreshed snapshots.
 * @param {string} cameraId
 * @param {string} [cls]
 * @param {boolean} [live]
 * @returns {{el: HTMLElement, refresh: () => void}}
 */
function snapshot(cameraId, cls = 'snap', live = false) {
  const mid = state.mid || '';
  const wrap = h('div', { class: `${cls} loading` });
  const img = h('img', { alt: t('camera.snapshot_alt', { name: displayName(state.cameras.get(cameraId)) || cameraId }), decoding: 'async' });
  const placeholder = h('div', { class: 'snap-placeholder' }, h('span', { class: 'snap-icon', 'aria-hidden': 'true' }), t('camera.no_snapshot'));
  const missing = () => {
    wrap.classList.remove('loading');
    wrap.classList.add('missing');
  };
  img.addEventListener('load', () => wrap.classList.remove('loading', 'missing'));
  img.addEventListener('error', missing);
  wrap.append(img, placeholder);
  if (state.cameras.get(cameraId)?.has_video === false) {
    missing();
    return { el: wrap, refresh: () => {} };
  }
  if (live) {
    img.dataset.live = '1';
    img.src = liveViewUrl(mid, cameraId);
    return { el: wrap, refresh: () => {} };
  }
  const refresh = () => {
    const next = new Image();
    next.onload = () => {
      img.src = next.src;
    };
    next.onerror = missing;
    next.src = snapshotUrl(mid, cameraId, Date.now());
  };
  img.src = snapshotUrl(mid, cameraId, Date.now());
  return { el: wrap, refresh };
}

/** @param {number} fn */
function keepTimer(fn) {
  if (panel.current) panel.current.timers.push(fn);
  else clearInterval(fn);
}

/**
 * The cameras that see an incident, nearest first, with snapshots.
 * @param {import('../types').IncidentDetail} detail
 */
export function camerasBlock(detail) {
  const cams = (detail.cameras || []).slice().sort((a, b) => a.distance_m - b.distance_m);
  if (!cams.length) return section('incident.cameras', h('p', { class: 'muted' }, t('incident.no_cameras')));
  const grid = h('div', { class: 'cam-grid' });
  /** @type {(() => void)[]} */
  const refreshers = [];
  for (const ref of cams.slice(0, MAX_CAMERAS)) {
    const cam = state.cameras.get(ref.camera_id);
    const snap = snapshot(ref.camera_id);
    refreshers.push(snap.refresh);
    grid.appendChild(
      h(
        'button',
        { type: 'button', class: 'cam-card', onclick: () => openIn('camera', ref.camera_id), title: t('camera.open') },
        snap.el,
        h(
          'span',
          { class: 'cam-card-meta' },
          h('span', { class: 'cam-name' }, displayName(cam) || ref.camera_id),
          healthBadge(cam ? cam.health : 'unknown'),
          h('span', { class: 'muted' }, t('camera.distance_dir', { distance: fmtDistance(ref.distance_m), dir: t(`compass.${compassKey(ref.bearing_deg || 0)}`) })),
        ),
      ),
    );
  }
  keepTimer(window.setInterval(() => refreshers.forEach((r) => r()), SNAPSHOT_REFRESH_MS));
  return section('incident.cameras', grid, cams.length > MAX_CAMERAS ? h('p', { class: 'muted' }, t('incident.more_cameras', { n: cams.length - MAX_CAMERAS })) : null);
}

/** @param {Readonly<import('../types').Camera>} cam */
export function renderCamera(cam) {
  const snap = snapshot(cam.id, 'snap snap-large', true);
  keepTimer(window.setInterval(snap.refresh, SNAPSHOT_REFRESH_MS));
  const seen = [];
  for (const inc of state.incidents.values()) {
    if (isOpenIncident(inc) && inc.location && cameraSees(cam, inc.location.lat, inc.location.lon)) seen.push(inc);
  }
  const objects = [...state.keyObjects.values()].filter((ko) => ko.position && cameraSees(cam, ko.position.lat, ko.position.lon));
  setBody(
    h(
      'div',
      { class: 'd-head' },
      h('div', { class: 'd-kicker' }, backButton(), h('span', { class: 'kind-label' }, t('camera.title')), healthBadge(cam.health), closeButton()),
      h('h2', { class: 'd-title', id: 'detail-title', tabindex: '-1' }, displayName(cam)),
    ),
    snap.el,
    h(
      'dl',
      { class: 'facts' },
      fact('camera.id', cam.id),
      fact('camera.heading', t('camera.heading_value', { deg: fmtNumber(cam.heading_deg, 0), dir: t(`compass.${compassKey(cam.heading_deg || 0)}`) })),
      fact('camera.fov', t('unit.deg', { n: fmtNumber(cam.fov_deg, 0) })),
      fact('camera.range', fmtDistance(cam.range_m)),
      fact('camera.stream', cam.stream_url ? h('code', { class: 'stream' }, cam.stream_url) : null),
    ),
    incidentsList(seen, 'camera.incidents_in_view'),
    objects.length
      ? section('camera.key_objects_in_view', h('ul', { class: 'plain-list' }, ...objects.map((ko) => h('li', null, h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('key_object', ko.id) }, displayName(ko))))))
      : null,
  );
}
