// @ts-check
// The safe area on a small map of the registry: drawn corner by corner (a polygon), or taken
// as a circle around a clicked point (sent as the polygon the server stores), on the
// municipality's offline base map. Read-only for persons.view holders: the area is only shown.

import { getJSON, mpath } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { BASE_STYLES } from '../map/base.js';
import { state } from '../state.js';
import { MAX_RADIUS_M, circleArea } from './model.js';

/** @typedef {import('./model.js').Corner} Corner */
/** @typedef {{corners: () => Corner[], destroy: () => void}} AreaEditor */

const COLOUR = '#3fb950';

/** @param {L.LayerGroup} base */
async function drawBase(base) {
  try {
    /** @type {{layers?: Record<string, GeoJSON.FeatureCollection>}} */
    const data = await getJSON(mpath(state.mid || '', '/basemap'));
    const renderer = L.canvas({ pane: 'basemap' });
    for (const name of ['landuse', 'water', 'buildings', 'roads']) {
      const fc = data.layers && data.layers[name];
      if (!fc || !fc.features.length) continue;
      /** @type {L.GeoJSONOptions & {renderer: L.Renderer}} */
      const options = { renderer, pane: 'basemap', interactive: false, style: BASE_STYLES[name] };
      base.addLayer(L.geoJSON(fc, options));
    }
  } catch (err) {
    console.warn('persons: basemap', err);
  }
}

/**
 * @param {L.Map} map
 * @param {readonly Corner[]} corners
 */
function frame(map, corners) {
  if (corners.length) {
    map.fitBounds(L.latLngBounds(corners.map(([lon, lat]) => L.latLng(lat, lon))).pad(0.6), { animate: false, maxZoom: 18 });
    return;
  }
  const c = state.municipality && state.municipality.center;
  map.setView(c ? [c.lat, c.lon] : [42.62, 25.39], 15, { animate: false });
}

/**
 * A map in `container` showing (and, when `editable`, editing) the area; `tools` gets the
 * drawing controls.
 * @param {HTMLElement} container
 * @param {HTMLElement} tools
 * @param {readonly Corner[]} initial
 * @param {boolean} editable
 * @returns {AreaEditor}
 */
export function areaEditor(container, tools, initial, editable) {
  /** @type {Corner[]} */
  let corners = initial.map((c) => /** @type {Corner} */ ([c[0], c[1]]));
  /** @type {'polygon' | 'circle'} */
  let mode = 'polygon';
  const map = L.map(container, { zoomControl: true, attributionControl: false, scrollWheelZoom: false, keyboard: true });
  map.createPane('basemap').style.zIndex = '200';
  const base = L.layerGroup().addTo(map);
  const shape = L.layerGroup().addTo(map);
  drawBase(base);

  const radius = h('input', { type: 'number', min: '10', max: String(MAX_RADIUS_M), step: '10', value: '300', class: 'persons-radius', 'aria-label': t('persons_registry.radius'), dataset: { testid: 'persons-radius' } });
  const polyBtn = h('button', { type: 'button', class: 'btn', 'aria-pressed': 'true', dataset: { testid: 'persons-mode-polygon' } }, t('persons_registry.mode_polygon'));
  const circleBtn = h('button', { type: 'button', class: 'btn', 'aria-pressed': 'false', dataset: { testid: 'persons-mode-circle' } }, t('persons_registry.mode_circle'));
  const clearBtn = h('button', { type: 'button', class: 'btn', dataset: { testid: 'persons-area-clear' } }, t('persons_registry.area_clear'));
  const hint = h('span', { class: 'muted' });

  function redraw() {
    shape.clearLayers();
    const latlngs = corners.map(([lon, lat]) => L.latLng(lat, lon));
    if (latlngs.length >= 3) shape.addLayer(L.polygon(latlngs, { color: COLOUR, weight: 2, fillOpacity: 0.12, interactive: false, className: 'persons-area' }));
    else if (latlngs.length) shape.addLayer(L.polyline(latlngs, { color: COLOUR, weight: 2, dashArray: '4 4', interactive: false }));
    if (editable) for (const ll of latlngs) shape.addLayer(L.circleMarker(ll, { radius: 3, color: COLOUR, weight: 2, interactive: false }));
    container.dataset.corners = String(corners.length);
    hint.textContent = corners.length ? t('persons_registry.area_corners', { n: corners.length }) : t('persons_registry.area_none');
  }

  /** @param {'polygon' | 'circle'} next */
  function setMode(next) {
    mode = next;
    polyBtn.setAttribute('aria-pressed', String(mode === 'polygon'));
    circleBtn.setAttribute('aria-pressed', String(mode === 'circle'));
    radius.hidden = mode !== 'circle';
  }

  if (editable) {
    polyBtn.addEventListener('click', () => {
      if (mode !== 'polygon') corners = [];
      setMode('polygon');
      redraw();
    });
    circleBtn.addEventListener('click', () => setMode('circle'));
    clearBtn.addEventListener('click', () => {
      corners = [];
      redraw();
    });
    map.on('click', (ev) => {
      const { lat, lng } = ev.latlng;
      if (mode === 'polygon') corners.push([Math.round(lng * 1e6) / 1e6, Math.round(lat * 1e6) / 1e6]);
      else corners = circleArea(lng, lat, Number(radius.value) || 0);
      redraw();
    });
    setMode('polygon');
    tools.replaceChildren(polyBtn, circleBtn, radius, clearBtn, hint);
  } else {
    tools.replaceChildren(hint);
  }
  redraw();
  requestAnimationFrame(() => {
    map.invalidateSize();
    frame(map, corners);
  });
  frame(map, corners);
  return {
    corners: () => corners.map((c) => /** @type {Corner} */ ([c[0], c[1]])),
    destroy: () => map.remove(),
  };
}
