// The live feed's events (contract: hello, incident, sensor, camera, resync) applied to the
// console's state, without an EventSource.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { on } from '../../src/cityops/web/static/js/bus.js';
import { applyLiveEvent, dispatchLive, LIVE_KINDS, parseLiveEvent } from '../../src/cityops/web/static/js/live-events.js';
import { setCameras, setMunicipality, setSensors, state } from '../../src/cityops/web/static/js/state.js';
import { camera, incident, sensor } from './fixtures.mjs';

/** Handlers that record what they were given. */
function recorder() {
  const calls = { hello: [], resync: [] };
  return { calls, handlers: { hello: (d) => calls.hello.push(d), resync: (r) => calls.resync.push(r) } };
}

/** The bus events emitted while `fn` runs. */
function emitted(name, fn) {
  const got = [];
  const off = on(name, (d) => got.push(d));
  try {
    fn();
  } finally {
    off();
  }
  return got;
}

const send = (kind, data, handlers = recorder().handlers) => dispatchLive(kind, JSON.stringify(data), handlers);

beforeEach(() => {
  setMunicipality({ id: 'testtown', name: 'Test Town', name_local: null, timezone: 'Europe/Sofia', center: null });
  setSensors([sensor(), sensor({ id: 'river-2', state: 'unknown', value: null, ts: null })]);
  setCameras([camera()]);
});

test('the contract lists six kinds, and every one is handled', () => {
  assert.deepEqual([...LIVE_KINDS].sort(), ['camera', 'detections', 'hello', 'incident', 'person', 'resync', 'sensor', 'warning']);
  const { handlers } = recorder();
  const samples = {
    hello: { municipality: 'testtown', server_time: '2026-12-03T08:00:00Z' },
    incident: incident(),
    sensor: { id: 'river-1', value: 2.5, ts: '2026-12-03T08:01:00Z', state: 'ok' },
    camera: { id: 'cam-a', health: 'online' },
    resync: { reason: 'overflow' },
    detections: { id: 'cam-a', ts: '2026-12-03T08:01:00Z', objects: [{ track: 3, label: 'person', box: [0.1, 0.2, 0.3, 0.6] }] },
    warning: { change: 'opened', identifier: 'a1', headline: 'Flood', sender: 's', severity: 'Severe', lon: 25.4, lat: 42.6, expires: null, signature: 'absent' },
    person: { person_id: 3, incident_id: 9, kind: 'sos', ts: '2026-12-03T08:01:00Z', lon: 25.39, lat: 42.62, accuracy_m: 8, inside: false },
  };
  for (const kind of LIVE_KINDS) assert.equal(send(kind, samples[kind], handlers), true, kind);
});

test('incident: a new open incident joins the state and flashes', () => {
  const inc = incident({ id: 501 });
  const events = emitted('incidents', () => send('incident', inc));
  assert.deepEqual(state.incidents.get(501), inc);
  assert.deepEqual(events, [{ ids: [501], added: [501] }]);
  // the next update of it does not flash again
  const again = emitted('incidents', () => send('incident', { ...inc, status: 'acknowledged', updated_at: '2026-12-03T08:05:00Z', actions: ['assign', 'note'] }));
  assert.deepEqual(again, [{ ids: [501], added: [] }]);
  assert.equal(state.incidents.get(501).status, 'acknowledged');
  assert.deepEqual(state.incidents.get(501).actions, ['assign', 'note']);
});

test('incident: an older copy arriving late, or another municipality\'s, changes nothing', () => {
  send('incident', incident({ id: 502, status: 'acknowledged', updated_at: '2026-12-03T08:10:00Z' }));
  assert.equal(send('incident', incident({ id: 502, status: 'new', updated_at: '2026-12-03T08:00:00Z' })), false);
  assert.equal(state.incidents.get(502).status, 'acknowledged');
  assert.equal(send('incident', incident({ id: 503, municipality: 'elsewhere' })), false);
  assert.equal(state.incidents.has(503), false);
});

test('sensor: a new reading; a state change without one keeps the value', () => {
  const events = emitted('sensors', () => send('sensor', { id: 'river-1', value: 3.1, ts: '2026-12-03T08:02:00Z', state: 'alarm' }));
  assert.deepEqual(events, [{ ids: ['river-1'], readings: [{ id: 'river-1', ts: '2026-12-03T08:02:00Z', value: 3.1 }] }]);
  assert.equal(state.sensors.get('river-1').state, 'alarm');
  assert.equal(state.sensors.get('river-1').value, 3.1);

  const stale = emitted('sensors', () => send('sensor', { id: 'river-1', value: null, ts: null, state: 'stale' }));
  assert.deepEqual(stale, [{ ids: ['river-1'], readings: [] }]);
  const s = state.sensors.get('river-1');
  assert.equal(s.state, 'stale');
  // ts null: no new reading; the last one stays, so the panel says since when it is silent
  assert.equal(s.value, 3.1);
  assert.equal(s.ts, '2026-12-03T08:02:00Z');
  assert.equal(s.name, 'River gauge 1');
});

