// The recipient's page share.html against its modules: every element js/share/ looks up is in
// the page, every file it loads is local and present, every text key it names is translated,
// and nothing inline that the Content-Security-Policy would block.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const STATIC = new URL('../../src/cityops/web/static/', import.meta.url);
const html = readFileSync(new URL('share.html', STATIC), 'utf-8');
const modules = readdirSync(new URL('js/share/', STATIC)).filter((f) => f.endsWith('.js'));
const source = (name) => readFileSync(new URL(`js/share/${name}`, STATIC), 'utf-8');
const dict = (lang) => JSON.parse(readFileSync(new URL(`i18n/${lang}.json`, STATIC), 'utf-8'));

const ids = new Set([...html.matchAll(/\sid="([\w-]+)"/g)].map((m) => m[1]));

test('every element the modules look up is in share.html', () => {
  let looked = 0;
  for (const name of modules) {
    for (const m of source(name).matchAll(/pageEl\('([\w-]+)'\)|closest\('#([\w-]+)'\)/g)) {
      looked += 1;
      const id = m[1] ?? m[2];
      assert.ok(ids.has(id), `js/share/${name} looks up #${id}, which share.html lacks`);
    }
  }
  assert.ok(looked >= 10, `only ${looked} look-ups found: the scan is broken`);
});

test('what share.html loads is local and present', () => {
  const refs = [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((r) => !r.startsWith('data:'));
  assert.ok(refs.includes('js/share/main.js'));
  assert.ok(refs.includes('vendor/leaflet/leaflet.js'));
  for (const ref of refs) {
    assert.ok(!ref.includes('//'), `non-local reference ${ref}`);
    assert.ok(existsSync(new URL(ref, STATIC)), `${ref} is missing`);
  }
});

test('no inline script, style or handler (the page runs under the console\'s CSP)', () => {
  assert.equal([...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>/g)].length, 0, 'inline <script>');
  assert.ok(!/<style[\s>]/.test(html), 'inline <style>');
  assert.ok(!/\sstyle="/.test(html), 'style attribute');
  assert.ok(!/\son[a-z]+="/.test(html), 'inline event handler');
  for (const name of modules) assert.ok(!/innerHTML\s*=/.test(source(name)), `js/share/${name} writes innerHTML`);
});

test('every text key of the page and its modules is translated in both languages', () => {
  const keys = new Set([...html.matchAll(/data-i18n(?:-[a-z-]+)?="([\w.]+)"/g)].map((m) => m[1]));
  for (const name of modules) {
    for (const m of source(name).matchAll(/'((?:share|camera|incident|map|common|severity|status)\.[a-z_]+)'/g)) keys.add(m[1]);
  }
  assert.ok(keys.size >= 25, `only ${keys.size} keys found`);
  for (const lang of ['en', 'bg']) {
    const d = dict(lang);
    const missing = [...keys].filter((k) => !(k in d));
    assert.deepEqual(missing, [], `${lang} lacks keys`);
  }
});
