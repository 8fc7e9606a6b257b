/**
 * Whether a generator thread kept up, and if not, whether it was starved of CPU or saturated by
 * its own load.
 *
 * The rule (one place, used by `pushbench run` and by bench:generator for its bare peer client):
 * a thread whose event-loop utilization stayed above {@link SATURATED_ELU} for 2 seconds in a
 * row, or whose event-loop delay p99 in any second exceeded {@link STALLED_LOOP_DELAY_MS}, did not
 * keep up — what it timestamped includes its own queueing.
 *
 * Telling a generator thread that was starved of CPU from one saturated by its own load. Event-loop
 * utilization counts wall time the loop was not idle, whether or not the thread was on a CPU then;
 * so on a machine whose load CPUs other processes share, a thread can look "saturated" while it
 * ran a fraction of that time. Its own CPU time over the busy wall time says which it was.
 */
import type { WorkerTick } from './worker-task.ts';

/** Event-loop utilization above which a second counts as saturated. */
export const SATURATED_ELU = 0.9;
/** Saturated seconds in a row that make a thread saturated. */
export const SATURATED_SECONDS = 2;
/** An event-loop delay p99 above this in any second means deliveries were timestamped late. */
export const STALLED_LOOP_DELAY_MS = 100;

export interface LoopVerdict {
  /** longest run of consecutive seconds above SATURATED_ELU */
  saturatedSecs: number;
  /** worst per-second event-loop delay p99, ms */
  worstDelayMs: number;
  saturated: boolean;
  stalled: boolean;
}

/**
 * Judge one thread from its per-second event-loop utilization (0..1) and delay p99 (ms). `wallS`,
 * when given (same order), is each tick's length in seconds: a loop blocked for several seconds
 * posts one late tick for all of them (a reconnect storm's burst of connects), and they count as
 * that many saturated seconds, not one.
 */
export function judgeLoop(elus: readonly number[], delayP99Ms: readonly number[], wallS?: readonly number[]): LoopVerdict {
  let run = 0;
  let saturatedSecs = 0;
  for (const [i, e] of elus.entries()) {
    run = e > SATURATED_ELU ? run + Math.max(1, Math.round(wallS?.[i] ?? 1)) : 0;
    saturatedSecs = Math.max(saturatedSecs, run);
  }
  const worstDelayMs = Math.max(0, ...delayP99Ms);
  return { saturatedSecs, worstDelayMs, saturated: saturatedSecs >= SATURATED_SECONDS, stalled: worstDelayMs > STALLED_LOOP_DELAY_MS };
}

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
