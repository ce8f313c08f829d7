// @ts-check
// The incident panel: head and facts, actions, SOP, cameras, shares, public warning, deliveries
// to agencies, nearby sensors, note, timeline, linked events. A live update re-renders it,
// keeping what the operator was typing.

import { canAcknowledge } from '../actions.js';
import { getJSON, mpath } from '../api.js';
import { h } from '../dom.js';
import { fmtAge, fmtDateTime, incidentTitle, t } from '../i18n.js';
import { agencyLabel, incidentTypeLabel } from '../queue.js';
import { applyIncident, state } from '../state.js';
import { toast } from '../ui.js';
import { can, incidentRights } from '../access.js';
import { actionsBlock } from './actions.js';
import { camerasBlock } from './camera.js';
import { deliveriesBlock } from './deliveries.js';
import { evidenceBlock } from './evidence.js';
import { apiErrorMessage, backButton, body, closeButton, fact, panel, setBody, startCharts, teardown } from './common.js';
import { onIncidentReply, postIncident, summaryOf } from './post.js';
import { personBlock } from './person.js';
import { nearbySensors, sensorsBlock } from './sensor.js';
import { sharesBlock } from './shares.js';
import { sopBlock } from './sop.js';
import { warningBlock } from './warning.js';
import { eventsBlock, noteBlock, timelineBlock } from './timeline.js';

/** @typedef {import('../types').IncidentDetail} IncidentDetail */
/** @typedef {Readonly<import('../types').IncidentSummary>} Incident */

/** @param {Incident} inc */
export function incidentHead(inc) {
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

/** @typedef {{note: string, focused: boolean, agency: string}} Kept */

/** @returns {Kept | null} what the operator was typing or choosing */
function keepInputs() {
  const note = document.getElementById('note-text');
  if (!(note instanceof HTMLTextAreaElement)) return null;
  const agency = document.getElementById('assign-agency');
  return { note: note.value, focused: document.activeElement === note, agency: agency instanceof HTMLSelectElement ? agency.value : '' };
}

/** @param {Kept} kept */
function restoreInputs(kept) {
  const note = document.getElementById('note-text');
  if (note instanceof HTMLTextAreaElement && !note.disabled) {
    if (kept.note) {
      note.value = kept.note;
      note.dispatchEvent(new Event('input'));
    }
    if (kept.focused) note.focus({ preventScroll: true });
  }
  const agency = document.getElementById('assign-agency');
  if (agency instanceof HTMLSelectElement && kept.agency && !agency.disabled) {
    agency.value = kept.agency;
    agency.dispatchEvent(new Event('change'));
  }
}

/** @param {IncidentDetail} detail */
export function renderIncident(detail) {
  const cur = panel.current;
  if (!cur || cur.kind !== 'incident' || cur.id !== detail.id) return;
  const same = cur.detail !== null && cur.detail.id === detail.id;
  const keepScroll = same ? body().scrollTop : 0;
  // a live update re-renders the panel: keep what the operator was typing or choosing
  const kept = same ? keepInputs() : null;
  teardown();
  cur.detail = detail;
  cur.token = ++panel.token;
  /** @type {Incident} */
  const inc = { ...(state.incidents.get(detail.id) || {}), ...summaryOf(detail) };
  // what the account's role may not do is not offered (the server refuses it anyway)
  const rights = incidentRights(state.me, state.mid, new Date(), inc.municipality);
  /** @type {HTMLElement[]} */
  const parts = [incidentHead(inc)];
  if (rights.foreign) {
    const home = inc.municipality;
    parts.push(h('p', { class: 'muted', dataset: { testid: 'handed-over' } }, t('incident.handed_over', { municipality: home })));
  }
  if (rights.act) parts.push(actionsBlock(inc));
  const person = personBlock(inc); // an SOS episode: photo, guardian, forward to police
  if (person) parts.push(person);
  parts.push(sopBlock(inc, detail.sop, rights.act), camerasBlock(detail));
  const shares = sharesBlock(detail, inc, rights.foreign);
  if (shares) parts.push(shares);
  const warning = warningBlock(detail, inc);
  if (warning) parts.push(warning);
  parts.push(deliveriesBlock(detail));
  const evidence = evidenceBlock(detail, can(state.me, state.mid, 'video.view'));
  if (evidence) parts.push(evidence);
  /** @type {[HTMLElement, import('../types').Sensor][]} */
  let pending = [];
  if (inc.location) {
    const preferred = new Set((detail.events || []).map((e) => e.source_id).filter(Boolean));
    const block = sensorsBlock(nearbySensors(inc.location.lat, inc.location.lon, preferred), 'incident.sensors');
    parts.push(block.el);
    pending = block.pending;
  }
  if (rights.note) parts.push(noteBlock(inc));
  parts.push(timelineBlock(detail));
  const events = eventsBlock(detail);
  if (events) parts.push(events);
  setBody(...parts);
  if (kept) restoreInputs(kept);
  body().scrollTop = keepScroll;
  startCharts(pending, cur.token);
}

/**
 * Fetch the incident's detail and draw it, unless another panel was opened meanwhile.
 * @param {number} id
 * @param {number} tok
 */
export async function loadIncident(id, tok) {
  const isCurrent = () => {
    const cur = panel.current;
    return cur !== null && cur.token === tok && cur.kind === 'incident' && cur.id === id;
  };
  try {
    /** @type {IncidentDetail} */
    const detail = await getJSON(mpath(state.mid || '', `/incidents/${id}`));
    if (!isCurrent()) return;
    applyIncident(summaryOf(detail));
    renderIncident(detail);
  } catch (err) {
    if (panel.current && panel.current.token === tok) {
      setBody(h('div', { class: 'd-head' }, h('div', { class: 'd-kicker' }, backButton(), closeButton())), h('p', { class: 'error' }, apiErrorMessage(err)));
    }
  }
}

/**
 * While the incident is loading: its head from the queue's copy.
 * @param {number} id
 */
export function incidentPlaceholder(id) {
  const inc = state.incidents.get(id);
  setBody(
    inc ? incidentHead(inc) : h('div', { class: 'd-head' }, h('div', { class: 'd-kicker' }, backButton(), closeButton())),
    h('p', { class: 'muted loading-line' }, t('common.loading')),
  );
}

/**
 * Acknowledge an incident (keyboard `a`), whether or not its details are open: only when the
 * server's `actions` include it.
 * @param {number} id
 */
export async function acknowledge(id) {
  const inc = state.incidents.get(id);
  if (!inc || !incidentRights(state.me, state.mid, new Date(), inc.municipality).act) return;
  if (!canAcknowledge(inc)) {
    toast(t('action.not_allowed', { action: t('action.acknowledge'), status: t(`status.${inc.status}`) }), 'warn');
    return;
  }
  await postIncident(id, '/acknowledge', { note: null }, t('action.done.acknowledge'));
}

/** Re-render with an action's reply when it is the incident on show. */
onIncidentReply((detail) => renderIncident(detail));

