// @ts-check
// Public warnings in force (CAP 1.2, docs/CAP.md), received and CityOps's own: each warning's
// drawn areas (polygons, circles) and a marker where the map places it, coloured by severity,
// with its headline, expiry and signature verdict (or "published by CityOps"). Refetched when the municipality is shown, on every live
// `warning` change, and each minute (so an expiry shows without one); an area drawn for a
// draft (details/warning.js) is previewed here too.

import { getJSON, mpath } from '../api.js';
import { h } from '../dom.js';
import { fmtDateTime, t } from '../i18n.js';
import { on, state } from '../state.js';
import { ctx } from './context.js';

/** @typedef {import('../types').PublicWarning} PublicWarning */

/** @type {Readonly<Record<string, string>>} */
export const WARNING_COLOURS = { Extreme: '#ff4d4f', Severe: '#f0883e', Moderate: '#e3b341', Minor: '#58a6ff' };
const REFRESH_MS = 60_000;

/** @type {PublicWarning[]} */
let shown = [];
let loading = 0;
/** @type {L.Circle | null} */
let preview = null;

/** The warnings now on the map (for the console's tests and the details panel). */
export function warningsShown() {
  return shown;
}

/** @param {PublicWarning} w */
function popup(w) {
  const until = w.expires ? fmtDateTime(w.expires) : t('warnings.no_expiry');
  return h(
    'div',
    { class: 'warning-popup', dataset: { testid: 'warning-popup' } },
    h('strong', null, w.headline),
    h('div', null, `${t(`warnings.severity.${w.severity}`)} · ${w.event}`),
    h('div', { class: 'muted' }, t('warnings.until', { time: until })),
    w.own ? h('div', { class: 'muted', dataset: { testid: 'warning-own' } }, t('warnings.own')) : h('div', { class: 'muted' }, t('warnings.sender', { sender: w.sender })),
    w.own ? null : h('div', { class: 'muted', dataset: { testid: 'warning-signature' } }, t('warnings.signature', { verdict: w.signature })),
  );
}

/** @param {PublicWarning} w */
function draw(w) {
  const group = ctx.groups.warnings;
  const colour = WARNING_COLOURS[w.severity] || '#a5b4c5';
  const style = { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.12, dashArray: w.msg_type === 'Update' ? '6 4' : '' };
  const content = () => popup(w);
  for (const ring of w.polygons) L.polygon(ring.map(([lon, lat]) => L.latLng(lat, lon)), style).bindPopup(content).addTo(group);
  for (const c of w.circles) L.circle(L.latLng(c.lat, c.lon), { ...style, radius: c.radius_m }).bindPopup(content).addTo(group);
  const dot = h('span', { class: 'warning-dot', dataset: { testid: 'warning-marker', identifier: w.identifier, severity: w.severity, own: String(w.own) } }, '!');
  dot.style.background = colour;
  // beside its point, not on it: the incident a warning opens sits at the same place
  const icon = L.divIcon({ className: 'warning-marker', html: dot, iconSize: [22, 22], iconAnchor: [-8, 30] });
  L.marker(L.latLng(w.lat, w.lon), { icon, title: w.headline, keyboard: true }).bindPopup(content).addTo(group);
}

function redraw() {
  const group = ctx.groups && ctx.groups.warnings;
  if (!group) return;
  group.clearLayers();
  for (const w of shown) draw(w);
  if (preview) preview.addTo(group);
  const box = document.getElementById('map');
  if (box) {
    box.dataset.warnings = String(shown.length);
    box.dataset.warningAreas = String(shown.reduce((n, w) => n + w.polygons.length + w.circles.length, 0));
  }
}

/** Fetch the warnings in force for the municipality shown and draw them. */
export async function refreshWarnings() {
  const mid = state.mid;
  if (!mid) return;
  const mine = ++loading;
  try {
    /** @type {PublicWarning[]} */
    const list = await getJSON(mpath(mid, '/warnings'));
    if (mine !== loading || mid !== state.mid) return;
    shown = list;
  } catch (err) {
    // a role without incidents.read, or the server away: no layer, the rest works
    if (mine === loading) shown = [];
    console.warn('warnings: not loaded', err);
  }
  redraw();
}

/**
 * Show (or, with null, remove) the circle a draft warning would cover.
 * @param {{lat: number, lon: number, radius_m: number} | null} circle
 */
export function previewArea(circle) {
  if (preview) preview.remove();
  preview = circle ? L.circle(L.latLng(circle.lat, circle.lon), { radius: circle.radius_m, color: '#d2a8ff', weight: 2, dashArray: '4 4', fillOpacity: 0.08, interactive: false }) : null;
  redraw();
}

export function initWarnings() {
  on('basemap', () => refreshWarnings()); // a municipality was (re)shown
  on('warning', () => refreshWarnings());
  on('lang', () => redraw());
  window.setInterval(() => refreshWarnings(), REFRESH_MS);
}