test('sensor: an older reading is ignored; an unknown sensor is ignored', () => {
  send('sensor', { id: 'river-1', value: 2.2, ts: '2026-12-03T08:05:00Z', state: 'ok' });
  assert.equal(send('sensor', { id: 'river-1', value: 9, ts: '2026-12-03T08:04:00Z', state: 'alarm' }), false);
  assert.equal(state.sensors.get('river-1').value, 2.2);
  assert.equal(send('sensor', { id: 'nope', value: 1, ts: '2026-12-03T08:05:00Z', state: 'ok' }), false);
});

test('camera: health', () => {
  const events = emitted('cameras', () => send('camera', { id: 'cam-a', health: 'tampered' }));
  assert.deepEqual(events, [{ ids: ['cam-a'] }]);
  assert.equal(state.cameras.get('cam-a').health, 'tampered');
  assert.equal(send('camera', { id: 'cam-zz', health: 'online' }), false);
});

test('hello and resync go to their handlers (resync: refetch)', () => {
  const { calls, handlers } = recorder();
  send('hello', { municipality: 'testtown', server_time: '2026-12-03T08:00:00Z' }, handlers);
  send('resync', { reason: 'overflow' }, handlers);
  dispatchLive('resync', '{}', handlers); // an older server sent no reason
  assert.deepEqual(calls.hello, [{ municipality: 'testtown', server_time: '2026-12-03T08:00:00Z' }]);
  assert.deepEqual(calls.resync, ['overflow', 'overflow']);
});

test('malformed events are dropped without touching the state', () => {
  const before = state.incidents.size;
  assert.equal(parseLiveEvent('incident', 'not json'), null);
  assert.equal(parseLiveEvent('incident', '[1, 2]'), null);
  assert.equal(parseLiveEvent('incident', '{"id": "7", "status": "new"}'), null);
  assert.equal(parseLiveEvent('sensor', '{"value": 1}'), null);
  assert.equal(parseLiveEvent('camera', '{"id": "cam-a"}'), null);
  assert.equal(parseLiveEvent('weather', '{}'), null);
  const warn = console.warn;
  console.warn = () => {};
  try {
    assert.equal(dispatchLive('incident', 'not json', recorder().handlers), false);
  } finally {
    console.warn = warn;
  }
  assert.equal(state.incidents.size, before);
});

test('parse keeps the sensor update to the contract\'s fields', () => {
  assert.deepEqual(parseLiveEvent('sensor', '{"id": "s", "value": "x", "ts": 5, "state": "stale", "extra": 1}'), {
    kind: 'sensor',
    data: { id: 's', value: null, ts: null, state: 'stale' },
  });
  assert.deepEqual(applyLiveEvent({ kind: 'sensor', data: { id: 'river-2', state: 'offline' } }, recorder().handlers), true);
  assert.equal(state.sensors.get('river-2').state, 'offline');
});

test('warning: handed to the warnings layer, malformed ones dropped', () => {
  const got = emitted('warning', () => send('warning', { change: 'cancelled', identifier: 'a1', headline: 'Flood', extra: 1 }));
  assert.deepEqual(got, [{ identifier: 'a1', change: 'cancelled', headline: 'Flood' }]);
  assert.deepEqual(emitted('warning', () => send('warning', { change: 'opened' })), []);
  assert.deepEqual(emitted('warning', () => send('warning', { identifier: 7, change: 'opened' })), []);
});

test('detections: handed to the camera wall, malformed ones dropped', () => {
  const good = { id: 'cam-a', ts: '2026-12-03T08:01:00Z', objects: [{ track: 3, label: 'vehicle', box: [0.1, 0.2, 0.3, 0.6] }] };
  const got = emitted('detections', () => send('detections', good));
  assert.deepEqual(got, [good]);
  for (const bad of [{ ...good, objects: [{ label: 'person', box: [0, 0, 1] }] }, { ...good, objects: null }, { ts: good.ts, objects: [] }]) {
    assert.deepEqual(emitted('detections', () => send('detections', bad)), []);
  }
});

test('person: a track point handed to the persons layer, malformed ones dropped', () => {
  const point = { person_id: 3, incident_id: 9, kind: 'position', ts: '2026-12-03T08:01:00Z', lon: 25.39, lat: 42.62, accuracy_m: null, inside: false };
  assert.deepEqual(emitted('person', () => send('person', { ...point, name: 'never sent, never kept' })), [point]);
  const noPlace = { ...point, kind: 'sos', lon: null, lat: null, incident_id: null, inside: null };
  assert.deepEqual(emitted('person', () => send('person', noPlace)), [noPlace]);
  for (const bad of [{ ...point, person_id: '3' }, { ...point, ts: null }, [point]]) {
    assert.deepEqual(emitted('person', () => send('person', bad)), []);
  }
});
