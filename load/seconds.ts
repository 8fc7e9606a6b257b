/**
 * One call a second on the boundaries of a shared clock. The generator's worker threads (their
 * per-second tick) and the runner (its per-second /proc sampler) both run on {@link everySecond}
 * from the run's `t0Us`, so "second k" of a worker and "second k" of the sampler are the same
 * wall-clock second: timers started each at its own moment would be up to a second apart, and
 * filing each by its rounded end time would put the same work under neighbouring seconds.
 *
 * Threading: the callback runs on the caller's event loop; `stop()` is idempotent.
 */
import { nowUs } from '../core/wire.ts';

/** how long after the workers' tick the runner samples /proc (their ticks of the second are in by then) */
export const SAMPLER_LAG_US = 50_000;

export interface SecondTimer {
  stop(): void;
}

/**
 * Calls `fn` at `originUs + offsetUs + k·1 s` (the {@link nowUs} clock) for each k from the first
 * such time after now. A call that comes late (a busy event loop) keeps the grid: the next is on
 * the next boundary, and boundaries already passed are skipped, not made up.
 */
export function everySecond(originUs: number, offsetUs: number, fn: () => void): SecondTimer {
  const base = originUs + offsetUs;
  const boundaryAfter = (tUs: number) => base + (Math.floor((tUs - base) / 1e6) + 1) * 1e6;
  let nextUs = boundaryAfter(nowUs());
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    // ceil: a timer never fires before its boundary (setTimeout counts whole milliseconds)
    timer = setTimeout(run, Math.max(0, Math.ceil((nextUs - nowUs()) / 1000)));
  };
  const run = () => {
    if (stopped) return;
    const now = nowUs();
    if (now < nextUs) {
      arm();
      return;
    }
    fn();
    nextUs = boundaryAfter(nowUs());
    if (!stopped) arm();
  };
  arm();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Call `fn` once at `tUs` on the {@link nowUs} clock (at once when it has passed). */
export function timeoutAt(tUs: number, fn: () => void): NodeJS.Timeout {
  return setTimeout(fn, Math.max(0, (tUs - nowUs()) / 1000));
}
