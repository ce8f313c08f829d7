// @ts-check
// The auditor's view: who saw which camera, when and why (GET /m/{mid}/audit, C's audit API,
// newest first; docs/SECURITY.md "Audit"). Camera views by default, every action on request;
// a camera filter; older records page by page (before=<smallest seq shown>).

import { getJSON, mpath } from './api.js';
import { byId, byIdAs, h } from './dom.js';
import { fmtDate, fmtTime, t, tMaybe } from './i18n.js';
import { on, state } from './state.js';
import { toast } from './ui.js';

/** @typedef {import('./types').AuditRecord} AuditRecord */

export const CAMERA_ACTIONS = ['video.live', 'video.snapshot', 'video.clip', 'video.unmasked'];
const PAGE = 100;

let active = false;
/** @type {number | null} */
let oldest = null;
let loading = 0;

/** @param {AuditRecord} r */
function row(r) {
  const detail = r.detail && Object.keys(r.detail).length ? JSON.stringify(r.detail) : '';
  return h(
    'tr',
    { dataset: { seq: String(r.seq), action: r.action } },
    h('td', { class: 'mono' }, `${fmtDate(r.at)} ${fmtTime(r.at)}`),
    h('td', {}, r.actor),
    h('td', {}, tMaybe(`audit_action.${r.action}`, r.action)),
    h('td', { class: 'mono' }, r.target || ''),
    h('td', { class: 'audit-reason' }, r.reason || ''),
    h('td', { class: 'mono muted' }, detail),
  );
}

/** @param {boolean} more the next (older) page, else from the newest */
async function load(more) {
  const mid = state.mid;
  if (!mid) return;
  const token = ++loading;
  const kind = byIdAs('audit-kind', HTMLSelectElement).value;
  const camera = byIdAs('audit-camera', HTMLInputElement).value.trim();
  /** @type {import('./api.js').Params} */
  const params = { limit: PAGE, action: kind === 'camera' ? CAMERA_ACTIONS : undefined, camera: camera || undefined };
  if (more && oldest !== null) params.before = oldest;
  /** @type {AuditRecord[]} */
  let records;
  try {
    records = await getJSON(mpath(mid, '/audit'), params);
  } catch (err) {
    console.warn('audit', err);
    toast(t('audit_view.load_failed'), 'error', 7000);
    return;
  }
  if (token !== loading) return;
  const body = byId('audit-rows');
  if (!more) {
    body.replaceChildren();
    oldest = null;
  }
  body.append(...records.map(row));
  if (records.length) oldest = Math.min(...records.map((r) => r.seq));
  byId('audit-empty').hidden = body.childElementCount > 0;
  byIdAs('audit-more', HTMLButtonElement).hidden = records.length < PAGE;
}

/** @param {boolean} on */
export function setAuditActive(on) {
  active = on;
  if (on) {
    oldest = null;
    load(false);
  }
}

export function initAudit() {
  const kind = byIdAs('audit-kind', HTMLSelectElement);
  kind.replaceChildren(
    h('option', { value: 'camera' }, t('audit_view.kind_camera')),
    h('option', { value: 'all' }, t('audit_view.kind_all')),
  );
  kind.addEventListener('change', () => load(false));
  byIdAs('audit-form', HTMLFormElement).addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(false);
  });
  byId('audit-more').addEventListener('click', () => load(true));
  on('lang', () => {
    kind.options[0] && (kind.options[0].textContent = t('audit_view.kind_camera'));
    kind.options[1] && (kind.options[1].textContent = t('audit_view.kind_all'));
    if (active) load(false);
  });
}
