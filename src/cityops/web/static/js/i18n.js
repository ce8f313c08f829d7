// @ts-check
// Translations and local formatting. Every visible string comes from i18n/<lang>.json by key;
// times are shown in the municipality's time zone (Europe/Sofia by default), never the browser's.

// Nothing here touches the DOM until setLanguage/applyI18n run, so Node imports it in tests
// (installLanguage gives it dictionaries without fetching them).

/** @typedef {Readonly<Record<string, string>>} Dictionary */

export const LANGUAGES = ['bg', 'en'];
/** @type {Readonly<Record<string, string>>} */
const LOCALES = { bg: 'bg-BG', en: 'en-GB' };
const STORAGE_KEY = 'cityops.lang';

let lang = 'bg';
/** @type {Dictionary} */
let dict = {};
/** @type {Dictionary} */
let fallback = {};
let timeZone = 'Europe/Sofia';
/** @type {Map<string, Intl.DateTimeFormat | Intl.NumberFormat>} */
const formatters = new Map();

/**
 * @param {string} code
 * @returns {Promise<Dictionary>}
 */
async function fetchDict(code) {
  const res = await fetch(`i18n/${code}.json`, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`i18n ${code}: HTTP ${res.status}`);
  return res.json();
}

/** @returns {string | null} */
export function storedLanguage() {
  const v = localStorage.getItem(STORAGE_KEY);
  return v && LANGUAGES.includes(v) ? v : null;
}

/**
 * Use these dictionaries (`fallback`: English, for keys a translation lacks).
 * @param {string} code
 * @param {Dictionary} dictionary
 * @param {Dictionary | null} [fallbackDictionary]
 */
export function installLanguage(code, dictionary, fallbackDictionary = null) {
  dict = dictionary;
  fallback = fallbackDictionary || dictionary;
  lang = code;
  formatters.clear();
}

/**
 * Fetch and use a language, translate the page, and remember the choice.
 * @param {string} code
 * @param {{remember?: boolean}} [options]
 */
export async function setLanguage(code, { remember = true } = {}) {
  if (!LANGUAGES.includes(code)) code = 'en';
  const [d, f] = await Promise.all([fetchDict(code), code === 'en' ? null : fetchDict('en')]);
  installLanguage(code, d, f);
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

/** @param {string | null | undefined} tz */
export function setTimeZone(tz) {
  timeZone = tz || 'Europe/Sofia';
  formatters.clear();
}

/**
 * Translate `key`, replacing {name} placeholders from `params`.
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
export function t(key, params) {
  let s = dict[key] ?? fallback[key];
  if (s === undefined) {
    console.warn('missing translation', key);
    s = key;
  }
  if (params) s = s.replace(/\{(\w+)\}/g, (m, /** @type {string} */ k) => (k in params ? String(params[k]) : m));
  return s;
}

/**
 * Translation of `key` when the dictionaries have it, else `fallbackText` (data, e.g. a type).
 * @param {string} key
 * @param {string} fallbackText
 * @returns {string}
 */
export function tMaybe(key, fallbackText) {
  return dict[key] ?? fallback[key] ?? fallbackText;
}

/**
 * Fill [data-i18n], [data-i18n-title], [data-i18n-placeholder], [data-i18n-aria-label].
 * @param {ParentNode} root
 */
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    if (el instanceof HTMLElement) el.textContent = t(el.dataset.i18n || '');
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) {
    if (el instanceof HTMLElement) el.title = t(el.dataset.i18nTitle || '');
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) el.placeholder = t(el.dataset.i18nPlaceholder || '');
  }
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    if (el instanceof HTMLElement) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel || ''));
  }
}

/**
 * An incident's title in the interface language when the rule gave one.
 * @param {{title?: string, title_local?: string | null} | null | undefined} inc
 */
export function incidentTitle(inc) {
  if (!inc) return '';
  if (lang !== 'en' && inc.title_local) return inc.title_local;
  return inc.title || '';
}

/**
 * A display name in the current language: the local name in Bulgarian, else the name.
 * @param {{id?: string, name?: string, name_local?: string | null} | null | undefined} obj
 */
export function displayName(obj) {
  if (!obj) return '';
  if (lang !== 'en' && obj.name_local) return obj.name_local;
  return obj.name || obj.name_local || obj.id || '';
}

/**
 * @param {string} name
 * @param {Intl.DateTimeFormatOptions} options
 * @returns {Intl.DateTimeFormat}
 */
function formatter(name, options) {
  let f = formatters.get(name);
  if (!(f instanceof Intl.DateTimeFormat)) {
    f = new Intl.DateTimeFormat(locale(), { timeZone, ...options });
    formatters.set(name, f);
  }
  return f;
}

/**
 * A formatted time that ends at its last clock field: some ICU versions append a unit to
 * Bulgarian times ("12:00:00 ч."), others do not; the control room sees the same clock in both.
 * @param {Intl.DateTimeFormat} f
 * @param {Date} d
 */
function clockText(f, d) {
  const parts = f.formatToParts(d);
  let end = parts.length;
  while (end > 0 && !['hour', 'minute', 'second'].includes(parts[end - 1].type)) end -= 1;
  return parts.slice(0, end).map((p) => p.value).join('');
}

/** @typedef {Date | number | string} TimeLike */

/** @param {TimeLike} value */
function toDate(value) {
  if (value instanceof Date) return value;
  return new Date(value);
}

/** @param {TimeLike} value */
export function fmtTime(value) {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return '—';
  return clockText(formatter('time', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }), d);
}

/** @param {TimeLike} value */
export function fmtTimeShort(value) {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return '—';
  return clockText(formatter('timeShort', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }), d);
}

/** @param {TimeLike} value */
export function fmtDate(value) {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return '—';
  return formatter('date', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(d);
}

/** @param {TimeLike} value */
export function fmtDateTime(value) {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return '—';
  const f = formatter('datetime', {
    day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  return clockText(f, d);
}

/**
 * "5 min", "2 h 10 min", "3 d" from a duration in milliseconds.
 * @param {number} ms
 */
export function fmtAge(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t('age.seconds', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('age.minutes', { n: m });
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? t('age.hours_minutes', { h, m: m % 60 }) : t('age.hours', { n: h });
  return t('age.days', { n: Math.floor(h / 24) });
}

/**
 * @param {number | null | undefined} value
 * @param {number} [digits] at most this many fraction digits
 */
export function fmtNumber(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const key = `num${digits}`;
  let f = formatters.get(key);
  if (!(f instanceof Intl.NumberFormat)) {
    f = new Intl.NumberFormat(locale(), { maximumFractionDigits: digits });
    formatters.set(key, f);
  }
  return f.format(value);
}

/** @param {number | null | undefined} metres */
export function fmtDistance(metres) {
  if (metres === null || metres === undefined) return '—';
  if (metres < 1000) return t('unit.m', { n: fmtNumber(Math.round(metres), 0) });
  return t('unit.km', { n: fmtNumber(metres / 1000, 1) });
}
