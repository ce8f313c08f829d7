// Console entry point: configuration, language, header, views, keyboard, live feed.

import { setOperatorProvider } from './api.js';
import { loadConfig, loadMunicipality } from './data.js';
import { acknowledge, closeDetail, focusDetail, initDetails, isDetailOpen } from './details.js';
import { isTyping } from './dom.js';
import { displayName, fmtDate, fmtTime, getLanguage, setLanguage, setTimeZone, storedLanguage, t } from './i18n.js';
import { connectLive } from './live.js';
import { focusMap, initMap, invalidate, sensorOnMap, sensorsOnMap, settleView, showMunicipality } from './map.js';
import { initOverview, setOverviewActive } from './overview.js';
import { initQueue, moveSelection, openSelected, select } from './queue.js';
import { setSound, soundEnabled } from './sound.js';
import { emit, on, schedule, state } from './state.js';
import { ensureOperator, getOperator, initOperator, askOperator, refreshOperatorLabel, toast } from './ui.js';
import { initWall, setWallActive } from './wall.js';

const MUNI_KEY = 'cityops.municipality';
const VIEWS = ['ops', 'wall', 'overview'];

// --- header

function tickClock() {
  const now = new Date();
  document.getElementById('clock-time').textContent = fmtTime(now);
  document.getElementById('clock-date').textContent = fmtDate(now);
}

function showConnection(value) {
  const el = document.getElementById('conn');
  el.dataset.state = value;
  const text = document.getElementById('conn-text');
  text.dataset.i18n = `conn.${value}`;
  text.textContent = t(`conn.${value}`);
}

function showSound() {
  const btn = document.getElementById('btn-sound');
  const onNow = soundEnabled();
  btn.setAttribute('aria-pressed', String(onNow));
  const label = document.getElementById('sound-label');
  label.dataset.i18n = onNow ? 'sound.on' : 'sound.off';
  label.textContent = t(label.dataset.i18n);
}

function showLanguageButtons() {
  for (const b of document.querySelectorAll('.lang-btn')) b.setAttribute('aria-pressed', String(b.dataset.lang === getLanguage()));
}

function showMunicipalityName() {
  const muni = state.municipality;
  document.getElementById('muni-name').textContent = muni ? displayName(muni) : '';
  const sel = document.getElementById('muni-select');
  const list = (state.config && state.config.municipalities) || [];
  sel.hidden = list.length < 2;
  document.getElementById('muni-name').hidden = list.length >= 2;
  if (list.length >= 2) {
    sel.replaceChildren(...list.map((m) => {
      const o = document.createElement('option');
      o.value = m.id;
      o.textContent = displayName(m);
      o.selected = m.id === state.mid;
      return o;
    }));
  }
  document.title = muni ? `${displayName(muni)} · ${t('app.title')}` : t('app.title');
}

async function switchLanguage(code) {
  await setLanguage(code);
  showLanguageButtons();
  showConnection(state.connection);
  showSound();
  showMunicipalityName();
  refreshOperatorLabel();
  tickClock();
  emit('lang', code);
}

// --- views

function showView(view) {
  if (!VIEWS.includes(view)) return;
  state.view = view;
  for (const v of VIEWS) {
    document.getElementById(`view-${v}`).hidden = v !== view;
    const tab = document.getElementById(`tab-${v}`);
    tab.setAttribute('aria-selected', String(v === view));
    tab.tabIndex = v === view ? 0 : -1;
  }
  setWallActive(view === 'wall');
  setOverviewActive(view === 'overview');
  if (view === 'ops') requestAnimationFrame(invalidate);
}

