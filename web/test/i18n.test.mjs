// Translations and local formatting, in Bulgarian and English, in Europe/Sofia whatever the
// machine's own zone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, test } from 'node:test';

import {
  displayName, fmtAge, fmtDate, fmtDateTime, fmtDistance, fmtNumber, fmtTime, fmtTimeShort, getLanguage, incidentTitle, installLanguage, locale,
  setTimeZone, t, tMaybe,
} from '../../src/cityops/web/static/js/i18n.js';

const dict = (lang) => JSON.parse(readFileSync(new URL(`../../src/cityops/web/static/i18n/${lang}.json`, import.meta.url), 'utf-8'));
const EN = dict('en');
const BG = dict('bg');
const use = (lang) => installLanguage(lang, lang === 'en' ? EN : BG, EN);
// Intl puts narrow no-break spaces in some formats; compare with plain spaces
const plain = (s) => s.replace(/[\u00a0\u202f]/g, ' ');

afterEach(() => setTimeZone('Europe/Sofia'));

test('t: placeholders, fallback to English, the key itself when nothing has it', () => {
  use('bg');
  assert.equal(getLanguage(), 'bg');
  assert.equal(locale(), 'bg-BG');
  assert.equal(t('status.new'), BG['status.new']);
  assert.equal(t('incident.number', { id: 42 }), BG['incident.number'].replace('{id}', '42'));
  assert.equal(t('incident.number'), BG['incident.number']); // no params: placeholders stay
  installLanguage('bg', { 'only.bg': 'само' }, { 'only.en': 'English only' });
  assert.equal(t('only.en'), 'English only');
  const warn = console.warn;
  console.warn = () => {};
  try {
    assert.equal(t('no.such.key'), 'no.such.key');
  } finally {
    console.warn = warn;
  }
  assert.equal(tMaybe('no.such.key', 'data'), 'data');
});

test('times are shown in Europe/Sofia: UTC+2 in winter, UTC+3 in summer', () => {
  use('en');
  assert.equal(fmtTime('2026-01-15T12:00:00Z'), '14:00:00');
  assert.equal(fmtTime('2026-07-01T12:00:00Z'), '15:00:00');
  assert.equal(fmtTimeShort(Date.UTC(2026, 0, 15, 22, 5)), '00:05');
  // the day changes at local midnight
  assert.match(plain(fmtDate('2026-01-15T22:30:00Z')), /16 Jan 2026/);
  assert.equal(plain(fmtDateTime('2026-03-29T00:59:59Z')), '29/03, 02:59:59');
  assert.equal(plain(fmtDateTime('2026-03-29T01:00:00Z')), '29/03, 04:00:00'); // clocks go forward
  assert.equal(fmtTime('not a date'), '—');
  assert.equal(fmtDateTime('not a date'), '—');
  assert.equal(fmtDate('not a date'), '—');
});

test('another municipality\'s zone is honoured', () => {
  use('en');
  setTimeZone('Europe/Lisbon');
  assert.equal(fmtTime('2026-01-15T12:00:00Z'), '12:00:00');
  setTimeZone(null);
  assert.equal(fmtTime('2026-01-15T12:00:00Z'), '14:00:00');
});

test('dates in Bulgarian', () => {
  use('bg');
  // "чт, 3.12.2026 г.": a Bulgarian weekday, the day before the month
  assert.match(plain(fmtDate('2026-12-03T10:00:00Z')), /^чт, 3\.12\.2026/);
  assert.match(plain(fmtDate('2026-12-03T22:30:00Z')), /^пт, 4\.12\.2026/);
  assert.equal(fmtTime('2026-12-03T10:00:00Z'), '12:00:00');
  assert.match(plain(fmtDateTime('2026-12-03T10:00:00Z')), /^03\.12.* 12:00:00$/);
});

test('numbers: decimal comma in Bulgarian, point in English; grouping; nothing as a dash', () => {
  use('en');
  assert.equal(fmtNumber(2.345, 2), '2.35');
  assert.equal(fmtNumber(3, 2), '3');
  assert.equal(fmtNumber(12345.6, 1), '12,345.6');
  assert.equal(fmtNumber(null), '—');
  assert.equal(fmtNumber(undefined), '—');
  assert.equal(fmtNumber(Number.NaN), '—');
  use('bg');
  assert.equal(fmtNumber(2.345, 2), '2,35');
  assert.equal(plain(fmtNumber(12345.6, 1)), '12 345,6');
  assert.equal(fmtNumber(0, 0), '0');
});

test('distances: metres, then kilometres', () => {
  use('en');
  assert.equal(fmtDistance(12.4), EN['unit.m'].replace('{n}', '12'));
  assert.equal(fmtDistance(1530), EN['unit.km'].replace('{n}', '1.5'));
  assert.equal(fmtDistance(null), '—');
  use('bg');
  assert.equal(fmtDistance(1530), BG['unit.km'].replace('{n}', '1,5'));
});

test('ages: seconds, minutes, hours and minutes, days; in both languages', () => {
  for (const [lang, d] of [['en', EN], ['bg', BG]]) {
    use(lang);
    assert.equal(fmtAge(-5000), d['age.seconds'].replace('{n}', '0'), lang);
    assert.equal(fmtAge(59_999), d['age.seconds'].replace('{n}', '59'), lang);
    assert.equal(fmtAge(60_000), d['age.minutes'].replace('{n}', '1'), lang);
    assert.equal(fmtAge(2 * 3600e3), d['age.hours'].replace('{n}', '2'), lang);
    assert.equal(fmtAge(2 * 3600e3 + 10 * 60e3), d['age.hours_minutes'].replace('{h}', '2').replace('{m}', '10'), lang);
    assert.equal(fmtAge(3 * 86400e3 + 5), d['age.days'].replace('{n}', '3'), lang);
  }
});

test('stale sensors and the ingest banner are translated in both languages', () => {
  for (const [lang, d] of [['en', EN], ['bg', BG]]) {
    use(lang);
    assert.ok(t('sensor_state.stale') && t('sensor_state.stale') !== t('sensor_state.offline'), lang);
    assert.equal(t('sensor.stale_for', { age: fmtAge(25 * 60e3) }), d['sensor.stale_for'].replace('{age}', d['age.minutes'].replace('{n}', '25')));
    assert.ok(t('ingest.degraded'), lang);
  }
  use('bg');
  assert.match(t('sensor.stale_for', { age: '5 мин' }), /няма данни/i);
});

test('names and titles in the interface language', () => {
  const muni = { id: 'x', name: 'Test Town', name_local: 'Тестово' };
  const inc = { title: 'River level high', title_local: 'Високо ниво' };
  use('bg');
  assert.equal(displayName(muni), 'Тестово');
  assert.equal(incidentTitle(inc), 'Високо ниво');
  assert.equal(incidentTitle({ title: 'Only English', title_local: null }), 'Only English');
  use('en');
  assert.equal(displayName(muni), 'Test Town');
  assert.equal(incidentTitle(inc), 'River level high');
  assert.equal(displayName({ id: 'only-id' }), 'only-id');
  assert.equal(displayName(null), '');
});
