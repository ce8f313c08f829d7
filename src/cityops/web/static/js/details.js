// The right-hand details panel: incident (actions, SOP, cameras, sensors, notes, timeline),
// camera, sensor and key object views, and a situation summary when nothing is open.

import { ApiError, getJSON, liveViewUrl, mpath, postJSON, snapshotUrl } from './api.js';
import { sensorChart } from './charts.js';
import { applyIncident } from './data.js';
import { h } from './dom.js';
import { cameraSees, compassKey, distanceM } from './geo.js';
import { displayName, fmtAge, fmtDateTime, fmtDistance, fmtNumber, incidentTitle, t, tMaybe } from './i18n.js';
import { agencyLabel, incidentTypeLabel } from './queue.js';
import { compareIncidents, emit, isOpenIncident, on, OPEN_STATUSES, schedule, SEVERITIES, state, TRANSITIONS } from './state.js';
import { askCancelReason, toast } from './ui.js';

const SNAPSHOT_REFRESH_MS = 5000;
const NEARBY_SENSOR_M = 600;
const MAX_SENSOR_CHARTS = 4;
const MAX_LISTED = 8;

const ACTIONS = [
  { key: 'acknowledge', to: 'acknowledged', path: 'acknowledge', from: ['new'], cls: 'primary' },
  { key: 'dispatch', to: 'dispatched', path: 'dispatch', needsAgency: true, cls: 'primary' },
  { key: 'on_scene', to: 'on_scene', path: 'on-scene' },
  { key: 'resolve', to: 'resolved', path: 'resolve', cls: 'ok' },
  { key: 'close', to: 'closed', path: 'close' },
  { key: 'reopen', to: 'acknowledged', path: 'reopen', from: ['resolved'] },
  { key: 'cancel', to: 'cancelled', path: 'cancel', cls: 'danger' },
];
const SUMMARY_KEYS = [
  'id', 'municipality', 'type', 'sector', 'severity', 'status', 'title', 'location', 'rule_id',
  'proposed_agency', 'assigned_agency', 'created_at', 'updated_at', 'event_count',
];

let current = null; // {kind, id, detail?, charts: [], timers: [], token}
const back = [];
let token = 0;
let refetchTimer = null;

const body = () => document.getElementById('details-body');

/** Replace the panel's content (leaving out empty parts: replaceChildren would print "null"). */
function setBody(...parts) {
  body().replaceChildren(...parts.flat().filter((p) => p !== null && p !== undefined && p !== false));
}

function summaryOf(detail) {
  const s = {};
  for (const k of SUMMARY_KEYS) if (k in detail) s[k] = detail[k];
  return s;
}

function teardown() {
  if (!current) return;
  // Live views are endless responses: drop them explicitly so the server stops streaming.
  for (const img of document.querySelectorAll('#details img[data-live]')) img.removeAttribute('src');
  for (const c of current.charts) if (c) c.destroy();
  for (const timer of current.timers) clearInterval(timer);
  current.charts = [];
  current.timers = [];
}

export function actionAllowed(action, inc) {
  if (!inc) return false;
  if (action.from && !action.from.includes(inc.status)) return false;
  return (TRANSITIONS[inc.status] || []).includes(action.to);
}

function apiErrorMessage(err) {
  if (err instanceof ApiError) {
    if (err.status === 0) return t('operator.required');
    if (err.status === 409) return t('error.conflict', { detail: err.detail || '' });
    if (err.status === 404) return t('error.not_found');
    if (err.detail) return t('error.server_detail', { detail: err.detail });
  }
  return t('error.network');
}

// --- shared fragments

function section(titleKey, ...children) {
  return h('section', { class: 'd-section' }, h('h3', { class: 'd-section-title' }, t(titleKey)), ...children);
}

function fact(labelKey, value) {
  if (value === null || value === undefined || value === '') return null;
  return [h('dt', null, t(labelKey)), h('dd', null, value)];
}

function closeButton() {
  return h('button', { type: 'button', class: 'icon-btn d-close', title: t('common.close'), 'aria-label': t('common.close'), onclick: () => closeDetail() }, '×');
}

