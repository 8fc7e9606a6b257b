/**
 * What a run reports while it goes on: one {@link Progress} a second (the runner's sampler emits
 * it; cli/progress.ts prints it).
 */
import type { TransportName } from '../core/wire.ts';
import type { WorkerTick } from './worker-task.ts';

/** What the live progress line shows; emitted once a second. */
export interface Progress {
  name: string;
  transport: TransportName;
  elapsedS: number;
  totalS: number;
  phase: 'ramp' | 'warmup' | 'measure' | 'drain';
  started: number;
  clients: number;
  open: number;
  deliveriesPerS: number;
  p50Us: number;
  p99Us: number;
  generatorElu: number;
  /** the second's worst event-loop delay p99 over the workers, ms (what the stall rule judges) */
  generatorLoopDelayP99Ms: number;
  serverCpuPct: number | null;
}

/**
 * The live line's p50/p99 for one second from the workers' own percentiles, so the main thread
 * decodes no histogram while a run goes on. Exact with one worker; with several, p50 is the
 * delivery-weighted mean of theirs and p99 the largest (an upper bound). The record's timeline
 * is exact: it merges the encoded histograms once the run has ended.
 */
export function progressPercentiles(ticks: readonly WorkerTick[]): { p50: number; p99: number } {
  let n = 0;
  let p50 = 0;
  let p99 = 0;
  for (const k of ticks) {
    if (k.deliveries === 0) continue;
    n += k.deliveries;
    p50 += k.p50Us * k.deliveries;
    p99 = Math.max(p99, k.p99Us);
  }
  return { p50: n > 0 ? p50 / n : 0, p99 };
}
