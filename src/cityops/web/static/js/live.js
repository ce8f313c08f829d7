// @ts-check
// Live feed: EventSource on /m/{mid}/live with reconnect backoff. Lists are refetched after a
// reconnect, and on `resync` (the server dropped this client's backlog), so nothing missed stays
// stale; live-events.js applies each event.

import { API_BASE, mpath } from './api.js';
import { refetchLive } from './data.js';
import { dispatchLive, LIVE_KINDS } from './live-events.js';
import { probeSession } from './session.js';
import { emit, setConnection } from './state.js';

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;

/** @type {EventSource | null} */
let source = null;
/** @type {number | null} */
let timer = null;
let attempt = 0;
let connectedOnce = false;
/** @type {string | null} */
let currentMid = null;

/** @param {string} why */
function refetch(why) {
  refetchLive()
    .then(() => emit('resync'))
    .catch((err) => console.warn(`live: refetch after ${why} failed`, err));
}

/** @type {import('./live-events.js').LiveHandlers} */
const handlers = {
  hello(data) {
    if (data.municipality && currentMid && data.municipality !== currentMid) {
      console.warn('live: feed of another municipality', data.municipality);
    }
  },
  resync(reason) {
    console.info('live: resync', reason);
    refetch('resync');
  },
};

function open() {
  timer = null;
  const mid = currentMid;
  if (!mid) return;
  setConnection(connectedOnce ? 'reconnecting' : 'connecting');
  const es = new EventSource(API_BASE + mpath(mid, '/live'));
  source = es;
  es.onopen = () => {
    const reconnect = connectedOnce;
    connectedOnce = true;
    attempt = 0;
    setConnection('live');
    if (reconnect) refetch('reconnect');
  };
  es.onerror = () => {
    if (source !== es) return;
    es.close();
    source = null;
    // an EventSource cannot tell a 401: ask whether the session is still there
    probeSession();
    const delay = Math.min(MAX_DELAY, MIN_DELAY * 2 ** attempt) * (0.6 + Math.random() * 0.4);
    attempt += 1;
    setConnection(attempt > 3 ? 'offline' : 'reconnecting');
    timer = window.setTimeout(open, delay);
  };
  for (const kind of LIVE_KINDS) {
    es.addEventListener(kind, (ev) => {
      if (source === es) dispatchLive(kind, ev.data, handlers);
    });
  }
}

/** @param {string} mid */
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