function backButton() {
  if (!back.length) return null;
  return h('button', { type: 'button', class: 'link-btn d-back', onclick: goBack }, `← ${t('common.back')}`);
}

function healthBadge(health) {
  return h('span', { class: `badge health-${health || 'unknown'}` }, t(`health.${health || 'unknown'}`));
}

function stateBadge(st) {
  return h('span', { class: `badge sstate-${st || 'unknown'}` }, t(`sensor_state.${st || 'unknown'}`));
}

function sensorValue(s) {
  if (s.value === null || s.value === undefined) return '—';
  return `${fmtNumber(s.value, 2)}${s.unit ? ` ${s.unit}` : ''}`;
}

/** A snapshot <img> with a translated placeholder when the camera has none (404) or fails.
 *  ``live``: show the MJPEG live view instead of refreshed snapshots. */
function snapshot(cameraId, cls = 'snap', live = false) {
  const wrap = h('div', { class: `${cls} loading` });
  const img = h('img', { alt: t('camera.snapshot_alt', { name: displayName(state.cameras.get(cameraId)) || cameraId }), decoding: 'async' });
  const placeholder = h('div', { class: 'snap-placeholder' }, h('span', { class: 'snap-icon', 'aria-hidden': 'true' }), t('camera.no_snapshot'));
  img.addEventListener('load', () => {
    wrap.classList.remove('loading', 'missing');
  });
  img.addEventListener('error', () => {
    wrap.classList.remove('loading');
    wrap.classList.add('missing');
  });
  wrap.append(img, placeholder);
  if (state.cameras.get(cameraId)?.has_video === false) {
    wrap.classList.remove('loading');
    wrap.classList.add('missing');
    return { el: wrap, refresh: () => {} };
  }
  if (live) {
    img.dataset.live = '1';
    img.src = liveViewUrl(state.mid, cameraId);
    return { el: wrap, refresh: () => {} };
  }
  const refresh = () => {
    const next = new Image();
    next.onload = () => {
      img.src = next.src;
    };
    next.onerror = () => {
      wrap.classList.remove('loading');
      wrap.classList.add('missing');
    };
    next.src = snapshotUrl(state.mid, cameraId, Date.now());
  };
  img.src = snapshotUrl(state.mid, cameraId, Date.now());
  return { el: wrap, refresh };
}

function openIn(kind, id) {
  if (current) back.push({ kind: current.kind, id: current.id });
  if (back.length > 10) back.shift();
  open(kind, id, { keepBack: true, fly: true });
}

function goBack() {
  const prev = back.pop();
  if (prev) open(prev.kind, prev.id, { keepBack: true, fly: true });
}

// --- incident

async function runAction(inc, action) {
  let payload = { note: null };
  if (action.key === 'cancel') {
    const reason = await askCancelReason();
    if (!reason) return;
    payload = { reason };
  }
  await post(inc.id, `/${action.path}`, payload, t(`action.done.${action.key}`));
}

async function post(id, suffix, payload, okMessage) {
  try {
    const detail = await postJSON(mpath(state.mid, `/incidents/${id}${suffix}`), payload);
    if (detail && detail.id !== undefined) {
      applyIncident(summaryOf(detail));
      if (current && current.kind === 'incident' && current.id === id) renderIncident(detail);
    }
    if (okMessage) toast(okMessage, 'ok', 2500);
    return detail;
  } catch (err) {
    toast(apiErrorMessage(err), 'error', 7000);
    return null;
  }
}

/** Acknowledge an incident (keyboard `a`), whether or not its details are open. */
export async function acknowledge(id) {
  const inc = state.incidents.get(id);
  if (!inc) return;
  const action = ACTIONS[0];
  if (!actionAllowed(action, inc)) {
    toast(t('action.not_allowed', { action: t('action.acknowledge'), status: t(`status.${inc.status}`) }), 'warn');
    return;
  }
  await post(id, '/acknowledge', { note: null }, t('action.done.acknowledge'));
}

