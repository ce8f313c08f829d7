// The incident view's buttons come from the server's `actions`, nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  actionButtons, actionPayload, allows, canAcknowledge, canAssign, canNote, canTickSop, LIFECYCLE_BUTTONS,
} from '../../src/cityops/web/static/js/actions.js';
import { incident } from './fixtures.mjs';

const enabled = (inc) => actionButtons(inc).filter((b) => b.enabled).map((b) => b.key);

test('every lifecycle button, in a fixed order, whatever the server allows', () => {
  const keys = ['acknowledge', 'dispatch', 'on_scene', 'resolve', 'close', 'reopen', 'cancel'];
  assert.deepEqual(LIFECYCLE_BUTTONS.map((b) => b.key), keys);
  assert.deepEqual(actionButtons(incident({ actions: [] })).map((b) => b.key), keys);
  // the server's order does not change the display order
  assert.deepEqual(enabled(incident({ actions: ['cancel', 'resolve', 'acknowledge'] })), ['acknowledge', 'resolve', 'cancel']);
});

test('a button is enabled exactly when its action is in `actions`, whatever the status says', () => {
  // status "resolved" but the server allows only a note: no lifecycle button
  assert.deepEqual(enabled(incident({ status: 'resolved', actions: ['note'] })), []);
  // status "new" and the server allows dispatch (e.g. a policy the console does not know)
  assert.deepEqual(enabled(incident({ status: 'new', actions: ['dispatch'] })), ['dispatch']);
  assert.deepEqual(enabled(incident({ actions: ['on-scene', 'reopen', 'close'] })), ['on_scene', 'close', 'reopen']);
});

test('paths are the action names; tooltips explain', () => {
  const buttons = actionButtons(incident({ actions: ['on-scene'] }));
  const onScene = buttons.find((b) => b.key === 'on_scene');
  assert.equal(onScene.path, '/on-scene');
  assert.equal(onScene.titleKey, 'action.hint.on_scene');
  assert.equal(buttons.find((b) => b.key === 'close').titleKey, 'action.not_now');
});

test('dispatch waits for an agency: the tooltip says so while one may be assigned', () => {
  const waiting = actionButtons(incident({ status: 'acknowledged', assigned_agency: null, actions: ['assign', 'resolve', 'cancel', 'note', 'sop'] }));
  assert.equal(waiting.find((b) => b.key === 'dispatch').titleKey, 'action.needs_agency');
  const assigned = actionButtons(incident({ status: 'acknowledged', assigned_agency: 'fire', actions: ['assign', 'dispatch'] }));
  assert.equal(assigned.find((b) => b.key === 'dispatch').titleKey, 'action.hint.dispatch');
  const closed = actionButtons(incident({ status: 'closed', assigned_agency: null, actions: ['note'] }));
  assert.equal(closed.find((b) => b.key === 'dispatch').titleKey, 'action.not_now');
});

test('keyboard a, SOP ticks, agency choice and notes follow `actions` too', () => {
  const inc = incident({ actions: ['acknowledge', 'assign', 'sop', 'note'] });
  assert.equal(canAcknowledge(inc), true);
  assert.equal(canAssign(inc), true);
  assert.equal(canTickSop(inc), true);
  assert.equal(canNote(inc), true);
  const done = incident({ status: 'closed', actions: ['note'] });
  assert.equal(canAcknowledge(done), false);
  assert.equal(canAssign(done), false);
  assert.equal(canTickSop(done), false);
  assert.equal(canNote(done), true);
});

test('an incident without `actions` (an older server) allows nothing', () => {
  const { actions: _, ...old } = incident();
  assert.equal(allows(old, 'acknowledge'), false);
  assert.deepEqual(enabled(old), []);
  assert.equal(allows(null, 'note'), false);
});

test('request bodies: a reason for cancel, an empty note otherwise', () => {
  assert.deepEqual(actionPayload('cancel', 'drill'), { reason: 'drill' });
  assert.deepEqual(actionPayload('resolve'), { note: null });
});
