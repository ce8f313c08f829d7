// @ts-check
// The header: clock, connection state, sound and language buttons, the municipality's name or
// switcher (only municipalities the account is a member of), and switching the language.

import { visibleMunicipalities } from './access.js';
import { byId, byIdAs } from './dom.js';
import { displayName, fmtDate, fmtTime, getLanguage, setLanguage, t } from './i18n.js';
import { soundEnabled } from './sound.js';
import { emit, state } from './state.js';

export function tickClock() {
  const now = new Date();
  byId('clock-time').textContent = fmtTime(now);
  byId('clock-date').textContent = fmtDate(now);
}

/** @param {import('./types').Connection} value */
export function showConnection(value) {
  const el = byId('conn');
  el.dataset.state = value;
  const text = byId('conn-text');
  text.dataset.i18n = `conn.${value}`;
  text.textContent = t(`conn.${value}`);
}

export function showSound() {
  const btn = byId('btn-sound');
  const onNow = soundEnabled();
  btn.setAttribute('aria-pressed', String(onNow));
  const label = byId('sound-label');
  const key = onNow ? 'sound.on' : 'sound.off';
  label.dataset.i18n = key;
  label.textContent = t(key);
}

export function showLanguageButtons() {
  for (const b of document.querySelectorAll('.lang-btn, .login-lang-btn')) {
    if (b instanceof HTMLElement) b.setAttribute('aria-pressed', String(b.dataset.lang === getLanguage()));
  }
}

export function showMunicipalityName() {
  const muni = state.municipality;
  byId('muni-name').textContent = muni ? displayName(muni) : '';
  const sel = byIdAs('muni-select', HTMLSelectElement);
  const list = visibleMunicipalities(state.me, (state.config && state.config.municipalities) || []);
  sel.hidden = list.length < 2;
  byId('muni-name').hidden = list.length >= 2;
  if (list.length >= 2) {
    sel.replaceChildren(...list.map((m) => {
      const o = document.createElement('option');
      o.value = m.id;
      o.textContent = displayName(m);
      o.selected = m.id === state.mid;
      return o;
    }));
  }
  document.title = muni ? `${displayName(muni)} · ${t('app.title')}` : t('app.title');
}

/** @param {string} code */
export async function switchLanguage(code) {
  await setLanguage(code);
  showLanguageButtons();
  showConnection(state.connection);
  showSound();
  showMunicipalityName();
  tickClock();
  emit('lang', code);
}