function actionsBlock(inc) {
  const buttons = ACTIONS.map((action) => {
    const allowed = actionAllowed(action, inc);
    const blocked = allowed && action.needsAgency && !inc.assigned_agency;
    const btn = h(
      'button',
      {
        type: 'button',
        class: `btn ${action.cls || ''}`,
        disabled: !allowed || blocked,
        title: blocked ? t('action.needs_agency') : allowed ? t(`action.hint.${action.key}`) : t('action.not_now'),
        dataset: { action: action.key },
      },
      t(`action.${action.key}`),
    );
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      await runAction(inc, action);
      if (btn.isConnected) btn.disabled = false;
    });
    return btn;
  });
  const canAssign = OPEN_STATUSES.has(inc.status);
  const agencies = [...state.agencies.values()].sort((a, b) => displayName(a).localeCompare(displayName(b)));
  const preselect = inc.assigned_agency || inc.proposed_agency || '';
  const select = h(
    'select',
    { id: 'assign-agency', disabled: !canAssign },
    h('option', { value: '' }, t('incident.choose_agency')),
    ...agencies.map((a) =>
      h('option', { value: a.id, selected: a.id === preselect }, `${displayName(a)}${a.id === inc.proposed_agency ? ` · ${t('incident.proposed')}` : ''}`),
    ),
  );
  const assignBtn = h('button', { type: 'button', class: 'btn', disabled: !canAssign || !preselect, dataset: { action: 'assign' } }, t('action.assign'));
  select.addEventListener('change', () => {
    assignBtn.disabled = !select.value;
  });
  assignBtn.addEventListener('click', async () => {
    if (!select.value) return;
    assignBtn.disabled = true;
    await post(inc.id, '/assign', { agency: select.value, note: null }, t('action.done.assign', { agency: agencyLabel(select.value) }));
    if (assignBtn.isConnected) assignBtn.disabled = false;
  });
  return h(
    'section',
    { class: 'd-section d-actions' },
    h('div', { class: 'action-grid' }, ...buttons),
    h('div', { class: 'assign-row' }, h('label', { class: 'visually-hidden', for: 'assign-agency' }, t('incident.assign_agency')), select, assignBtn),
  );
}

function sopBlock(inc, sop) {
  if (!sop || !sop.steps || !sop.steps.length) return section('incident.sop', h('p', { class: 'muted' }, t('incident.no_sop')));
  const lang = document.documentElement.lang;
  const title = lang !== 'en' && sop.title_local ? sop.title_local : sop.title;
  const done = sop.steps.filter((s) => s.done).length;
  const list = h('ol', { class: 'sop' });
  for (const step of sop.steps) {
    const id = `sop-${inc.id}-${step.id}`;
    const box = h('input', { type: 'checkbox', id, checked: Boolean(step.done), disabled: !isOpenIncident(inc) });
    box.addEventListener('change', async () => {
      box.disabled = true;
      const res = await post(inc.id, `/sop/${encodeURIComponent(step.id)}`, { done: box.checked }, null);
      if (!res && box.isConnected) {
        box.checked = !box.checked;
        box.disabled = false;
      }
    });
    const text = lang !== 'en' && step.text_local ? step.text_local : step.text;
    list.appendChild(
      h(
        'li',
        { class: step.done ? 'done' : '' },
        box,
        h(
          'label',
          { for: id },
          h('span', { class: 'sop-text' }, text),
          step.agency ? h('span', { class: 'sop-agency' }, agencyLabel(step.agency)) : null,
          step.done && (step.done_by || step.done_at)
            ? h('span', { class: 'sop-done' }, t('incident.sop_done_by', { who: step.done_by || '—', at: step.done_at ? fmtDateTime(step.done_at) : '—' }))
            : null,
        ),
      ),
    );
  }
  return h(
    'section',
    { class: 'd-section' },
    h('h3', { class: 'd-section-title' }, t('incident.sop'), h('span', { class: 'count-badge' }, `${done}/${sop.steps.length}`)),
    title ? h('p', { class: 'sop-title' }, title) : null,
    list,
  );
}

