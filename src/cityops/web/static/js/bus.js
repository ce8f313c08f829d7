// @ts-check
// The console's event bus (typed by BusEvents) and requestAnimationFrame batching.
// Nothing here touches the DOM until a task is scheduled, so Node can import it in tests.

/** @typedef {import('./types').BusEvents} BusEvents */

/** @type {Map<string, Set<(detail: any) => void>>} */
const listeners = new Map();

/**
 * @template {keyof BusEvents} K
 * @param {K} name
 * @param {BusEvents[K]} [detail]
 */
export function emit(name, detail) {
  const set = listeners.get(name);
  if (!set) return;
  for (const fn of [...set]) {
    try {
      fn(detail);
    } catch (err) {
      console.error(err);
    }
  }
}

/**
 * @template {keyof BusEvents} K
 * @param {K} name
 * @param {(detail: BusEvents[K]) => void} fn
 * @returns {() => void} unsubscribe
 */
export function on(name, fn) {
  let set = listeners.get(name);
  if (!set) {
    set = new Set();
    listeners.set(name, set);
  }
  set.add(fn);
  return () => set.delete(fn);
}

// --- requestAnimationFrame batching: many live updates per second become one DOM pass.
/** @type {Map<string, () => void>} */
const tasks = new Map();
let scheduled = false;

function flush() {
  scheduled = false;
  const run = [...tasks.values()];
  tasks.clear();
  for (const fn of run) {
    try {
      fn();
    } catch (err) {
      console.error(err);
    }
  }
}

/**
 * Run `fn` once in the next animation frame; a later call with the same key replaces it.
 * @param {string} key
 * @param {() => void} fn
 */
export function schedule(key, fn) {
  tasks.set(key, fn);
  if (!scheduled) {
    scheduled = true;
    // rAF does not run in a hidden tab: fall back to a timer so state never goes stale.
    if (typeof document === 'undefined' || document.hidden) setTimeout(flush, 250);
    else requestAnimationFrame(flush);
  }
}
