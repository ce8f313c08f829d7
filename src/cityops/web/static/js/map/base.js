// @ts-check
// The base map: the offline layers from /basemap drawn on a canvas, optional online tiles, the
// layer switcher and the translated map controls.

import { getJSON, mpath } from '../api.js';
import { t } from '../i18n.js';
import { emit, state } from '../state.js';
import { ctx, escapeText } from './context.js';
import { renderLegend } from './legend.js';

/** @typedef {import('./context.js').Feature} Feature */

/** @type {Readonly<Record<string, L.PathOptions>>} */
const ROAD_STYLE = {
  motorway: { color: '#8a6d3b', weight: 5 },
  trunk: { color: '#7d6a45', weight: 4.5 },
  primary: { color: '#6f6650', weight: 4 },
  secondary: { color: '#5d6470', weight: 3.2 },
  tertiary: { color: '#525c69', weight: 2.6 },
  residential: { color: '#46505c', weight: 2 },
  service: { color: '#3a434e', weight: 1.3 },
  path: { color: '#3a4550', weight: 1, dashArray: '3 3' },
};
const LANDUSE_GREEN = new Set(['park', 'grass', 'wood', 'forest', 'meadow', 'recreation_ground', 'village_green', 'cemetery', 'allotments', 'orchard', 'vineyard', 'farmland']);
const LANDUSE_WORK = new Set(['industrial', 'commercial', 'retail', 'railway', 'construction', 'brownfield', 'military']);

/** @type {L.Control.Layers | null} */
let layerControl = null;
/** @type {{offline?: L.Layer, online?: L.TileLayer}} */
const baseLayers = {};
/** @type {L.LatLngBounds | null} */
let basemapBounds = null;
/** @type {string | null} */
let attribution = null;

/** @param {Feature | undefined} feature */
const featureClass = (feature) => (feature && feature.properties && String(feature.properties.class)) || '';

/**
 * @param {Feature | undefined} feature
 * @returns {L.PathOptions}
 */
function landuseStyle(feature) {
  const cls = featureClass(feature);
  if (LANDUSE_GREEN.has(cls)) return { fillColor: '#14261c', fillOpacity: 1, stroke: false };
  if (LANDUSE_WORK.has(cls)) return { fillColor: '#1d1a26', fillOpacity: 1, stroke: false };
  return { fillColor: '#141b24', fillOpacity: 1, stroke: false };
}

/**
 * @param {Feature | undefined} feature
 * @returns {L.PathOptions}
 */
function waterStyle(feature) {
  const g = feature && feature.geometry && feature.geometry.type;
  if (g === 'LineString' || g === 'MultiLineString') {
    const cls = featureClass(feature);
    return { color: '#1f4f7a', weight: cls === 'river' || cls === 'canal' ? 4 : 2, opacity: 1 };
  }
  return { fillColor: '#0f2e4a', fillOpacity: 1, color: '#1f4f7a', weight: 1 };
}

/**
 * @param {Feature | undefined} feature
 * @returns {L.PathOptions}
 */
function roadStyle(feature) {
  const s = ROAD_STYLE[featureClass(feature)] || ROAD_STYLE.service;
  return { ...s, opacity: 1, lineCap: 'round', lineJoin: 'round' };
}

/** @returns {L.PathOptions} */
function buildingStyle() {
  return { fillColor: '#1e2733', fillOpacity: 1, color: '#2b3746', weight: 1 };
}

/** @type {Readonly<Record<string, (feature: Feature | undefined) => L.PathOptions>>} */
export const BASE_STYLES = { landuse: landuseStyle, water: waterStyle, buildings: buildingStyle, roads: roadStyle };

/** The imported base map's extent, or null without one. */
export function getBasemapBounds() {
  return basemapBounds;
}

/** Show the offline base map (the base layer group) and offer it in the layer switcher. */
export function addOfflineBase() {
  baseLayers.offline = ctx.groups.base;
  ctx.groups.base.addTo(ctx.map);
}

