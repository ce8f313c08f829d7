// Toasts, dialogs and the operator's identity.

import { h } from './dom.js';
import { t } from './i18n.js';

const OPERATOR_KEY = 'cityops.operator';

export function toast(message, kind = 'info', ms = 5000) {
  const box = document.getElementById('toasts');
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
  document.getElementById('operator-name').textContent = name || t('operator.none');
}

let pendingAsk = null;

/** Ask for the operator's name (modal); resolves to the name, or '' when dismissed. */
export function askOperator() {
  if (pendingAsk) return pendingAsk;
  const dlg = document.getElementById('dlg-operator');
  const input = document.getElementById('operator-input');
  input.value = getOperator();
  pendingAsk = new Promise((resolve) => {
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

/** The operator's name, asking once when none is stored. */
export async function ensureOperator() {
  const name = getOperator();
  if (name) return name;
  return askOperator();
}

export function initOperator() {
  const form = document.getElementById('form-operator');
  const dlg = document.getElementById('dlg-operator');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!document.getElementById('operator-input').value.trim()) return;
    dlg.close('ok');
  });
  document.getElementById('operator-cancel').addEventListener('click', () => dlg.close('cancel'));
  document.getElementById('btn-operator').addEventListener('click', () => askOperator());
  showOperator();
}

export function refreshOperatorLabel() {
  showOperator();
}

/** Ask for a cancellation reason; resolves to the reason, or null when the operator backs out. */
export function askCancelReason() {
  const dlg = document.getElementById('dlg-cancel');
  const text = document.getElementById('cancel-reason');
  const confirm = document.getElementById('cancel-confirm');
  const form = document.getElementById('form-cancel');
  text.value = '';
  confirm.disabled = true;
  return new Promise((resolve) => {
    const onInput = () => {
      confirm.disabled = !text.value.trim();
    };
    const onSubmit = (ev) => {
      ev.preventDefault();
      if (text.value.trim()) dlg.close('ok');
    };
    const onBack = () => dlg.close('back');
    const onClose = () => {
      text.removeEventListener('input', onInput);
      form.removeEventListener('submit', onSubmit);
      document.getElementById('cancel-back').removeEventListener('click', onBack);
      dlg.removeEventListener('close', onClose);
      resolve(dlg.returnValue === 'ok' ? text.value.trim() : null);
    };
    text.addEventListener('input', onInput);
    form.addEventListener('submit', onSubmit);
    document.getElementById('cancel-back').addEventListener('click', onBack);
    dlg.addEventListener('close', onClose);
    dlg.returnValue = '';
    dlg.showModal();
    text.focus();
  });
}
