/**
 * Telling a generator thread that was starved of CPU from one saturated by its own load. Event-loop
 * utilization counts wall time the loop was not idle, whether or not the thread was on a CPU then;
 * so on a machine whose load CPUs other processes share, a thread can look "saturated" while it
 * ran a fraction of that time. Its own CPU time over the busy wall time says which it was.
 */
import type { WorkerTick } from './worker.ts';

/** Below this share of its busy time on a CPU, a thread was starved by other work. */
export const STARVED_CPU_SHARE = 0.6;

/**
 * CPU time ÷ busy wall time (ELU × tick length) over `ticks`: about 1 for a thread that had its
 * CPU, well below 1 for one waiting for it. null when the ticks hold no busy time.
 */
export function cpuShareWhileBusy(ticks: readonly WorkerTick[]): number | null {
  let busyUs = 0;
  let cpuUs = 0;
  for (const k of ticks) {
    busyUs += k.elu * k.wallUs;
    cpuUs += k.cpuUs;
  }
  return busyUs > 0 ? cpuUs / busyUs : null;
}
