// @ts-check
// Vulnerable people's tracks (docs/AGENCIES.md "SOS of vulnerable people"): only while a person
// has an open SOS episode, and only for accounts with persons.view (the live feed sends `person`
// points to no one else). The first live point of an episode, or the person panel opening, loads
// the recent track (GET .../persons/{id}/track, audited); later points are appended as they come.
// A person's marker opens the episode's incident. A console that opens (or switches
// municipality) during an episode asks each open SOS incident's track by the incident
// (GET .../incidents/{id}/person/track, audited), so the person shows at once.

import { can } from '../access.js';
import { getJSON, mpath } from '../api.js';
import { h } from '../dom.js';
import { fmtDateTime, t } from '../i18n.js';
import { on, state } from '../state.js';
import { ctx, openDetail } from './context.js';

/** @typedef {import('../types').PersonPoint} PersonPoint */
/** @typedef {import('../types').TrackPoint} TrackPoint */

const TRACK_HOURS = 6;
const MAX_POINTS = 2000;
const CLOSED = new Set(['resolved', 'closed', 'cancelled']);

/**
 * @typedef {object} Track
 * @property {number} person
 * @property {number | null} incident
 * @property {{ts: string, lat: number, lon: number, kind: string, inside: boolean | null}[]} points
 * @property {L.Polyline} line
 * @property {L.Marker | null} marker
 * @property {boolean} loaded
 */

/** @type {Map<number, Track>} */
const tracks = new Map();
/** @type {L.LayerGroup | null} */
let group = null;
/** @type {L.Renderer | null} */
let renderer = null;
let generation = 0;
/** Open SOS incidents whose track was asked for by the incident (once each). */
const asked = new Set();
/** The municipality whose episodes are followed. */
let followedMid = '';

/** @param {{kind: string, inside: boolean | null}} p */
function state_of(p) {
  if (p.kind === 'sos') return 'sos';
  return p.inside === false ? 'outside' : 'inside';
}

/** @param {Track} tr */
function draw(tr) {
  tr.line.setLatLngs(tr.points.map((p) => /** @type {[number, number]} */ ([p.lat, p.lon])));
  const last = tr.points[tr.points.length - 1];
  if (!last) return;
  const kind = state_of(last);
  const dot = h('span', {
    class: 'person-dot',
    title: `${t(`person.state.${kind}`)} · ${fmtDateTime(last.ts)}`,
    dataset: { testid: 'person-marker', personId: tr.person, incidentId: tr.incident ?? '', points: tr.points.length, state: kind },
  });
  const icon = L.divIcon({ className: `person-marker person-${kind}`, html: dot, iconSize: [18, 18], iconAnchor: [9, 9] });
  if (!tr.marker) {
    tr.marker = L.marker([last.lat, last.lon], { icon, keyboard: true, title: t('person.marker') });
    tr.marker.on('click', () => {
      if (tr.incident !== null) openDetail('incident', tr.incident);
    });
    if (group) tr.marker.addTo(group);
  } else {
    tr.marker.setLatLng([last.lat, last.lon]);
    tr.marker.setIcon(icon);
  }
}

/**
 * Add points (any order; duplicates by time ignored), keep them in time order, redraw.
 * @param {Track} tr
 * @param {(PersonPoint | TrackPoint)[]} points
 */
function merge(tr, points) {
  const seen = new Set(tr.points.map((p) => p.ts));
  for (const p of points) {
    if (p.lat === null || p.lon === null || seen.has(p.ts)) continue;
    seen.add(p.ts);
    tr.points.push({ ts: p.ts, lat: p.lat, lon: p.lon, kind: p.kind, inside: p.inside });
  }
  tr.points.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  if (tr.points.length > MAX_POINTS) tr.points.splice(0, tr.points.length - MAX_POINTS);
  draw(tr);
}

/**
 * The person's track on the map (made once per episode), its history fetched once.
 * @param {number} person
 * @param {number | null} incident
 */
