// The API client: every write carries the session's CSRF token, and a 401 from any request
// tells the session module that the session has ended (except the login's own 401).
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

globalThis.window = /** @type {any} */ ({ location: { origin: 'http://console.test' } });
const { ApiError, getJSON, postJSON, setSessionHooks } = await import('../../src/cityops/web/static/js/api.js');

/** @type {{url: string, init: RequestInit}[]} */
let calls = [];
let answer = { status: 200, body: /** @type {unknown} */ ({}) };
let ended = 0;
let csrf = /** @type {string | null} */ ('token-1');

globalThis.fetch = /** @type {any} */ (async (url, init) => {
  calls.push({ url, init });
  return new Response(answer.body === null ? null : JSON.stringify(answer.body), { status: answer.status });
});

beforeEach(() => {
  calls = [];
  ended = 0;
  csrf = 'token-1';
  answer = { status: 200, body: {} };
  setSessionHooks({ csrf: () => csrf, ended: () => { ended += 1; } });
});

test('a write carries X-CSRF-Token and JSON', async () => {
  await postJSON('/m/kz/incidents/4/acknowledge', { note: null });
  const headers = /** @type {Record<string, string>} */ (calls[0]?.init.headers);
  assert.equal(calls[0]?.url, '/api/v1/m/kz/incidents/4/acknowledge');
  assert.equal(calls[0]?.init.method, 'POST');
  assert.equal(headers['X-CSRF-Token'], 'token-1');
  assert.equal(headers['Content-Type'], 'application/json');
  assert.equal(headers['X-CityOps-Operator'], undefined);
  csrf = null; // no session yet (the login itself): no header
  await postJSON('/auth/login', { username: 'a', password: 'b' });
  assert.equal(/** @type {Record<string, string>} */ (calls[1]?.init.headers)['X-CSRF-Token'], undefined);
});

test('a 401 ends the session, whichever request got it; the login form\'s own does not', async () => {
  answer = { status: 401, body: { detail: 'the session has ended: log in again' } };
  await assert.rejects(getJSON('/m/kz/incidents'), (err) => err instanceof ApiError && err.status === 401);
  assert.equal(ended, 1);
  await assert.rejects(postJSON('/m/kz/incidents/4/acknowledge', {}), ApiError);
  assert.equal(ended, 2);
  await assert.rejects(postJSON('/auth/login', {}, { quiet: true }), ApiError);
  assert.equal(ended, 2);
});

test('a 403 (CSRF or role) is the caller\'s to show, with the server\'s reason', async () => {
  answer = { status: 403, body: { detail: 'a write through the console needs the X-CSRF-Token header' } };
  await assert.rejects(postJSON('/m/kz/incidents/4/acknowledge', {}), (err) => err instanceof ApiError && err.status === 403 && String(err.detail).includes('X-CSRF-Token'));
  assert.equal(ended, 0);
});