function camerasBlock(detail) {
  const cams = (detail.cameras || []).slice().sort((a, b) => a.distance_m - b.distance_m);
  if (!cams.length) return section('incident.cameras', h('p', { class: 'muted' }, t('incident.no_cameras')));
  const grid = h('div', { class: 'cam-grid' });
  const refreshers = [];
  for (const ref of cams.slice(0, 6)) {
    const cam = state.cameras.get(ref.camera_id) || { id: ref.camera_id, health: 'unknown' };
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
          healthBadge(cam.health),
          h('span', { class: 'muted' }, t('camera.distance_dir', { distance: fmtDistance(ref.distance_m), dir: t(`compass.${compassKey(ref.bearing_deg || 0)}`) })),
        ),
      ),
    );
  }
  current.timers.push(setInterval(() => refreshers.forEach((r) => r()), SNAPSHOT_REFRESH_MS));
  return section('incident.cameras', grid, cams.length > 6 ? h('p', { class: 'muted' }, t('incident.more_cameras', { n: cams.length - 6 })) : null);
}

function nearbySensors(lat, lon, preferred = new Set()) {
  const list = [];
  for (const s of state.sensors.values()) {
    if (!s.position) continue;
    const d = distanceM(lat, lon, s.position.lat, s.position.lon);
    if (d <= NEARBY_SENSOR_M || preferred.has(s.id)) list.push({ s, d, pref: preferred.has(s.id) });
  }
  list.sort((a, b) => (b.pref - a.pref) || (b.s.state === 'alarm') - (a.s.state === 'alarm') || a.d - b.d);
  return list;
}

function sensorsBlock(list, titleKey) {
  if (!list.length) return { el: section(titleKey, h('p', { class: 'muted' }, t('incident.no_sensors'))), pending: [] };
  const wrap = h('div', { class: 'sensor-list' });
  const pending = [];
  for (const { s, d } of list.slice(0, MAX_SENSOR_CHARTS)) {
    const chart = h('div', { class: 'chart' });
    wrap.appendChild(
      h(
        'div',
        { class: `sensor-card sstate-${s.state || 'unknown'}`, dataset: { sensor: s.id } },
        h(
          'div',
          { class: 'sensor-card-head' },
          h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('sensor', s.id) }, displayName(s)),
          h('span', { class: 'sensor-val', dataset: { sensorValue: s.id } }, sensorValue(s)),
          stateBadge(s.state),
          h('span', { class: 'muted' }, fmtDistance(d)),
        ),
        chart,
      ),
    );
    pending.push([chart, s]);
  }
  const extra = list.length > MAX_SENSOR_CHARTS ? h('p', { class: 'muted' }, t('incident.more_sensors', { n: list.length - MAX_SENSOR_CHARTS })) : null;
  return { el: section(titleKey, wrap, extra), pending };
}

function startCharts(pending, tok) {
  for (const [el, s] of pending) {
    sensorChart(el, s).then((handle) => {
      if (current && current.token === tok) current.charts.push(handle);
      else if (handle) handle.destroy();
    });
  }
}

function timelineBlock(detail) {
  const entries = (detail.timeline || []).slice().sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  if (!entries.length) return section('incident.timeline', h('p', { class: 'muted' }, t('incident.no_timeline')));
  return section(
    'incident.timeline',
    h(
      'ol',
      { class: 'timeline' },
      ...entries.map((e) =>
        h(
          'li',
          { class: `tl tl-${e.kind}`, dataset: { testid: 'timeline-entry', kind: e.kind, to: e.to_status || '' } },
          h('time', { datetime: e.at }, fmtDateTime(e.at)),
          h(
            'div',
            { class: 'tl-body' },
            h('span', { class: 'tl-kind' }, tMaybe(`timeline.${e.kind}`, e.kind)),
            e.from_status || e.to_status
              ? h('span', { class: 'tl-move' }, e.from_status ? t(`status.${e.from_status}`) : '', ' → ', e.to_status ? t(`status.${e.to_status}`) : '')
              : null,
            e.actor ? h('span', { class: 'tl-actor' }, e.actor) : null,
            e.text ? h('p', { class: 'tl-text' }, e.text) : null,
          ),
        ),
      ),
    ),
  );
}

