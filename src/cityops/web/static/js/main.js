// @ts-check
// Console entry point: session, configuration, views, keyboard, live feed (the header: header.js).

import { can, viewsFor, visibleMunicipalities } from './access.js';
import { initAudit, setAuditActive } from './audit.js';
import { loadConfig, loadMunicipality, refetchLive } from './data.js';
import { incidentLinkOf } from './deeplink.js';
import { acknowledge, closeDetail, focusDetail, initDetails, isDetailOpen } from './details.js';
import { byId, byIdAs, isTyping } from './dom.js';
import { initHealth } from './health-banner.js';
import { showConnection, showLanguageButtons, showMunicipalityName, showSound, switchLanguage, tickClock } from './header.js';
import { getLanguage, setLanguage, setTimeZone, storedLanguage, t } from './i18n.js';
import { connectLive, disconnectLive } from './live.js';
import { focusMap, initMap, invalidate, sensorOnMap, sensorsOnMap, settleView, showMunicipality } from './map.js';
import { mapPoint } from './map/point_shares.js';
import { initOverview, setOverviewActive } from './overview.js';
import { initPersonsRegistry, setPersonsActive } from './persons/view.js';
import { initQueue, moveSelection, openSelected, select } from './queue.js';
import { setSound, soundEnabled } from './sound.js';
import { ensureSession, initSession, loginShown, showUser } from './session.js';
import { emit, on, schedule, setMunicipality, setView, state } from './state.js';
import { toast } from './ui.js';
import { initWall, setWallActive } from './wall.js';

const MUNI_KEY = 'cityops.municipality';
/** @type {readonly import('./types').View[]} */
const VIEWS = ['ops', 'wall', 'overview', 'audit', 'persons'];

// --- views

/** @param {string | undefined} name */
function showView(name) {
  const view = viewsFor(state.me, state.mid).find((v) => v === name);
  if (!view) return;
  setView(view);
  for (const v of VIEWS) {
    byId(`view-${v}`).hidden = v !== view;
    const tab = byId(`tab-${v}`);
    tab.setAttribute('aria-selected', String(v === view));
    tab.tabIndex = v === view ? 0 : -1;
  }
  setWallActive(view === 'wall');
  setOverviewActive(view === 'overview');
  setAuditActive(view === 'audit');
  setPersonsActive(view === 'persons');
  if (view === 'ops') requestAnimationFrame(invalidate);
}

/** The tabs the account's role in this municipality has; off a view it may not see. */
function applyAccess() {
  showUser();
  const views = viewsFor(state.me, state.mid);
  for (const v of VIEWS) byId(`tab-${v}`).hidden = !views.includes(v);
  document.body.dataset.role = (state.me && state.me.memberships.find((m) => m.municipality === state.mid)?.role) || '';
  if (!views.includes(state.view) || byId(`view-${state.view}`).hidden) showView(views[0]);
}