function initTabs() {
  const tabs = [...document.querySelectorAll('.tab')];
  for (const tab of tabs) {
    tab.addEventListener('click', () => showView(tab.dataset.view));
    tab.addEventListener('keydown', (ev) => {
      if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
      ev.preventDefault();
      const i = tabs.indexOf(tab);
      const next = tabs[(i + (ev.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      next.focus();
      showView(next.dataset.view);
    });
  }
  on('show-view', showView);
}

// --- keyboard

function dialogOpen() {
  return Boolean(document.querySelector('dialog[open]'));
}

function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || dialogOpen()) return;
  const target = ev.target;
  if (isTyping(target)) {
    if (ev.key === 'Escape') target.blur();
    return;
  }
  const inMap = target instanceof Element && target.closest('#map');
  const onControl = target instanceof Element && target.closest('button, a, summary, [role="tab"]');
  const key = ev.key;
  switch (key) {
    case '?':
      ev.preventDefault();
      document.getElementById('dlg-help').showModal();
      return;
    case '1':
    case '2':
    case '3':
      showView(VIEWS[Number(key) - 1]);
      return;
    case 'l':
      switchLanguage(getLanguage() === 'bg' ? 'en' : 'bg');
      return;
    case 's':
      setSound(!soundEnabled());
      showSound();
      return;
    case 'Escape':
      if (isDetailOpen()) {
        closeDetail();
        document.getElementById('queue-list').focus();
      }
      return;
    default:
      break;
  }
  if (state.view !== 'ops') return;
  switch (key) {
    case 'j':
    case 'ArrowDown':
      if (inMap && key === 'ArrowDown') return;
      ev.preventDefault();
      moveSelection(1);
      return;
    case 'k':
    case 'ArrowUp':
      if (inMap && key === 'ArrowUp') return;
      ev.preventDefault();
      moveSelection(-1);
      return;
    case 'Enter':
      if (onControl || inMap) return;
      ev.preventDefault();
      openSelected();
      requestAnimationFrame(focusDetail);
      return;
    case 'a': {
      const id = state.selectedId ?? (state.detail && state.detail.kind === 'incident' ? state.detail.id : null);
      if (id !== null) acknowledge(id);
      return;
    }
    case 'f':
      focusMap();
      return;
    default:
  }
}

// --- start

async function chooseMunicipality(mid) {
  const list = state.config.municipalities || [];
  const muni = list.find((m) => m.id === mid) || list[0];
  if (!muni) {
    toast(t('error.no_municipality'), 'error', 20000);
    return;
  }
  state.mid = muni.id;
  state.municipality = muni;
  state.selectedId = null;
  localStorage.setItem(MUNI_KEY, muni.id);
  setTimeZone(muni.timezone || 'Europe/Sofia');
  showMunicipalityName();
  tickClock();
  if (isDetailOpen()) closeDetail();
  const loading = loadMunicipality(muni.id).catch((err) => {
    console.error(err);
    toast(t('error.load'), 'error', 10000);
  });
  await Promise.all([loading, showMunicipality(muni)]);
  settleView();
  connectLive(muni.id);
  markReady();
}

// --- for tests and benchmarks

/**
 * Once the first municipality's queue and map are drawn: performance mark `cityops:ready` and
 * window.__cityopsReady (ms since navigation start). The queue and map render in the frame
 * scheduled by the data load; the canvas layers paint in the frame after it.
 */
function markReady() {
  if (window.__cityopsReady !== undefined) return;
  schedule('ready', () => {
    requestAnimationFrame(() => {
      if (window.__cityopsReady !== undefined) return;
      performance.mark('cityops:ready');
      window.__cityopsReady = performance.now();
      document.documentElement.dataset.ready = 'true';
    });
  });
}

/** Read-only hooks for tests and benchmarks. */
window.__cityops = { sensorOnMap, sensorsOnMap };

async function start() {
  await setLanguage(storedLanguage() || 'bg', { remember: false });
  showLanguageButtons();
  initOperator();
  setOperatorProvider(ensureOperator);
  initTabs();
  initQueue();
  initMap();
  initDetails();
  initWall();
  initOverview();
  showSound();
  showConnection('connecting');
  on('connection', showConnection);
  on('select-incident', (id) => select(id));

  for (const b of document.querySelectorAll('.lang-btn')) b.addEventListener('click', () => switchLanguage(b.dataset.lang));
  document.getElementById('btn-sound').addEventListener('click', () => {
    setSound(!soundEnabled());
    showSound();
  });
  document.getElementById('btn-help').addEventListener('click', () => document.getElementById('dlg-help').showModal());
  document.getElementById('muni-select').addEventListener('change', (ev) => chooseMunicipality(ev.target.value));
  document.addEventListener('keydown', onKey);
  tickClock();
  setInterval(tickClock, 1000);

  let config;
  for (let attempt = 0; ; attempt += 1) {
    try {
      config = await loadConfig();
      break;
    } catch (err) {
      console.warn('config', err);
      showConnection('offline');
      await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** attempt)));
    }
  }
  if (!storedLanguage() && config.default_language && config.default_language !== getLanguage()) {
    await switchLanguage(config.default_language);
    localStorage.removeItem('cityops.lang');
  }
  await chooseMunicipality(localStorage.getItem(MUNI_KEY));
  if (!getOperator()) askOperator();
}

start().catch((err) => {
  console.error(err);
  toast(String(err), 'error', 20000);
});