async function loadBasemap() {
  const { groups, renderers } = ctx;
  groups.base.clearLayers();
  basemapBounds = null;
  /** @type {{layers?: Record<string, GeoJSON.FeatureCollection>, bounds?: number[]}} */
  let data;
  try {
    data = await getJSON(mpath(state.mid || '', '/basemap'));
  } catch (err) {
    console.warn('basemap unavailable', err);
    emit('basemap', { ok: false });
    return;
  }
  for (const name of ['landuse', 'water', 'buildings', 'roads']) {
    const fc = data.layers && data.layers[name];
    if (!fc) continue;
    /** @type {L.GeoJSONOptions & {renderer: L.Renderer}} */
    const options = { renderer: renderers.base, pane: 'basemap', interactive: false, style: BASE_STYLES[name] };
    groups.base.addLayer(L.geoJSON(fc, options));
  }
  if (data.bounds && data.bounds.length === 4) {
    const [w = 0, s = 0, e = 0, n = 0] = data.bounds;
    basemapBounds = L.latLngBounds([s, w], [n, e]);
  }
  emit('basemap', { ok: true });
}

function buildLayerControl() {
  const { groups } = ctx;
  if (layerControl) layerControl.remove();
  /** @type {Record<string, L.Layer>} */
  const bases = {};
  if (baseLayers.offline) bases[t('map.layer_offline')] = baseLayers.offline;
  if (baseLayers.online) bases[t('map.layer_online')] = baseLayers.online;
  const overlays = {
    [t('map.layer_incidents')]: groups.incidents,
    [t('map.layer_cameras')]: groups.cameras,
    [t('map.layer_sensors')]: groups.sensors,
    [t('map.layer_key_objects')]: groups.keyObjects,
    [t('planner.layer')]: groups.planner,
    [t('warnings.layer')]: groups.warnings,
  };
  layerControl = L.control.layers(bases, overlays, { collapsed: window.innerWidth < 1500, position: 'topright' }).addTo(ctx.map);
  const toggle = layerControl.getContainer()?.querySelector('.leaflet-control-layers-toggle');
  if (toggle instanceof HTMLElement) {
    toggle.title = t('map.layers');
    toggle.setAttribute('aria-label', t('map.layers'));
  }
}

/** Label the zoom buttons, attribution, layer switcher and legend in the current language. */
export function translateControls() {
  const { map } = ctx;
  const zoom = map.zoomControl && map.zoomControl.getContainer();
  const zin = zoom && zoom.querySelector('.leaflet-control-zoom-in');
  const zout = zoom && zoom.querySelector('.leaflet-control-zoom-out');
  if (zin instanceof HTMLElement) {
    zin.title = t('map.zoom_in');
    zin.setAttribute('aria-label', t('map.zoom_in'));
  }
  if (zout instanceof HTMLElement) {
    zout.title = t('map.zoom_out');
    zout.setAttribute('aria-label', t('map.zoom_out'));
  }
  map.attributionControl.setPrefix(false);
  if (attribution) map.attributionControl.removeAttribution(attribution);
  attribution = escapeText(t('map.attribution'));
  map.attributionControl.addAttribution(attribution);
  buildLayerControl();
  renderLegend();
}

/**
 * Set up for a municipality: centre, online tiles if configured, base map.
 * @param {Readonly<import('../types').Municipality>} muni
 */
export async function showMunicipality(muni) {
  const { map } = ctx;
  ctx.viewSettled = false;
  const c = muni.center || { lat: 42.6977, lon: 23.3219 };
  map.setView([c.lat, c.lon], 15);
  if (baseLayers.online) {
    baseLayers.online.remove();
    delete baseLayers.online;
  }
  if (state.config && state.config.tile_url) {
    baseLayers.online = L.tileLayer(state.config.tile_url, { maxZoom: 19 });
  }
  translateControls();
  await loadBasemap();
  if (basemapBounds) {
    map.fitBounds(basemapBounds, { animate: false });
  } else if (baseLayers.online) {
    if (baseLayers.offline) baseLayers.offline.remove();
    baseLayers.online.addTo(map);
  }
}
