// @ts-check
// Toasts, dialogs and the operator's identity.

import { byId, byIdAs, h } from './dom.js';
import { t } from './i18n.js';

const OPERATOR_KEY = 'cityops.operator';

/**
 * A short message in the corner; errors are announced as alerts.
 * @param {string} message
 * @param {'info' | 'ok' | 'warn' | 'error'} [kind]
 * @param {number} [ms]
 */
export function toast(message, kind = 'info', ms = 5000) {
  const box = byId('toasts');
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.appendChild(el);
  setTimeout(() => {
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 300);
  }, ms);
}

export function getOperator() {
  return localStorage.getItem(OPERATOR_KEY) || '';
}

function showOperator() {
  const name = getOperator();
  byId('operator-name').textContent = name || t('operator.none');
}

/** @type {Promise<string> | null} */
let pendingAsk = null;

/**
 * Ask for the operator's name (modal); resolves to the name, or '' when dismissed.
 * @returns {Promise<string>}
 */
export function askOperator() {
  if (pendingAsk) return pendingAsk;
  const dlg = byIdAs('dlg-operator', HTMLDialogElement);
  const input = byIdAs('operator-input', HTMLInputElement);
  input.value = getOperator();
  pendingAsk = new Promise((resolve) => {
    /** @param {string} value */
    const done = (value) => {
      dlg.removeEventListener('close', onClose);
      pendingAsk = null;
      resolve(value);
    };
    const onClose = () => {
      if (dlg.returnValue === 'ok') {
        const name = input.value.trim();
        if (name) {
          localStorage.setItem(OPERATOR_KEY, name);
          showOperator();
          done(name);
          return;
        }
      }
      done(getOperator());
    };
    dlg.addEventListener('close', onClose);
    dlg.returnValue = '';
    dlg.showModal();
    input.focus();
  });
  return pendingAsk;
}

/**
 * The operator's name, asking once when none is stored.
 * @returns {Promise<string>}
 */
export async function ensureOperator() {
  const name = getOperator();
  if (name) return name;
  return askOperator();
}

export function initOperator() {
  const form = byIdAs('form-operator', HTMLFormElement);
  const dlg = byIdAs('dlg-operator', HTMLDialogElement);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!byIdAs('operator-input', HTMLInputElement).value.trim()) return;
    dlg.close('ok');
  });
  byId('operator-cancel').addEventListener('click', () => dlg.close('cancel'));
  byId('btn-operator').addEventListener('click', () => askOperator());
  showOperator();
}

export function refreshOperatorLabel() {
  showOperator();
}

/**
 * Ask for a cancellation reason; resolves to the reason, or null when the operator backs out.
 * @returns {Promise<string | null>}
 */
export function askCancelReason() {
  const dlg = byIdAs('dlg-cancel', HTMLDialogElement);
  const text = byIdAs('cancel-reason', HTMLTextAreaElement);
  const confirm = byIdAs('cancel-confirm', HTMLButtonElement);
  const form = byIdAs('form-cancel', HTMLFormElement);
  const back = byId('cancel-back');
  text.value = '';
  confirm.disabled = true;
  return new Promise((resolve) => {
    const onInput = () => {
      confirm.disabled = !text.value.trim();
    };
    /** @param {SubmitEvent} ev */
    const onSubmit = (ev) => {
      ev.preventDefault();
      if (text.value.trim()) dlg.close('ok');
    };
    const onBack = () => dlg.close('back');
    const onClose = () => {
      text.removeEventListener('input', onInput);
      form.removeEventListener('submit', onSubmit);
      back.removeEventListener('click', onBack);
      dlg.removeEventListener('close', onClose);
      resolve(dlg.returnValue === 'ok' ? text.value.trim() : null);
    };
    text.addEventListener('input', onInput);
    form.addEventListener('submit', onSubmit);
    back.addEventListener('click', onBack);
    dlg.addEventListener('close', onClose);
    dlg.returnValue = '';
    dlg.showModal();
    text.focus();
  });
}
