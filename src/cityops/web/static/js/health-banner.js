// @ts-check
// The ingest health banner in the header (see health.js for what it shows and when).

import { getJSON } from './api.js';
import { byId, h } from './dom.js';
import { healthBanner, HEALTH_POLL_MS } from './health.js';
import { tMaybe } from './i18n.js';
import { on, setHealth, state } from './state.js';

let timer = 0;
let inFlight = false;

function render() {
  const banner = byId('health-banner');
  const { show, reasons } = healthBanner(state.health);
  banner.hidden = !show;
  banner.dataset.status = show ? 'degraded' : 'ok';
  if (!show) return;
  byId('health-reasons').replaceChildren(
    ...reasons.map((r) => h('li', null, tMaybe(`ingest_reason.${r}`, r))),
  );
}

/** Ask the server now; a failed request leaves the banner as it was (the feed shows offline). */
export async function pollHealth() {
  if (inFlight) return;
  inFlight = true;
  try {
    setHealth(await getJSON('/health'));
  } catch (err) {
    console.warn('health', err);
  } finally {
    inFlight = false;
  }
}

export function initHealth() {
  on('health', render);
  on('lang', render);
  let wasLive = false;
  on('connection', (value) => {
    if (value === 'live' && wasLive === false) pollHealth();
    wasLive = value === 'live';
  });
  render();
  pollHealth();
  clearInterval(timer);
  timer = window.setInterval(pollHealth, HEALTH_POLL_MS);
  byId('health-banner').hidden = true;
}
