// @ts-check
// Optional sound cue for new incidents: a short WebAudio beep, no audio files.

const STORAGE_KEY = 'cityops.sound';
let enabled = localStorage.getItem(STORAGE_KEY) === 'on';
/** @type {AudioContext | null} */
let ctx = null;

export function soundEnabled() {
  return enabled;
}

/**
 * Turn the cue on or off; called from a click, so the AudioContext may start.
 * @param {boolean} on
 */
export function setSound(on) {
  enabled = Boolean(on);
  localStorage.setItem(STORAGE_KEY, enabled ? 'on' : 'off');
  if (enabled) {
    context();
    beep(1);
  }
}

function context() {
  if (!ctx) {
    const AC = window.AudioContext || /** @type {any} */ (window).webkitAudioContext;
    if (!AC) return null;
    ctx = new AC();
  }
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

/**
 * `count` short beeps; higher pitch for severe and extreme incidents.
 * @param {number} [count]
 * @param {boolean} [high]
 */
export function beep(count = 1, high = false) {
  if (!enabled) return;
  const ac = context();
  if (!ac) return;
  const start = ac.currentTime + 0.01;
  for (let i = 0; i < count; i += 1) {
    const t0 = start + i * 0.22;
    const osc = ac.createOscillator();
    const gain = ac.createGain();
    osc.type = 'sine';
    osc.frequency.value = high ? 1175 : 880;
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(0.25, t0 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.16);
    osc.connect(gain).connect(ac.destination);
    osc.start(t0);
    osc.stop(t0 + 0.18);
  }
}
