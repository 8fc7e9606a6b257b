/**
 * The garbage collector's pauses of one thread, from perf_hooks' `gc` entries: what a generator
 * worker's event loop lost to its own GC each second. A pause delays every receive timestamp taken
 * after it; the validity rule already sees the delay (event-loop delay p99), and this says how much
 * of it was the collector — the generator's own error, not the server's latency.
 *
 * Entries reach the observer asynchronously (after the pause, on a later turn of the loop), so a
 * pause at the very end of a second may be counted in the next one.
 */
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface GcSecond {
  /** time paused for GC in the second, ms */
  gcMs: number;
  /** the second's longest single pause, ms (0 without one) */
  gcMaxMs: number;
}

export interface GcMeter {
  /** the pauses since the last call (or the start), and starts afresh */
  take(): GcSecond;
  stop(): void;
}

export function gcMeter(): GcMeter {
  let gcMs = 0;
  let gcMaxMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as PerformanceEntry[]) {
      gcMs += e.duration;
      if (e.duration > gcMaxMs) gcMaxMs = e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    take() {
      const s = { gcMs, gcMaxMs };
      gcMs = 0;
      gcMaxMs = 0;
      return s;
    },
    stop() {
      observer.disconnect();
    },
  };
}