function eventsBlock(detail) {
  const events = (detail.events || []).slice().sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts));
  if (!events.length) return null;
  return section(
    'incident.events',
    h(
      'table',
      { class: 'events' },
      h('thead', null, h('tr', null, h('th', null, t('event.time')), h('th', null, t('event.kind')), h('th', null, t('event.source')), h('th', null, t('event.zone')))),
      h(
        'tbody',
        null,
        ...events.slice(0, 25).map((ev) =>
          h('tr', null, h('td', null, fmtDateTime(ev.ts)), h('td', null, tMaybe(`event_kind.${ev.kind}`, ev.kind)), h('td', null, ev.source_id || '—'), h('td', null, ev.zone || '—')),
        ),
      ),
    ),
  );
}

function noteBlock(inc) {
  const text = h('textarea', { id: 'note-text', rows: 2, maxlength: 2000, placeholder: t('incident.note_placeholder') });
  const btn = h('button', { type: 'button', class: 'btn', disabled: true }, t('action.add_note'));
  text.addEventListener('input', () => {
    btn.disabled = !text.value.trim();
  });
  const submit = async () => {
    const value = text.value.trim();
    if (!value) return;
    btn.disabled = true;
    text.value = ''; // the reply re-renders the panel, which keeps unsent text only
    const res = await post(inc.id, '/notes', { text: value }, t('action.done.note'));
    if (!res && text.isConnected) {
      text.value = value;
      btn.disabled = false;
    }
  };
  btn.addEventListener('click', submit);
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      submit();
    }
  });
  return h('section', { class: 'd-section' }, h('label', { class: 'd-section-title', for: 'note-text' }, t('incident.add_note')), text, h('div', { class: 'note-actions' }, h('span', { class: 'muted' }, t('incident.note_hint')), btn));
}

function incidentHead(inc) {
  const created = Date.parse(inc.created_at);
  const loc = inc.location ? `${inc.location.lat.toFixed(5)}, ${inc.location.lon.toFixed(5)}` : t('incident.no_location');
  return h(
    'div',
    { class: 'd-head', dataset: { testid: 'incident-head', incidentId: inc.id, status: inc.status } },
    h(
      'div',
      { class: 'd-kicker' },
      backButton(),
      h('span', { class: `sev-badge sev-${inc.severity}` }, t(`severity.${inc.severity}`)),
      h('span', { class: `chip status st-${inc.status}`, dataset: { testid: 'incident-status' } }, t(`status.${inc.status}`)),
      h('span', { class: 'muted' }, t('incident.number', { id: inc.id })),
      closeButton(),
    ),
    h('h2', { class: 'd-title', id: 'detail-title', tabindex: '-1' }, incidentTitle(inc) || incidentTypeLabel(inc)),
    h(
      'dl',
      { class: 'facts' },
      fact('incident.type', incidentTypeLabel(inc)),
      fact('incident.sector', t(`sector.${inc.sector}`)),
      fact('incident.created', `${fmtDateTime(inc.created_at)} · ${t('age.ago', { age: fmtAge(Date.now() - created) })}`),
      fact('incident.updated', fmtDateTime(inc.updated_at)),
      fact('incident.location', loc),
      fact('incident.proposed_agency', agencyLabel(inc.proposed_agency)),
      fact('incident.assigned_agency', inc.assigned_agency ? agencyLabel(inc.assigned_agency) : t('incident.unassigned')),
      fact('incident.rule', inc.rule_id),
      fact('incident.event_count', String(inc.event_count ?? 0)),
    ),
  );
}

function restoreInputs(kept) {
  const note = document.getElementById('note-text');
  if (note && kept.note) {
    note.value = kept.note;
    note.dispatchEvent(new Event('input'));
  }
  if (note && kept.focused) note.focus({ preventScroll: true });
  const agency = document.getElementById('assign-agency');
  if (agency && kept.agency && !agency.disabled) {
    agency.value = kept.agency;
    agency.dispatchEvent(new Event('change'));
  }
}

