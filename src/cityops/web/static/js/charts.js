// @ts-check
// uPlot charts of a sensor's recent readings, with the rule thresholds as horizontal lines.

import { getJSON, mpath } from './api.js';
import { h } from './dom.js';
import { fmtNumber, fmtTimeShort, t } from './i18n.js';
import { state } from './state.js';

const HOURS = 6;
/** @type {Readonly<Record<string, string>>} */
const THRESHOLD_COLOURS = { above: '#ff6b6b', below: '#e3b341' };

/** @typedef {import('./types').ThresholdLine} ThresholdLine */
/** @typedef {{sensorId: string, append: (ts: string, value: number | null | undefined) => void, destroy: () => void}} ChartHandle */

/**
 * @param {ThresholdLine[]} thresholds
 * @param {string} unit
 * @returns {uPlot.Plugin}
 */
function thresholdPlugin(thresholds, unit) {
  return {
    hooks: {
      draw: [
        (/** @type {uPlot} */ u) => {
          const { ctx } = u;
          const { left, top, width, height } = u.bbox;
          const dpr = window.devicePixelRatio || 1;
          ctx.save();
          ctx.font = `${11 * dpr}px system-ui, sans-serif`;
          ctx.textAlign = 'left';
          for (const th of thresholds) {
            const y = Math.round(u.valToPos(th.value, 'y', true));
            if (y < top - 1 || y > top + height + 1) continue;
            const colour = THRESHOLD_COLOURS[th.op] || THRESHOLD_COLOURS.above;
            ctx.strokeStyle = colour;
            ctx.lineWidth = 1.5 * dpr;
            ctx.setLineDash([6 * dpr, 4 * dpr]);
            ctx.beginPath();
            ctx.moveTo(left, y);
            ctx.lineTo(left + width, y);
            ctx.stroke();
            const label = t(th.op === 'below' ? 'chart.below' : 'chart.above', { value: fmtNumber(th.value, 2), unit: unit || '' }).trim();
            const textW = ctx.measureText(label).width;
            const x = left + 6 * dpr;
            const ty = th.op === 'below' ? y + 3 * dpr : y - 17 * dpr;
            ctx.setLineDash([]);
            ctx.fillStyle = 'rgba(16, 22, 30, 0.88)';
            ctx.fillRect(x - 3 * dpr, ty, textW + 6 * dpr, 15 * dpr);
            ctx.fillStyle = colour;
            ctx.textBaseline = 'top';
            ctx.fillText(label, x, ty + 2 * dpr);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * @param {ThresholdLine[]} thresholds
 * @returns {uPlot.Range.Function}
 */
function yRange(thresholds) {
  return (_u, min, max) => {
    /** @type {number | null} */
    let lo = min;
    /** @type {number | null} */
    let hi = max;
    for (const th of thresholds) {
      lo = lo === null || lo === undefined ? th.value : Math.min(lo, th.value);
      hi = hi === null || hi === undefined ? th.value : Math.max(hi, th.value);
    }
    if (lo === null || lo === undefined || hi === null || hi === undefined) return [0, 1];
    if (lo === hi) return [lo - 1, hi + 1];
    const pad = (hi - lo) * 0.12;
    return [lo - pad, hi + pad];
  };
}

/**
 * Draw the last six hours of `sensor` into `container`. Returns a handle with
 * append(ts, value) for live readings and destroy().
 * @param {HTMLElement} container
 * @param {Readonly<import('./types').Sensor>} sensor
 * @returns {Promise<ChartHandle | null>}
 */
export async function sensorChart(container, sensor) {
  const now = Date.now();
  const since = new Date(now - HOURS * 3600e3).toISOString();
  container.replaceChildren(h('div', { class: 'chart-msg' }, t('common.loading')));
  /** @type {import('./types').ReadingPoint[]} */
  let rows;
  try {
    rows = await getJSON(mpath(state.mid || '', `/sensors/${encodeURIComponent(sensor.id)}/readings`), { since, limit: 5000 });
  } catch {
    container.replaceChildren(h('div', { class: 'chart-msg' }, t('chart.error')));
    return null;
  }
  rows.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  const xs = rows.map((r) => Date.parse(r.ts) / 1000);
  /** @type {(number | null)[]} */
  const ys = rows.map((r) => (r.value === null || r.value === undefined ? null : Number(r.value)));
  const thresholds = (sensor.thresholds || []).filter((th) => typeof th.value === 'number');
  container.replaceChildren();
  if (!rows.length) container.appendChild(h('div', { class: 'chart-msg overlay' }, t('chart.no_data', { hours: HOURS })));
  const width = Math.max(220, container.clientWidth || 320);
  /** @type {uPlot.Options} */
  const opts = {
    width,
    height: 150,
    pxAlign: 0,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    scales: {
      x: { time: true, range: () => [(Date.now() - HOURS * 3600e3) / 1000, Date.now() / 1000] },
      y: { range: yRange(thresholds) },
    },
    series: [
      {},
      { stroke: '#58a6ff', width: 1.6, fill: 'rgba(88,166,255,0.10)', spanGaps: false, points: { show: false } },
    ],
    axes: [
      {
        stroke: '#9fb0c0',
        grid: { stroke: 'rgba(159,176,192,0.12)', width: 1 },
        ticks: { stroke: 'rgba(159,176,192,0.25)', width: 1 },
        font: '11px system-ui, sans-serif',
        space: 60,
        values: (_u, splits) => splits.map((v) => fmtTimeShort(v * 1000)),
      },
      {
        stroke: '#9fb0c0',
        grid: { stroke: 'rgba(159,176,192,0.12)', width: 1 },
        ticks: { stroke: 'rgba(159,176,192,0.25)', width: 1 },
        font: '11px system-ui, sans-serif',
        size: 52,
        values: (_u, splits) => splits.map((v) => fmtNumber(v, 2)),
      },
    ],
    plugins: [thresholdPlugin(thresholds, sensor.unit || '')],
  };
  const plot = new uPlot(opts, [xs, ys], container);
  const ro = new ResizeObserver(() => {
    const w = container.clientWidth;
    if (w && Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: 150 });
  });
  ro.observe(container);
  return {
    sensorId: sensor.id,
    append(ts, value) {
      const x = Date.parse(ts) / 1000;
      if (!Number.isFinite(x)) return;
      const last = xs[xs.length - 1];
      if (last !== undefined && x <= last) return;
      xs.push(x);
      ys.push(value === null || value === undefined ? null : Number(value));
      const cutoff = Date.now() / 1000 - HOURS * 3600;
      while (xs.length && (xs[0] ?? cutoff) < cutoff) {
        xs.shift();
        ys.shift();
      }
      const msg = container.querySelector('.chart-msg');
      if (msg) msg.remove();
      plot.setData([xs, ys]);
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
    },
  };
}