function ensure(person, incident) {
  const tr = tracks.get(person) || make(person, incident, false);
  if (incident !== null) tr.incident = incident;
  if (!tr.loaded) {
    tr.loaded = true;
    const mine = tr;
    const gen = generation;
    getJSON(mpath(state.mid || '', `/persons/${person}/track`), { hours: String(TRACK_HOURS) })
      .then((/** @type {TrackPoint[]} */ list) => {
        if (gen === generation && tracks.get(person) === mine) merge(mine, list);
      })
      .catch((err) => {
        mine.loaded = false;
        console.warn('persons: track', err);
      });
  }
  return tr;
}

/**
 * The open SOS episodes the console already knows of (at load, after a switch): each one's
 * person and recent track, asked for once by the incident.
 */
function followOpenEpisodes() {
  const mid = state.mid || '';
  followedMid = mid;
  if (!can(state.me, mid, 'persons.view')) return;
  const followed = new Set([...tracks.values()].map((tr) => tr.incident));
  for (const inc of state.incidents.values()) {
    if (inc.rule_id !== 'sos' || CLOSED.has(inc.status) || asked.has(inc.id) || followed.has(inc.id)) continue;
    asked.add(inc.id);
    const gen = generation;
    getJSON(mpath(mid, `/incidents/${inc.id}/person/track`), { hours: String(TRACK_HOURS) })
      .then((/** @type {import('../types').EpisodeTrack} */ got) => {
        if (gen !== generation) return;
        const tr = ensureLoaded(got.person_id, got.incident_id);
        merge(tr, got.points);
      })
      .catch((err) => {
        asked.delete(inc.id);
        console.warn('persons: episode track', err);
      });
  }
}

/**
 * A track whose history is already here (fetched with the episode): no second fetch.
 * @param {number} person
 * @param {number} incident
 */
function ensureLoaded(person, incident) {
  const known = tracks.get(person);
  if (!known) return make(person, incident, true);
  known.incident = incident;
  return known;
}

/**
 * @param {number} person
 * @param {number | null} incident
 * @param {boolean} loaded whether its history is already fetched
 * @returns {Track}
 */
function make(person, incident, loaded) {
  const line = L.polyline([], { className: 'person-track', color: '#d2a8ff', weight: 3, opacity: 0.9, smoothFactor: 0, renderer: renderer || undefined, interactive: false });
  const tr = { person, incident, points: [], line, marker: null, loaded };
  tracks.set(person, tr);
  if (group) line.addTo(group);
  return tr;
}

/** @param {number} person */
function drop(person) {
  const tr = tracks.get(person);
  if (!tr) return;
  if (group) {
    group.removeLayer(tr.line);
    if (tr.marker) group.removeLayer(tr.marker);
  }
  tracks.delete(person);
}

/** @param {PersonPoint} p */
function onPoint(p) {
  if (p.incident_id === null) {
    drop(p.person_id); // no open episode: the person is not followed on the map
    return;
  }
  merge(ensure(p.person_id, p.incident_id), [p]);
}

function clear() {
  generation += 1;
  asked.clear();
  for (const id of [...tracks.keys()]) drop(id);
  followOpenEpisodes();
}

export function initPersons() {
  const { map } = ctx;
  const pane = map.createPane('persons');
  pane.style.zIndex = '620';
  renderer = L.svg({ pane: 'persons' });
  group = L.layerGroup().addTo(map);
  on('person', onPoint);
  on('person-track', (d) => {
    if (d.incident !== null) ensure(d.person, d.incident);
  });
  on('incidents', (d) => {
    // an episode the operators closed is no longer followed
    for (const tr of [...tracks.values()]) {
      const inc = tr.incident !== null ? state.incidents.get(tr.incident) : undefined;
      if (inc && CLOSED.has(inc.status)) drop(tr.person);
    }
    // the whole list (a load, a resync): episodes already open; an episode opening later comes
    // with its live points, whose first one fetches the track
    if (d.all) followOpenEpisodes();
  });
  on('basemap', () => {
    if ((state.mid || '') !== followedMid) clear(); // another municipality shown
  });
  on('resync', () => {
    for (const tr of tracks.values()) {
      tr.loaded = false;
      ensure(tr.person, tr.incident);
    }
  });
}
