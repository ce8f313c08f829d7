// @ts-check
// An operator's write on an incident: POST, apply the reply to the state, say how it went.

import { mpath, postJSON } from '../api.js';
import { toast } from '../ui.js';
import { applyIncident, state } from '../state.js';
import { apiErrorMessage } from './common.js';

/** @typedef {import('../types').IncidentDetail} IncidentDetail */

/** @type {(detail: IncidentDetail) => void} */
let onReply = () => {};

/**
 * Who re-renders the incident panel with a reply (details/incident.js).
 * @param {(detail: IncidentDetail) => void} fn
 */
export function onIncidentReply(fn) {
  onReply = fn;
}

/**
 * The summary part of an incident's detail (what the queue and map hold).
 * @param {IncidentDetail} detail
 * @returns {import('../types').IncidentSummary}
 */
export function summaryOf(detail) {
  const { timeline: _t, cameras: _c, sop: _s, events: _e, ...summary } = detail;
  return summary;
}

/**
 * POST to /incidents/{id}{suffix}; the reply (the incident's detail) updates the state and the
 * panel. Resolves to the detail, or null after telling the operator what went wrong.
 * @param {number} id
 * @param {string} suffix e.g. '/acknowledge', '/sop/step-1'
 * @param {unknown} payload
 * @param {string | null} okMessage
 * @returns {Promise<IncidentDetail | null>}
 */
export async function postIncident(id, suffix, payload, okMessage) {
  try {
    /** @type {IncidentDetail | null} */
    const detail = await postJSON(mpath(state.mid || '', `/incidents/${id}${suffix}`), payload);
    if (detail && detail.id !== undefined) {
      applyIncident(summaryOf(detail));
      onReply(detail);
    }
    if (okMessage) toast(okMessage, 'ok', 2500);
    return detail;
  } catch (err) {
    toast(apiErrorMessage(err), 'error', 7000);
    return null;
  }
}
