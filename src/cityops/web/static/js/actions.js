// @ts-check
// What the incident view offers, drawn from the server's `actions` (domain allowed_actions):
// the display order, labels, styles and paths are presentation; whether an action may be done
// now is the server's word alone. Pure: tests import it under Node.

/** @typedef {import('./types').IncidentAction} IncidentAction */
/** @typedef {{actions?: readonly IncidentAction[] | null, assigned_agency?: string | null}} WithActions */

/**
 * The lifecycle buttons in display order. `key` names the translations (action.<key>,
 * action.hint.<key>, action.done.<key>) and the button's data-action; `action` is the server's
 * action, also the URL path segment.
 * @type {readonly {key: string, action: IncidentAction, cls: string}[]}
 */
export const LIFECYCLE_BUTTONS = [
  { key: 'acknowledge', action: 'acknowledge', cls: 'primary' },
  { key: 'dispatch', action: 'dispatch', cls: 'primary' },
  { key: 'on_scene', action: 'on-scene', cls: '' },
  { key: 'resolve', action: 'resolve', cls: 'ok' },
  { key: 'close', action: 'close', cls: '' },
  { key: 'reopen', action: 'reopen', cls: '' },
  { key: 'cancel', action: 'cancel', cls: 'danger' },
];

/**
 * Whether the server allows `action` on the incident now.
 * @param {WithActions | null | undefined} inc
 * @param {IncidentAction} action
 */
export function allows(inc, action) {
  return Boolean(inc && Array.isArray(inc.actions) && inc.actions.includes(action));
}

/**
 * The lifecycle buttons for an incident: every button, enabled when its action is allowed, with
 * the translation key of its tooltip. Dispatch waits for an agency: when the incident may be
 * assigned but has no agency yet, its tooltip says so.
 * @param {WithActions} inc
 * @returns {{key: string, action: IncidentAction, path: string, cls: string, enabled: boolean, titleKey: string}[]}
 */
export function actionButtons(inc) {
  return LIFECYCLE_BUTTONS.map((b) => {
    const enabled = allows(inc, b.action);
    let titleKey = enabled ? `action.hint.${b.key}` : 'action.not_now';
    if (!enabled && b.action === 'dispatch' && allows(inc, 'assign') && !inc.assigned_agency) {
      titleKey = 'action.needs_agency';
    }
    return { key: b.key, action: b.action, path: `/${b.action}`, cls: b.cls, enabled, titleKey };
  });
}

/**
 * The request body of a lifecycle action (cancel carries the operator's reason).
 * @param {IncidentAction} action
 * @param {string | null} [reason]
 * @returns {{note: null} | {reason: string}}
 */
export function actionPayload(action, reason = null) {
  return action === 'cancel' ? { reason: reason || '' } : { note: null };
}

/** @param {WithActions | null | undefined} inc */
export const canAcknowledge = (inc) => allows(inc, 'acknowledge');
/** @param {WithActions | null | undefined} inc */
export const canAssign = (inc) => allows(inc, 'assign');
/** @param {WithActions | null | undefined} inc */
export const canTickSop = (inc) => allows(inc, 'sop');
/** @param {WithActions | null | undefined} inc */
export const canNote = (inc) => allows(inc, 'note');