function renderIncident(detail) {
  if (!current || current.kind !== 'incident') return;
  const same = current.detail && current.detail.id === detail.id;
  const keepScroll = same ? body().scrollTop : 0;
  // a live update re-renders the panel: keep what the operator was typing or choosing
  const noteEl = document.getElementById('note-text');
  const kept = same && noteEl
    ? { note: noteEl.value, focused: document.activeElement === noteEl, agency: document.getElementById('assign-agency')?.value }
    : null;
  teardown();
  current.detail = detail;
  current.token = ++token;
  const inc = { ...(state.incidents.get(detail.id) || {}), ...summaryOf(detail) };
  const parts = [incidentHead(inc), actionsBlock(inc), sopBlock(inc, detail.sop), camerasBlock(detail)];
  let pending = [];
  if (inc.location) {
    const preferred = new Set((detail.events || []).map((e) => e.source_id).filter(Boolean));
    const block = sensorsBlock(nearbySensors(inc.location.lat, inc.location.lon, preferred), 'incident.sensors');
    parts.push(block.el);
    pending = block.pending;
  }
  parts.push(noteBlock(inc), timelineBlock(detail), eventsBlock(detail));
  setBody(...parts);
  if (kept) restoreInputs(kept);
  body().scrollTop = keepScroll;
  startCharts(pending, current.token);
}

async function loadIncident(id, tok) {
  try {
    const detail = await getJSON(mpath(state.mid, `/incidents/${id}`));
    if (!current || current.token !== tok || current.kind !== 'incident' || current.id !== id) return;
    applyIncident(summaryOf(detail));
    renderIncident(detail);
  } catch (err) {
    if (current && current.token === tok) {
      setBody(h('div', { class: 'd-head' }, h('div', { class: 'd-kicker' }, backButton(), closeButton())), h('p', { class: 'error' }, apiErrorMessage(err)));
    }
  }
}

// --- camera, sensor, key object

function renderCamera(cam) {
  const snap = snapshot(cam.id, 'snap snap-large', true);
  current.timers.push(setInterval(snap.refresh, SNAPSHOT_REFRESH_MS));
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
    objects.length ? section('camera.key_objects_in_view', h('ul', { class: 'plain-list' }, ...objects.map((ko) => h('li', null, h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('key_object', ko.id) }, displayName(ko)))))) : null,
  );
}

function incidentsList(list, titleKey) {
  if (!list.length) return section(titleKey, h('p', { class: 'muted' }, t('incident.none_nearby')));
  const shown = list.slice(0, MAX_LISTED);
  return section(
    titleKey,
    h(
      'ul',
      { class: 'plain-list inc-list' },
      ...shown.map((inc) =>
        h(
          'li',
          null,
          h('span', { class: `sev-dot sev-${inc.severity}`, 'aria-hidden': 'true' }),
          h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('incident', inc.id) }, incidentTitle(inc) || incidentTypeLabel(inc)),
          h('span', { class: `chip status st-${inc.status}` }, t(`status.${inc.status}`)),
        ),
      ),
    ),
    list.length > shown.length ? h('p', { class: 'muted' }, t('incident.more_incidents', { n: list.length - shown.length })) : null,
  );
}

function nearbyIncidents(lat, lon, radius) {
  return [...state.incidents.values()]
    .filter((inc) => isOpenIncident(inc) && inc.location && distanceM(lat, lon, inc.location.lat, inc.location.lon) <= radius)
    .sort(compareIncidents);
}

