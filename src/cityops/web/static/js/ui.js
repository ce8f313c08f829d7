// @ts-check
// Toasts and dialogs.

import { byId, byIdAs, h } from './dom.js';

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
