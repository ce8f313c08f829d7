// @ts-check
// The right-hand details panel: which panel is open (incident, camera, sensor, key object, or
// the situation summary when none), the way back, and what makes it redraw. The panels
// themselves live in details/.

import { byId } from './dom.js';
import { emit, on, schedule, setDetail, state } from './state.js';
import { body, panel, sensorValue, setNavigation, teardown } from './details/common.js';
import { renderCamera } from './details/camera.js';
import { acknowledge, incidentPlaceholder, loadIncident, renderIncident } from './details/incident.js';
import { renderKeyObject } from './details/keyobject.js';
import { renderSensor } from './details/sensor.js';
import { renderSummary } from './details/summary.js';

export { acknowledge };

const REFETCH_DELAY_MS = 300;
let refetchTimer = 0;

/**
 * @param {import('./types').DetailKind} kind
 * @param {string | number} id
 * @param {{keepBack?: boolean, fly?: boolean}} [options]
 */
export function open(kind, id, { keepBack = false, fly = false } = {}) {
  teardown();
  if (!keepBack) panel.back.length = 0;
  panel.current = { kind, id, detail: null, charts: [], timers: [], token: ++panel.token };
  setDetail({ kind, id });
  emit('detail-opened', { kind, id, fly });
  byId('details').classList.add('open');
  if (kind === 'incident') {
    incidentPlaceholder(Number(id));
    loadIncident(Number(id), panel.current.token);
  } else if (kind === 'camera') {
    const cam = state.cameras.get(String(id));
    if (cam) renderCamera(cam);
  } else if (kind === 'sensor') {
    const s = state.sensors.get(String(id));
    if (s) renderSensor(s);
  } else if (kind === 'key_object') {
    const ko = state.keyObjects.get(String(id));
    if (ko) renderKeyObject(ko);
  }
  body().scrollTop = 0;
}

export function closeDetail() {
  teardown();
  panel.current = null;
  panel.back.length = 0;
  setDetail(null);
  byId('details').classList.remove('open');
  emit('close-detail');
  renderSummary();
}

export function isDetailOpen() {
  return panel.current !== null;
}

export function focusDetail() {
  const title = document.getElementById('detail-title');
  if (title) title.focus();
}

/** Fetch the open incident's detail again (soon, once for a burst of updates). */
function reloadIncident() {
  const cur = panel.current;
  if (!cur || cur.kind !== 'incident') return;
  clearTimeout(refetchTimer);
  const tok = cur.token;
  const id = Number(cur.id);
  refetchTimer = window.setTimeout(() => {
    if (panel.current && panel.current.token === tok) loadIncident(id, tok);
  }, REFETCH_DELAY_MS);
}

export function initDetails() {
  setNavigation({ open, close: closeDetail });
  on('open-detail', (d) => {
    open(d.kind, d.id, { keepBack: false, fly: Boolean(d.fly) });
    if (d.focus) requestAnimationFrame(focusDetail);
  });
  on('incidents', (d) => {
    const cur = panel.current;
    if (!cur) {
      schedule('summary', renderSummary);
      return;
    }
    if (cur.kind !== 'incident') return;
    const touched = (d && d.all) || (d && d.ids && d.ids.includes(Number(cur.id)));
    if (!touched) return;
    const inc = state.incidents.get(Number(cur.id));
    if (cur.detail && inc && inc.updated_at === cur.detail.updated_at) return;
    reloadIncident();
  });
  // after a resync the open incident is fetched again whatever the list said: its timeline,
  // SOP or cameras may have changed without its summary changing
  on('resync', reloadIncident);
  on('sensors', (d) => {
    const cur = panel.current;
    if (!cur) {
      schedule('summary', renderSummary);
      return;
    }
    for (const r of (d && d.readings) || []) {
      if (!r.ts) continue;
      for (const c of cur.charts) if (c && c.sensorId === r.id) c.append(r.ts, r.value);
    }
    if (d && d.ids) {
      schedule('detail-sensors', () => {
        for (const el of body().querySelectorAll('[data-sensor-value]')) {
          const s = el instanceof HTMLElement ? state.sensors.get(el.dataset.sensorValue || '') : undefined;
          if (s) el.textContent = sensorValue(s);
        }
      });
    }
  });
  on('cameras', () => {
    if (!panel.current) schedule('summary', renderSummary);
  });
  on('lang', () => {
    const cur = panel.current;
    if (!cur) renderSummary();
    else if (cur.kind === 'incident' && cur.detail) renderIncident(cur.detail);
    else open(cur.kind, cur.id, { keepBack: true, fly: false });
  });
  renderSummary();
}
