// The ingest health banner: shown while the server says degraded, with its reasons.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { healthBanner } from '../../src/cityops/web/static/js/health.js';

test('hidden when ok or not known yet', () => {
  assert.deepEqual(healthBanner(null), { show: false, reasons: [] });
  assert.deepEqual(healthBanner({ status: 'ok', reasons: [] }), { show: false, reasons: [] });
  assert.deepEqual(healthBanner({ status: 'ok', reasons: ['ignored when ok'] }), { show: false, reasons: [] });
});

test('shown with the reasons while degraded', () => {
  assert.deepEqual(healthBanner({ status: 'degraded', reasons: ['mqtt_disconnected', 'ingest_stalled'] }), {
    show: true,
    reasons: ['mqtt_disconnected', 'ingest_stalled'],
  });
});

test('degraded without reasons: derived from the flags, or none', () => {
  assert.deepEqual(healthBanner({ status: 'degraded', mqtt_connected: false }), { show: true, reasons: ['mqtt_disconnected'] });
  assert.deepEqual(healthBanner({ status: 'degraded', reasons: [] }), { show: true, reasons: [] });
  assert.deepEqual(healthBanner({ status: 'degraded', reasons: ['', 7, 'ingest_stalled'] }), { show: true, reasons: ['ingest_stalled'] });
});
