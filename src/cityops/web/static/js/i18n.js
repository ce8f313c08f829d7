// Translations and local formatting. Every visible string comes from i18n/<lang>.json by key;
// times are shown in the municipality's time zone (Europe/Sofia by default), never the browser's.

export const LANGUAGES = ['bg', 'en'];
const LOCALES = { bg: 'bg-BG', en: 'en-GB' };
const STORAGE_KEY = 'cityops.lang';

let lang = 'bg';
let dict = {};
let fallback = {};
let timeZone = 'Europe/Sofia';
const formatters = new Map();

async function fetchDict(code) {
  const res = await fetch(`i18n/${code}.json`, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`i18n ${code}: HTTP ${res.status}`);
  return res.json();
}

export function storedLanguage() {
  const v = localStorage.getItem(STORAGE_KEY);
  return LANGUAGES.includes(v) ? v : null;
}

export async function setLanguage(code, { remember = true } = {}) {
  if (!LANGUAGES.includes(code)) code = 'en';
  const [d, f] = await Promise.all([fetchDict(code), code === 'en' ? null : fetchDict('en')]);
  dict = d;
  fallback = f || d;
  lang = code;
  formatters.clear();
  document.documentElement.lang = code;
  if (remember) localStorage.setItem(STORAGE_KEY, code);
  applyI18n(document);
}

export function getLanguage() {
  return lang;
}

export function locale() {
  return LOCALES[lang] || 'en-GB';
}

export function setTimeZone(tz) {
  timeZone = tz || 'Europe/Sofia';
  formatters.clear();
}

/** Translate `key`, replacing {name} placeholders from `params`. */
export function t(key, params) {
  let s = dict[key] ?? fallback[key];
  if (s === undefined) {
    console.warn('missing translation', key);
    s = key;
  }
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/** Translation of `key` when the dictionaries have it, else `fallbackText` (data, e.g. a type). */
export function tMaybe(key, fallbackText) {
  return dict[key] ?? fallback[key] ?? fallbackText;
}

/** Fill [data-i18n], [data-i18n-title], [data-i18n-placeholder], [data-i18n-aria-label]. */
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
}

/** A display name in the current language: the local name in Bulgarian, else the name. */
/** An incident's title in the interface language when the rule gave one. */
export function incidentTitle(inc) {
  if (!inc) return '';
  if (lang !== 'en' && inc.title_local) return inc.title_local;
  return inc.title || '';
}

export function displayName(obj) {
  if (!obj) return '';
  if (lang !== 'en' && obj.name_local) return obj.name_local;
  return obj.name || obj.name_local || obj.id || '';
}

function formatter(name, options) {
  let f = formatters.get(name);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(), { timeZone, ...options });
    formatters.set(name, f);
  }
  return f;
}

function toDate(value) {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  return new Date(value);
}

export function fmtTime(value) {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return '—';
  return formatter('time', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(d);
}

export function fmtTimeShort(value) {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return '—';
  return formatter('timeShort', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

export function fmtDate(value) {
  const d = toDate(value);
  return formatter('date', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(d);
}

export function fmtDateTime(value) {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return '—';
  return formatter('datetime', {
    day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).format(d);
}

/** "5 min", "2 h 10 min", "3 d" from a duration in milliseconds. */
export function fmtAge(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t('age.seconds', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('age.minutes', { n: m });
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? t('age.hours_minutes', { h, m: m % 60 }) : t('age.hours', { n: h });
  return t('age.days', { n: Math.floor(h / 24) });
}

export function fmtNumber(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const key = `num${digits}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale(), { maximumFractionDigits: digits });
    formatters.set(key, f);
  }
  return f.format(value);
}

export function fmtDistance(metres) {
  if (metres === null || metres === undefined) return '—';
  if (metres < 1000) return t('unit.m', { n: fmtNumber(Math.round(metres), 0) });
  return t('unit.km', { n: fmtNumber(metres / 1000, 1) });
}
