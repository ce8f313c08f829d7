// @ts-check
// "Share cameras here": the map's context menu (right click, or a long press) offers an
// operator with shares.manage to share a point with an agency; a map tool (a button, for the
// keyboard) does the same for the centre of the map. The form is the incident's
// (details/share_form.js: agency, purpose, duration, radius); while it is open the map
// previews the circle and the cones of the cameras the share would hold (share/place.js; the
// server decides). Once made, the link is shown once in the popup, and the share joins the
// shared places on the map (point_shares.js).

import { mpath, postJSON } from '../api.js';
import { h } from '../dom.js';
import { displayName, t } from '../i18n.js';
import { agencyLabel } from '../queue.js';
import { on, state } from '../state.js';
import { toast } from '../ui.js';
import { fovCone } from '../geo.js';
import { camerasSharedAt } from '../share/place.js';
import { apiErrorMessage } from '../details/common.js';
import { linkBox, shareForm } from '../details/share_form.js';
import { sharingConfig } from '../details/share_row.js';
import { ctx } from './context.js';
import { mayShare, refreshPointShares } from './point_shares.js';

/** @typedef {import('../types').NewShareView} NewShareView */
/** @typedef {import('./context.js').Camera} Camera */

const COLOUR = '#39c5cf';

/** @type {L.LayerGroup | null} */
let preview = null;
/** @type {L.Popup | null} */
let popup = null;

/**
 * Show the circle of `radius` around `at` and the cones of the cameras a share would hold;
 * their number.
 * @param {L.LatLng} at
 * @param {number} radius
 */
function showPreview(at, radius) {
  if (!preview) return 0;
  preview.clearLayers();
  L.circle(at, { radius, color: COLOUR, weight: 2, dashArray: '4 4', fillColor: COLOUR, fillOpacity: 0.06, interactive: false }).addTo(preview);
  const found = camerasSharedAt({ lat: at.lat, lon: at.lng }, /** @type {Iterable<Camera>} */ (state.cameras.values()), radius);
  for (const { camera } of found) {
    const p = camera.position;
    if (!p) continue;
    const cone = fovCone(p.lat, p.lon, camera.heading_deg, camera.fov_deg, camera.range_m);
    L.polygon(cone, { color: COLOUR, weight: 2, fillColor: COLOUR, fillOpacity: 0.35, interactive: false }).addTo(preview);
  }
  const box = ctx.map.getContainer();
  box.dataset.sharePreview = found.map((x) => x.camera.id).join(' ');
  box.dataset.sharePreviewRadius = String(radius);
  return found.length;
}

function clearPreview() {
  if (preview) preview.clearLayers();
  const box = ctx.map.getContainer();
  delete box.dataset.sharePreview;
  delete box.dataset.sharePreviewRadius;
}

/**
 * @param {L.LatLng} at
 * @param {HTMLElement} content
 */
function openPopup(at, content) {
  if (popup) popup.remove();
  const p = L.popup({ closeOnClick: false, autoClose: true, maxWidth: 420, minWidth: 300, className: 'share-here-popup' });
  p.setLatLng(at).setContent(content).openOn(ctx.map);
  p.on('remove', () => {
    if (popup === p) {
      popup = null;
      clearPreview();
    }
  });
  popup = p;
}

/**
 * The made share: what it holds, and its link, shown once.
 * @param {HTMLElement} box
 * @param {NewShareView} made
 */
function showMade(box, made) {
  clearPreview();
  const names = made.cameras.map((id) => displayName(state.cameras.get(id)) || id);
  const result = h('div', { class: 'share-result', dataset: { testid: 'share-link' } });
  box.replaceChildren(
    h('h3', null, t('sharing.place_title')),
    h('p', { class: 'muted share-cams', dataset: { testid: 'share-made-cameras', cameras: made.cameras.join(' ') } }, t('sharing.cameras_count', { n: names.length }), names.length ? `: ${names.join(', ')}` : ''),
    result,
  );
  linkBox(result, made.link, t('sharing.created', { agency: agencyLabel(made.agency) }));
  popup?.update();
}

/**
 * The form for the point `at`.
 * @param {L.LatLng} at
 */
async function openForm(at) {
  const mid = state.mid || '';
  const box = h('div', { class: 'share-here', dataset: { testid: 'share-here' } }, h('h3', null, t('sharing.place_title')), h('p', { class: 'muted' }, t('common.loading')));
  openPopup(at, box);
  const cfg = await sharingConfig(mid);
  if (!box.isConnected || state.mid !== mid) return;
  const submit = async (/** @type {import('../details/share_form.js').ShareRequest} */ body) => {
    try {
      /** @type {NewShareView} */
      const made = await postJSON(mpath(mid, '/shares'), { ...body, lon: at.lng, lat: at.lat });
      showMade(box, made);
      refreshPointShares();
    } catch (err) {
      toast(apiErrorMessage(err), 'error', 7000);
    }
  };
  const form = shareForm(cfg, { location: { lat: at.lat, lon: at.lng } }, (r) => showPreview(at, r), submit, 'sharing.place_hint');
  box.replaceChildren(h('h3', null, t('sharing.place_title')), form);
  popup?.update();
  const first = form.querySelector('select');
  if (first) first.focus(); // from the keyboard (the map tool), the form is next
}

/**
 * The context menu at a point: "Share cameras here" (nothing is offered without shares.manage).
 * @param {L.LeafletMouseEvent} ev
 */
function contextMenu(ev) {
  if (!mayShare()) return;
  ev.originalEvent.preventDefault();
  const item = h('button', { type: 'button', class: 'btn map-menu-item', dataset: { testid: 'share-here-item' } }, t('sharing.here'));
  item.addEventListener('click', () => openForm(ev.latlng));
  openPopup(ev.latlng, h('div', { class: 'map-menu', role: 'menu', dataset: { testid: 'map-menu' } }, item));
  item.focus();
}

/** @type {HTMLButtonElement | null} */
let tool = null;

/** The map tool: shown only to whoever may share, labelled in the interface language. */
function showTool() {
  if (!tool) return;
  tool.hidden = !mayShare();
  tool.textContent = t('sharing.here');
  tool.title = t('sharing.here_centre');
}

export function initShareHere() {
  preview = L.layerGroup().addTo(ctx.map);
  ctx.map.on('contextmenu', contextMenu);
  const button = h('button', { type: 'button', class: 'btn map-share-tool', hidden: true, dataset: { testid: 'share-here-tool' } });
  button.addEventListener('click', () => {
    if (mayShare()) openForm(ctx.map.getCenter());
  });
  L.DomEvent.disableClickPropagation(button);
  const Tool = L.Control.extend({ onAdd: () => button });
  new Tool({ position: 'topleft' }).addTo(ctx.map);
  tool = button;
  showTool();
  on('basemap', showTool); // a municipality was (re)shown, after the session is known
  on('session', showTool);
  on('lang', showTool);
}
