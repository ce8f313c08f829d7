// @ts-check
// The camera network plan (docs/PLANNER.md "Console"): the municipality's newest stored plan
// (`cityops plan --municipality`) as proposed cameras, their fields of view and the key objects
// it leaves uncovered. Off by default; loaded when its toggle in the layer control is turned on.

import { getJSON, mpath } from '../api.js';
import { t } from '../i18n.js';
import { state } from '../state.js';
import { ctx, escapeText } from './context.js';

/** @typedef {{id: number, name: string, cameras: number, coverage: number, gap: number, created_at: string}} PlanSummary */
/** @typedef {GeoJSON.FeatureCollection & {plan?: Record<string, unknown>}} PlanCollection */

/** @type {string | null} which municipality's plan the layer holds */
let loadedFor = null;

/** @param {GeoJSON.Feature} f */
const kindOf = (f) => String((f.properties && f.properties.kind) || '');

/** @param {Record<string, unknown>} p */
function cameraTip(p) {
  const heading = p.heading_deg === null ? t('planner.ptz') : `${Number(p.heading_deg).toFixed(0)}°`;
  const gain = /** @type {Record<string, number>} */ (p.gain || {});
  return t('planner.camera_tip', {
    rank: String(p.rank),
    model: escapeText(String(p.model)),
    heading,
    cost: Number(p.cost).toLocaleString(),
    safety: (gain.safety ?? 0).toFixed(1),
    transport: (gain.transport ?? 0).toFixed(1),
    disasters: (gain.disasters ?? 0).toFixed(1),
  });
}

/** @param {Record<string, unknown>} p */
function keyTip(p) {
  const name = escapeText(String(p.name || p.category || ''));
  return t('planner.uncovered_tip', { name, covered: String(Math.round(Number(p.covered) * 100)) });
}

/** @param {PlanCollection} plan */
export function drawPlan(plan) {
  const group = ctx.groups.planner;
  group.clearLayers();
  /** @type {L.GeoJSONOptions & {renderer: L.Renderer}} */
  const views = {
    renderer: ctx.renderers.cameras,
    pane: 'cones',
    interactive: false,
    filter: (f) => kindOf(f) === 'view',
    style: () => ({ color: '#7e57c2', weight: 1, fillColor: '#b39ddb', fillOpacity: 0.28 }),
  };
  group.addLayer(L.geoJSON(plan, views));
  group.addLayer(
    L.geoJSON(plan, {
      filter: (f) => kindOf(f) === 'camera',
      pointToLayer: (f, ll) => {
        const m = L.circleMarker(ll, { radius: 6, color: '#4527a0', weight: 3, fillColor: '#fff', fillOpacity: 1, pane: 'keyObjects' });
        m.bindTooltip(cameraTip(f.properties || {}), { className: 'map-tip', direction: 'top' });
        return m;
      },
    }),
  );
  group.addLayer(
    L.geoJSON(plan, {
      filter: (f) => kindOf(f) === 'key_object' && Boolean(f.properties && f.properties.uncovered),
      pointToLayer: (f, ll) => {
        const m = L.circleMarker(ll, { radius: 5, color: '#c62828', weight: 2, fillColor: '#ef9a9a', fillOpacity: 0.9, pane: 'keyObjects' });
        m.bindTooltip(keyTip(f.properties || {}), { className: 'map-tip', direction: 'top' });
        return m;
      },
    }),
  );
  // for tests: what was drawn (the markers are on a canvas)
  const count = (/** @type {(f: GeoJSON.Feature) => boolean} */ test) => String(plan.features.filter(test).length);
  const el = ctx.map.getContainer();
  el.dataset.planViews = count((f) => kindOf(f) === 'view');
  el.dataset.planUncovered = count((f) => kindOf(f) === 'key_object' && Boolean(f.properties && f.properties.uncovered));
  el.dataset.planCameras = count((f) => kindOf(f) === 'camera');
}

/** Fetch and draw the newest plan of the municipality shown (once per municipality). */
export async function loadPlan() {
  const mid = state.mid;
  if (!mid || loadedFor === mid) return;
  loadedFor = mid;
  ctx.groups.planner.clearLayers();
  try {
    /** @type {PlanSummary[]} */
    const plans = await getJSON(mpath(mid, '/plans'));
    const newest = plans[0];
    if (!newest) {
      ctx.map.getContainer().dataset.planCameras = '0';
      return;
    }
    /** @type {PlanCollection} */
    const plan = await getJSON(mpath(mid, `/plans/${newest.id}`));
    if (state.mid === mid) drawPlan(plan);
  } catch (err) {
    loadedFor = null;
    console.warn('plan unavailable', err);
  }
}

/** Load the plan whenever its layer is switched on (and again after a municipality change). */
export function initPlanner() {
  const { map, groups } = ctx;
  map.on('overlayadd', (ev) => {
    if (ev.layer === groups.planner) void loadPlan();
  });
}

/** Forget the loaded plan (another municipality is shown): reloaded if the layer is on. */
export function resetPlan() {
  loadedFor = null;
  ctx.groups.planner.clearLayers();
  if (ctx.map.hasLayer(ctx.groups.planner)) void loadPlan();
}
