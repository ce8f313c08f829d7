// @ts-check
// Evidence of an incident's camera events, newest first: each event's snapshot (privacy masks
// applied, its boxes drawn by the video worker) and its clip in a <video controls> (H.264 MP4;
// the server answers Range requests, so the browser seeks; fetched only when played). The block survives the panel's live re-renders
// (a playing clip keeps playing); a clip still being recorded is looked for again every 5 s.

import { API_BASE, getJSON, mpath } from '../api.js';
import { h } from '../dom.js';
import { displayName, fmtDateTime, t, tMaybe } from '../i18n.js';
import { state } from '../state.js';
import { panel, section } from './common.js';

const RETRY_MS = 5000;
const MAX_SHOWN = 12;

/** @typedef {import('../types').Evidence} Evidence */

/** @type {{incident: number, el: HTMLElement, list: HTMLElement, items: Map<string, HTMLElement>, events: number, timer: number} | null} */
let shown = null;

/**
 * @param {string} mid
 * @param {string} eventId
 * @param {'snapshot.jpg' | 'clip.mp4'} file
 */
export function evidenceUrl(mid, eventId, file) {
  return API_BASE + mpath(mid, `/evidence/${encodeURIComponent(eventId)}/${file}`);
}

/**
 * One event's evidence: its snapshot, what and when, and its clip (or why there is none yet).
 * @param {string} mid
 * @param {Evidence} ev
 */
function item(mid, ev) {
  const cam = state.cameras.get(ev.camera_id);
  const caption = `${tMaybe(`event_kind.${ev.kind}`, ev.kind)} · ${cam ? displayName(cam) : ev.camera_id} · ${fmtDateTime(ev.ts)}`;
  const media = h('div', { class: 'evidence-media' });
  if (ev.snapshot_url) {
    media.append(h('img', { class: 'evidence-snapshot', src: evidenceUrl(mid, ev.event_id, 'snapshot.jpg'), alt: t('evidence.snapshot_alt', { what: caption }), decoding: 'async', loading: 'lazy' }));
  }
  if (ev.clip_url && ev.clip_ready) {
    media.append(
      h('video', {
        class: 'evidence-clip',
        src: evidenceUrl(mid, ev.event_id, 'clip.mp4'),
        controls: true,
        // nothing is fetched (nor audited as viewed) until the operator plays it
        preload: 'none',
        poster: ev.snapshot_url ? evidenceUrl(mid, ev.event_id, 'snapshot.jpg') : false,
        playsInline: true,
        muted: true,
        title: t('evidence.clip_title', { what: caption }),
      }),
    );
  } else if (ev.clip_url) {
    media.append(h('p', { class: 'muted evidence-pending' }, t('evidence.recording')));
  }
  return h('figure', { class: 'evidence', dataset: { event: ev.event_id, ready: String(Boolean(ev.clip_ready)) } }, media, h('figcaption', null, caption));
}

/**
 * Fetch the incident's evidence and add what is new (or now has its clip) to the list.
 * @param {number} incidentId
 */
async function load(incidentId) {
  const mid = state.mid || '';
  /** @type {Evidence[]} */
  let found;
  try {
    found = await getJSON(mpath(mid, `/incidents/${incidentId}/evidence`));
  } catch (err) {
    console.warn('evidence: not loaded', err);
    return;
  }
  const cur = shown;
  if (!cur || cur.incident !== incidentId) return;
  const newest = found.slice().sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts));
  cur.list.replaceChildren(
    ...newest.slice(0, MAX_SHOWN).map((ev) => {
      const old = cur.items.get(ev.event_id);
      if (old && (old.dataset.ready === 'true' || !ev.clip_ready)) return old;
      const el = item(mid, ev);
      cur.items.set(ev.event_id, el);
      return el;
    }),
  );
  if (!found.length) cur.list.append(h('p', { class: 'muted' }, t('evidence.none')));
  if (found.length > MAX_SHOWN) cur.list.append(h('p', { class: 'muted' }, t('evidence.more', { count: found.length - MAX_SHOWN })));
  clearTimeout(cur.timer);
  if (found.some((ev) => ev.clip_url && !ev.clip_ready)) {
    cur.timer = window.setTimeout(() => {
      const open = panel.current;
      if (open && open.kind === 'incident' && open.id === incidentId) load(incidentId);
    }, RETRY_MS);
  }
}

/**
 * The evidence section of an incident (null when the account may not see video). The same
 * element is handed back while the same incident is shown, so its clips go on playing.
 * @param {{id: number, events?: readonly unknown[] | null}} detail
 * @param {boolean} allowed the account has video.view here
 * @returns {HTMLElement | null}
 */
export function evidenceBlock(detail, allowed) {
  if (!allowed) return null;
  const events = (detail.events || []).length;
  if (shown && shown.incident === detail.id) {
    if (shown.events !== events) {
      shown.events = events;
      load(detail.id);
    }
    return shown.el;
  }
  if (shown) clearTimeout(shown.timer);
  const list = h('div', { class: 'evidence-list', dataset: { testid: 'evidence' } }, h('p', { class: 'muted' }, t('common.loading')));
  shown = { incident: detail.id, el: section('evidence.title', list), list, items: new Map(), events, timer: 0 };
  load(detail.id);
  return shown.el;
}