function initTabs() {
  const tabs = [...document.querySelectorAll('.tab')].filter((el) => el instanceof HTMLElement);
  const shown = () => tabs.filter((tab) => !tab.hidden);
  for (const tab of tabs) {
    tab.addEventListener('click', () => showView(tab.dataset.view));
    tab.addEventListener('keydown', (ev) => {
      if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
      ev.preventDefault();
      const visible = shown();
      const i = visible.indexOf(tab);
      const next = visible[(i + (ev.key === 'ArrowRight' ? 1 : visible.length - 1)) % visible.length];
      if (!next) return;
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

/** @param {KeyboardEvent} ev */
function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || dialogOpen() || loginShown()) return;
  const target = ev.target;
  if (isTyping(target)) {
    if (ev.key === 'Escape' && target instanceof HTMLElement) target.blur();
    return;
  }
  const inMap = target instanceof Element && target.closest('#map');
  const onControl = target instanceof Element && target.closest('button, a, summary, [role="tab"]');
  const key = ev.key;
  switch (key) {
    case '?':
      ev.preventDefault();
      byIdAs('dlg-help', HTMLDialogElement).showModal();
      return;
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
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
        byId('queue-list').focus();
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
      const id = state.selectedId ?? (state.detail && state.detail.kind === 'incident' ? Number(state.detail.id) : null);
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

/** @param {string | null} mid */
async function chooseMunicipality(mid) {
  const list = visibleMunicipalities(state.me, (state.config && state.config.municipalities) || []);
  const muni = list.find((m) => m.id === mid) || list[0];
  if (!muni) {
    // an account without an active membership sees nothing (an installation admin included)
    const member = state.me && state.me.memberships.length > 0;
    toast(t(member ? 'error.no_municipality' : 'error.no_membership'), 'error', 20000);
    applyAccess();
    return;
  }
  setMunicipality(muni);
  localStorage.setItem(MUNI_KEY, muni.id);
  setTimeZone(muni.timezone || 'Europe/Sofia');
  showMunicipalityName();
  tickClock();
  if (isDetailOpen()) closeDetail();
  applyAccess();
  if (!can(state.me, muni.id, 'incidents.read')) {
    // an auditor: no incidents, sources or live feed here, only the audit view
    disconnectLive();
    markReady();
    return;
  }
  const loading = loadMunicipality(muni.id).catch((err) => {
    console.error(err);
    toast(t('error.load'), 'error', 10000);
  });
  await Promise.all([loading, showMunicipality(muni)]);
  settleView();
  connectLive(muni.id);
  markReady();
}

/** Signed in again after the session ended: the same place, its data and live feed afresh. */
function resume() {
  applyAccess();
  const mid = state.mid;
  if (!mid || !can(state.me, mid, 'incidents.read')) return;
  refetchLive().catch((err) => console.warn('resume', err));
  connectLive(mid);
}

// --- links into the console

/**
 * `#/m/<mid>/incidents/<id>` (the dispatch e-mail's link): that municipality, the operations
 * view and the incident's panel; then the hash is cleared (a reload does not open it again).
 * @param {{mid: string, id: number}} link
 */
async function openLink(link) {
  history.replaceState(null, '', location.pathname + location.search);
  if (link.mid !== state.mid) {
    const visible = visibleMunicipalities(state.me, (state.config && state.config.municipalities) || []);
    if (!visible.some((m) => m.id === link.mid)) {
      toast(t('error.link_municipality', { municipality: link.mid }), 'warn', 10000);
      return;
    }
    byIdAs('muni-select', HTMLSelectElement).value = link.mid;
    await chooseMunicipality(link.mid);
  }
  if (state.mid !== link.mid || !can(state.me, link.mid, 'incidents.read')) return;
  showView('ops');
  if (state.incidents.has(link.id)) select(link.id);
  emit('open-detail', { kind: 'incident', id: link.id, fly: true });
}

function onHashChange() {
  const link = incidentLinkOf(location.hash);
  if (link && state.me && state.config) openLink(link).catch((err) => console.warn('link', err));
}

// --- for tests and benchmarks

/**
 * Once the first municipality's queue and map are drawn: performance mark `cityops:ready` and
 * window.__cityopsReady (ms since navigation start). The queue and map render in the frame
 * scheduled by the data load; the canvas layers paint in the frame after it.
 */
function markReady() {
  const w = /** @type {Window & {__cityopsReady?: number}} */ (window);
  if (w.__cityopsReady !== undefined) return;
  schedule('ready', () => {
    requestAnimationFrame(() => {
      if (w.__cityopsReady !== undefined) return;
      performance.mark('cityops:ready');
      w.__cityopsReady = performance.now();
      document.documentElement.dataset.ready = 'true';
    });
  });
}

/** Read-only hooks for tests and benchmarks. */
/** @type {any} */ (window).__cityops = { sensorOnMap, sensorsOnMap, mapPoint };

async function start() {
  // the configuration is asked for at once, beside the language and the session (two round
  // trips fewer before the first render); without a session it is refused (a 401 shows only the
  // login screen the session check shows anyway) and asked for again once signed in
  const early = loadConfig().catch(() => null);
  const link = incidentLinkOf(location.hash);
  await setLanguage(storedLanguage() || 'bg', { remember: false });
  showLanguageButtons();
  initSession({ ended: disconnectLive });
  initTabs();
  initQueue();
  initMap();
  initDetails();
  initWall();
  initOverview();
  initAudit();
  initPersonsRegistry();
  initHealth();
  showSound();
  showConnection('connecting');
  on('connection', showConnection);
  on('select-incident', (id) => select(id));

  for (const b of document.querySelectorAll('.lang-btn, .login-lang-btn')) {
    if (b instanceof HTMLElement) b.addEventListener('click', () => switchLanguage(b.dataset.lang || 'en'));
  }
  byId('btn-sound').addEventListener('click', () => {
    setSound(!soundEnabled());
    showSound();
  });
  byId('btn-help').addEventListener('click', () => byIdAs('dlg-help', HTMLDialogElement).showModal());
  const muniSelect = byIdAs('muni-select', HTMLSelectElement);
  muniSelect.addEventListener('change', () => chooseMunicipality(muniSelect.value));
  document.addEventListener('keydown', onKey);
  tickClock();
  setInterval(tickClock, 1000);
  await ensureSession();

  /** @type {import('./types').ConsoleConfig | null} */
  let config = await early;
  for (let attempt = 0; !config; attempt += 1) {
    try {
      config = await loadConfig();
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
  await chooseMunicipality(link ? link.mid : localStorage.getItem(MUNI_KEY));
  on('session', (me) => {
    if (me) resume();
  });
  window.addEventListener('hashchange', onHashChange);
  if (link) await openLink(link);
}

start().catch((err) => {
  console.error(err);
  toast(String(err), 'error', 20000);
});
