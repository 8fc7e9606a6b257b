/**
 * A run's schedule on the shared µs clock: from t0 (the first client's arrival) its measured
 * windows — the run's only one, or one per step of a live staircase — the drain after each for
 * late deliveries, when the clients close, and how long a silent stream counts as stalled.
 */
import type { RunSettings } from './settings.ts';
import { traitsOf } from '../drivers/index.ts';

/** Between a step's figures and the next step's first arrival: time for onStep to end the growth first. */
export const JUDGE_MARGIN_MS = 500;

/** A measured window of a run, µs on the shared clock: the run's only one, or one step of a staircase. */
export interface MeasureWindow {
  name: string;
  clients: number;
  startUs: number;
  fromUs: number;
  toUs: number;
  /** the window's books close (the drain for late deliveries is over) */
  closeUs: number;
  warmupMs: number;
  durationMs: number;
}

/** The run's windows: one [t0 + warm-up, t0 + duration), or a staircase's steps one after the other. */
export function measureWindows(s: RunSettings, t0Us: number, drainMs: number): MeasureWindow[] {
  if (!s.steps) {
    const fromUs = t0Us + s.warmupMs * 1000;
    const toUs = t0Us + s.durationMs * 1000;
    return [{ name: s.name, clients: s.clients, startUs: t0Us, fromUs, toUs, closeUs: toUs + drainMs * 1000, warmupMs: s.warmupMs, durationMs: s.durationMs }];
  }
  const out: MeasureWindow[] = [];
  let startUs = t0Us;
  for (const step of s.steps) {
    const fromUs = startUs + step.warmupMs * 1000;
    const toUs = fromUs + step.measureMs * 1000;
    const closeUs = toUs + drainMs * 1000;
    out.push({ name: step.name, clients: step.clients, startUs, fromUs, toUs, closeUs, warmupMs: step.warmupMs, durationMs: step.warmupMs + step.measureMs });
    startUs = closeUs + JUDGE_MARGIN_MS * 1000;
  }
  return out;
}

export interface RunSchedule {
  t0Us: number;
  /** after a window's end, how long its late deliveries still count */
  drainMs: number;
  windows: MeasureWindow[];
  /** the clients close: the last window's books are closed */
  closeAtUs: number;
  /** a client's stream silent this long before a window's end is charged what it missed */
  silenceUs: number;
}

/** The schedule of a run of `s` whose first client arrives at `t0Us`. */
export function runSchedule(s: RunSettings, t0Us: number): RunSchedule {
  // A held poll sent inside the window is answered only by the next message: the drain lasts one
  // message period so that request is counted, else requests per message reads (k − 1)/k for k messages.
  const heldPollMs = traitsOf(s.transport).longPollTimeout && s.ratePerS > 0 ? 1000 / s.ratePerS : 0;
  const drainMs = Math.max(500, 2 * s.pollIntervalMs, heldPollMs) + s.serverDelayMs + (s.proxy ? 4 * (s.proxy.delayMs + s.proxy.jitterMs) : 0);
  const windows = measureWindows(s, t0Us, drainMs);
  const closeAtUs = windows[windows.length - 1].closeUs;
  const silenceUs = Math.max(2e6, 3 * s.pollIntervalMs * 1000, s.ratePerS > 0 ? 3e6 / s.ratePerS : 0) + s.serverDelayMs * 1000;
  return { t0Us, drainMs, windows, closeAtUs, silenceUs };
}
