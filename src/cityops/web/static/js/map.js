// @ts-check
// The map: the Leaflet map, its panes and layer groups, and what makes its layers redraw. Live
// updates restyle existing layers in place, batched per animation frame. The layers themselves
// live in map/: the offline base map (base.js), camera cones (cameras.js), sensors and their
// labels (sensors.js), key objects (keyobjects.js), clustered incidents (incidents.js), the
// legend (legend.js) and the highlight of what the details panel shows (focus.js).

import { byId } from './dom.js';
import { on, schedule, state } from './state.js';
import { addOfflineBase, getBasemapBounds, showMunicipality, translateControls } from './map/base.js';
import { HEALTH_COLOURS, rebuildCameras, restyleCameras } from './map/cameras.js';
import { ctx } from './map/context.js';
import { focusOn, setHighlight } from './map/focus.js';
import { incidentGroup, SEVERITY_COLOURS, syncAllIncidents, syncIncident } from './map/incidents.js';
import { rebuildKeyObjects } from './map/keyobjects.js';
import { initPersons } from './map/persons.js';
import { initPlanner, resetPlan } from './map/planner.js';
import { initPointShares } from './map/point_shares.js';
import { initShareHere } from './map/share_here.js';
import { initWarnings } from './map/warnings.js';
import { clearLabels, rebuildSensors, restyleSensors, SENSOR_COLOURS, sensorOnMap, sensorsOnMap, updateLabels } from './map/sensors.js';

export { focusOn, HEALTH_COLOURS, SENSOR_COLOURS, SEVERITY_COLOURS, sensorOnMap, sensorsOnMap, showMunicipality };

/** @type {{sensors: Set<string>, cameras: Set<string>, incidents: Set<number>}} */
const dirty = { sensors: new Set(), cameras: new Set(), incidents: new Set() };

function flushDirty() {
  const restyled = restyleSensors(dirty.sensors);
  dirty.sensors.clear();
  // for tests and benchmarks: a sensor's colour on the map changed (drawn in the next frame)
  if (restyled.length) window.dispatchEvent(new CustomEvent('cityops:sensors-restyled', { detail: restyled }));
  restyleCameras(dirty.cameras);
  dirty.cameras.clear();
  if (ctx.viewSettled) for (const id of dirty.incidents) syncIncident(id);
  dirty.incidents.clear();
}

/**
 * Set the start view once the municipality's lists are loaded, then draw its incidents.
 * Without an imported base map the view holds every camera, sensor and key object.
 */
export function settleView() {
  const { map } = ctx;
  if (!map) return;
  if (!getBasemapBounds()) {
    /** @type {[number, number][]} */
    const points = [];
    for (const src of [state.cameras, state.sensors, state.keyObjects]) {
      for (const obj of src.values()) if (obj.position) points.push([obj.position.lat, obj.position.lon]);
    }
    if (points.length >= 2) map.fitBounds(L.latLngBounds(points).pad(0.08), { animate: false, maxZoom: 17 });
  }
  ctx.viewSettled = true;
  syncAllIncidents();
}

export function invalidate() {
  if (ctx.map) ctx.map.invalidateSize();
}

export function focusMap() {
  byId('map').focus();
}

export function initMap() {
  const map = L.map('map', { preferCanvas: true, zoomControl: true, attributionControl: true, minZoom: 3, maxZoom: 20, worldCopyJump: false });
  ctx.map = map;
  /** @param {string} name @param {number} z @param {boolean} [inert] */
  const pane = (name, z, inert = false) => {
    const el = map.createPane(name);
    el.style.zIndex = String(z);
    if (inert) el.style.pointerEvents = 'none';
  };
  pane('basemap', 250, true);
  pane('cones', 410);
  pane('sensorPane', 420);
  pane('labels', 430, true);
  // key objects under the incident markers and clusters (markerPane, 600): an incident at a
  // school must not hide behind the school's symbol
  pane('keyObjects', 450);
  pane('highlight', 640, true);
  ctx.renderers = {
    base: L.canvas({ pane: 'basemap', padding: 0.3 }),
    cameras: L.canvas({ pane: 'cones', padding: 0.3 }),
    sensors: L.canvas({ pane: 'sensorPane', padding: 0.3, tolerance: 3 }),
  };
  const groups = {
    base: L.layerGroup(),
    cameras: L.layerGroup(),
    sensors: L.layerGroup(),
    labels: L.layerGroup(),
    keyObjects: L.layerGroup(),
    incidents: incidentGroup(),
    planner: L.layerGroup(),
    warnings: L.layerGroup(),
  };
  ctx.groups = groups;
  addOfflineBase();
  initPlanner();
  initPersons(); // vulnerable people's tracks during an SOS episode
  for (const g of [groups.warnings, groups.cameras, groups.sensors, groups.labels, groups.keyObjects, groups.incidents]) g.addTo(map);
  initWarnings();
  initPointShares(); // places shared with agencies
  initShareHere(); // the context menu's "Share cameras here"
  map.on('zoomend moveend overlayadd overlayremove', () => schedule('map-labels', updateLabels));
  map.on('overlayremove', (ev) => {
    if (ev.layer !== groups.sensors) return;
    clearLabels();
  });

  on('sensors', (d) => {
    if (d && d.all) schedule('map-sensors-all', rebuildSensors);
    else if (d && d.ids) {
      for (const id of d.ids) dirty.sensors.add(id);
      schedule('map-dirty', flushDirty);
    }
  });
  on('cameras', (d) => {
    if (d && d.all) schedule('map-cameras-all', rebuildCameras);
    else if (d && d.ids) {
      for (const id of d.ids) dirty.cameras.add(id);
      schedule('map-dirty', flushDirty);
    }
  });
  on('incidents', (d) => {
    if (d && d.all) schedule('map-incidents-all', syncAllIncidents);
    else if (d && d.ids) {
      for (const id of d.ids) dirty.incidents.add(id);
      schedule('map-dirty', flushDirty);
    }
  });
  on('filters', () => schedule('map-incidents-all', syncAllIncidents));
  on('reference', () => rebuildKeyObjects());
  on('basemap', () => resetPlan()); // a municipality was (re)shown
  on('lang', () => {
    translateControls();
    updateLabels();
  });
  on('detail-opened', (d) => focusOn(d.kind, d.id, d.fly));
  on('close-detail', () => setHighlight(null));
  return map;
}
