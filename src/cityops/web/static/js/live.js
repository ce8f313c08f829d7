// Live feed: EventSource on /m/{mid}/live with reconnect backoff; lists are refetched after a
// reconnect so nothing missed while offline stays stale.

import { API_BASE, mpath } from './api.js';
import { applyCameraUpdate, applyIncident, applySensorUpdate, refetchLive } from './data.js';
import { emit, state } from './state.js';

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;

let source = null;
let timer = null;
let attempt = 0;
let connectedOnce = false;
let currentMid = null;

function setConnection(value) {
  state.connection = value;
  emit('connection', value);
}

function parse(ev) {
  try {
    return JSON.parse(ev.data);
  } catch {
    console.warn('live: bad event data', ev.type);
    return null;
  }
}

function open() {
  timer = null;
  const mid = currentMid;
  setConnection(connectedOnce ? 'reconnecting' : 'connecting');
  const es = new EventSource(API_BASE + mpath(mid, '/live'));
  source = es;
  es.onopen = () => {
    const reconnect = connectedOnce;
    connectedOnce = true;
    attempt = 0;
    setConnection('live');
    if (reconnect) {
      refetchLive().catch((err) => console.warn('live: refetch failed', err));
    }
  };
  es.onerror = () => {
    if (source !== es) return;
    es.close();
    source = null;
    const delay = Math.min(MAX_DELAY, MIN_DELAY * 2 ** attempt) * (0.6 + Math.random() * 0.4);
    attempt += 1;
    setConnection(attempt > 3 ? 'offline' : 'reconnecting');
    timer = setTimeout(open, delay);
  };
  es.addEventListener('incident', (ev) => {
    const data = parse(ev);
    if (data) applyIncident(data, { live: true });
  });
  es.addEventListener('sensor', (ev) => {
    const data = parse(ev);
    if (data) applySensorUpdate(data);
  });
  es.addEventListener('camera', (ev) => {
    const data = parse(ev);
    if (data) applyCameraUpdate(data);
  });
}

export function connectLive(mid) {
  disconnectLive();
  currentMid = mid;
  connectedOnce = false;
  attempt = 0;
  open();
}

export function disconnectLive() {
  if (timer) clearTimeout(timer);
  timer = null;
  if (source) source.close();
  source = null;
}