function renderSensor(s) {
  const chart = h('div', { class: 'chart' });
  const thresholds = (s.thresholds || []).map((th) =>
    h('li', null, t(th.op === 'below' ? 'chart.below' : 'chart.above', { value: fmtNumber(th.value, 2), unit: s.unit || '' }), th.rule_id ? h('span', { class: 'muted' }, ` · ${th.rule_id}`) : null),
  );
  setBody(
    h(
      'div',
      { class: 'd-head' },
      h('div', { class: 'd-kicker' }, backButton(), h('span', { class: 'kind-label' }, t('sensor.title')), stateBadge(s.state), closeButton()),
      h('h2', { class: 'd-title', id: 'detail-title', tabindex: '-1' }, displayName(s)),
    ),
    h('div', { class: `big-value sstate-${s.state || 'unknown'}`, dataset: { sensorValue: s.id } }, sensorValue(s)),
    h(
      'dl',
      { class: 'facts' },
      fact('sensor.id', s.id),
      fact('sensor.kind', tMaybe(`sensor_kind.${s.kind}`, s.kind)),
      fact('sensor.last_reading', s.ts ? `${fmtDateTime(s.ts)} · ${t('age.ago', { age: fmtAge(Date.now() - Date.parse(s.ts)) })}` : t('sensor.never')),
      fact('sensor.valid_range', s.valid_min !== null && s.valid_min !== undefined && s.valid_max !== null && s.valid_max !== undefined ? `${fmtNumber(s.valid_min, 2)} … ${fmtNumber(s.valid_max, 2)} ${s.unit || ''}` : null),
    ),
    h('section', { class: 'd-section' }, h('h3', { class: 'd-section-title' }, t('sensor.last_hours', { hours: 6 })), chart, thresholds.length ? h('ul', { class: 'thresholds' }, ...thresholds) : null),
    s.position ? incidentsList(nearbyIncidents(s.position.lat, s.position.lon, NEARBY_SENSOR_M), 'sensor.incidents_nearby') : null,
  );
  startCharts([[chart, s]], current.token);
}

function renderKeyObject(ko) {
  const importance = Object.entries(ko.importance || {});
  const cams = ko.position ? [...state.cameras.values()].filter((c) => cameraSees(c, ko.position.lat, ko.position.lon)) : [];
  const sensors = ko.position ? nearbySensors(ko.position.lat, ko.position.lon) : [];
  setBody(
    h(
      'div',
      { class: 'd-head' },
      h('div', { class: 'd-kicker' }, backButton(), h('span', { class: 'kind-label' }, tMaybe(`key_kind.${ko.kind}`, ko.kind)), closeButton()),
      h('h2', { class: 'd-title', id: 'detail-title', tabindex: '-1' }, displayName(ko)),
    ),
    h(
      'dl',
      { class: 'facts' },
      fact('key_object.id', ko.id),
      fact('key_object.kind', tMaybe(`key_kind.${ko.kind}`, ko.kind)),
      ...importance.map(([k, v]) => [h('dt', null, tMaybe(`importance.${k}`, k)), h('dd', null, typeof v === 'boolean' ? t(v ? 'common.yes' : 'common.no') : typeof v === 'number' ? fmtNumber(v, 2) : String(v))]),
    ),
    section(
      'key_object.cameras',
      cams.length
        ? h('ul', { class: 'plain-list' }, ...cams.map((c) => h('li', null, h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('camera', c.id) }, displayName(c)), healthBadge(c.health))))
        : h('p', { class: 'muted' }, t('key_object.no_cameras')),
    ),
    section(
      'key_object.sensors',
      sensors.length
        ? h('ul', { class: 'plain-list' }, ...sensors.slice(0, 8).map(({ s, d }) => h('li', null, h('button', { type: 'button', class: 'link-btn', onclick: () => openIn('sensor', s.id) }, displayName(s)), h('span', { class: 'sensor-val', dataset: { sensorValue: s.id } }, sensorValue(s)), stateBadge(s.state), h('span', { class: 'muted' }, fmtDistance(d)))))
        : h('p', { class: 'muted' }, t('incident.no_sensors')),
    ),
    ko.position ? incidentsList(nearbyIncidents(ko.position.lat, ko.position.lon, NEARBY_SENSOR_M), 'key_object.incidents_nearby') : null,
  );
}

// --- situation summary (nothing open)

function renderSummary() {
  if (current) return;
  const open = [...state.incidents.values()].filter(isOpenIncident);
  const bySev = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  let fresh = 0;
  for (const inc of open) {
    bySev[inc.severity] = (bySev[inc.severity] || 0) + 1;
    if (inc.status === 'new') fresh += 1;
  }
  let alarms = 0;
  let sensorsOffline = 0;
  for (const s of state.sensors.values()) {
    if (s.state === 'alarm') alarms += 1;
    else if (s.state === 'offline') sensorsOffline += 1;
  }
  let camsDown = 0;
  for (const c of state.cameras.values()) if (c.health === 'offline' || c.health === 'tampered') camsDown += 1;
  const tile = (value, key, cls = '') => h('div', { class: `sum-tile ${cls}` }, h('span', { class: 'sum-value' }, String(value)), h('span', { class: 'sum-label' }, t(key)));
  setBody(
    h('div', { class: 'd-head' }, h('h2', { class: 'd-title' }, t('summary.title'))),
    h('div', { class: 'sum-grid' }, ...SEVERITIES.map((s) => tile(bySev[s], `severity.${s}`, `sev-${s}`))),
    h('div', { class: 'sum-grid pairs' }, tile(fresh, 'summary.unacknowledged', fresh ? 'attention' : ''), tile(alarms, 'summary.sensor_alarms', alarms ? 'attention' : ''), tile(sensorsOffline, 'summary.sensors_offline'), tile(camsDown, 'summary.cameras_down')),
    h('p', { class: 'hint' }, t('summary.hint')),
    h('p', { class: 'hint' }, t('summary.keys')),
  );
}

// --- open / close

export function open(kind, id, { keepBack = false, fly = false } = {}) {
  teardown();
  if (!keepBack) back.length = 0;
  current = { kind, id, detail: null, charts: [], timers: [], token: ++token };
  state.detail = { kind, id };
  emit('detail-opened', { kind, id, fly });
  document.getElementById('details').classList.add('open');
  if (kind === 'incident') {
    const inc = state.incidents.get(id);
    setBody(
      inc ? incidentHead(inc) : h('div', { class: 'd-head' }, h('div', { class: 'd-kicker' }, backButton(), closeButton())),
      h('p', { class: 'muted loading-line' }, t('common.loading')),
    );
    loadIncident(id, current.token);
  } else if (kind === 'camera') {
    const cam = state.cameras.get(id);
    if (cam) renderCamera(cam);
  } else if (kind === 'sensor') {
    const s = state.sensors.get(id);
    if (s) renderSensor(s);
  } else if (kind === 'key_object') {
    const ko = state.keyObjects.get(id);
    if (ko) renderKeyObject(ko);
  }
  body().scrollTop = 0;
}

export function closeDetail() {
  teardown();
  current = null;
  back.length = 0;
  state.detail = null;
  document.getElementById('details').classList.remove('open');
  emit('close-detail');
  renderSummary();
}

export function isDetailOpen() {
  return current !== null;
}

export function focusDetail() {
  const title = document.getElementById('detail-title');
  if (title) title.focus();
}

export function initDetails() {
  on('open-detail', (d) => {
    open(d.kind, d.id, { keepBack: false, fly: Boolean(d.fly) });
    if (d.focus) requestAnimationFrame(focusDetail);
  });
  on('incidents', (d) => {
    if (!current) {
      schedule('summary', renderSummary);
      return;
    }
    if (current.kind !== 'incident') return;
    const touched = (d && d.all) || (d && d.ids && d.ids.includes(current.id));
    if (!touched) return;
    const inc = state.incidents.get(current.id);
    if (current.detail && inc && inc.updated_at === current.detail.updated_at) return;
    clearTimeout(refetchTimer);
    const tok = current.token;
    const id = current.id;
    refetchTimer = setTimeout(() => {
      if (current && current.token === tok) loadIncident(id, tok);
    }, 300);
  });
  on('sensors', (d) => {
    if (!current) {
      schedule('summary', renderSummary);
      return;
    }
    if (d && d.readings) {
      for (const r of d.readings) {
        for (const c of current.charts) if (c && c.sensorId === r.id) c.append(r.ts, r.value);
      }
    }
    if (d && d.ids) {
      schedule('detail-sensors', () => {
        for (const el of body().querySelectorAll('[data-sensor-value]')) {
          const s = state.sensors.get(el.dataset.sensorValue);
          if (s) el.textContent = sensorValue(s);
        }
      });
    }
  });
  on('cameras', () => {
    if (!current) schedule('summary', renderSummary);
  });
  on('lang', () => {
    if (!current) renderSummary();
    else if (current.kind === 'incident' && current.detail) renderIncident(current.detail);
    else open(current.kind, current.id, { keepBack: true, fly: false });
  });
  renderSummary();
}
