/**
 * A live staircase as a sequence of steps to await: capacity's doubling phase runs as one
 * {@link runOnce} whose server and clients stay up while each step adds clients (settings.steps),
 * and the search takes the steps' records one at a time, as if each were a run of its own.
 *
 * `keepGoing(record)` is asked as soon as a step's window closes, before the next step's clients
 * arrive: false ends the growth there. {@link LiveGrowth.end} ends it from outside (the step under
 * way is then cut short and discarded) and waits until the run has stopped everything it started.
 */
import type { ResultRecord } from '../core/record.ts';
import { runOnce, type RunHooks, type RunSettings } from '../load/runner.ts';

export interface LiveGrowth {
  /** client count of the step {@link next} resolves with; null once no further step will come */
  readonly nextClients: number | null;
  /** the next step's record, when its window closes (a step cut by the abort signal: complete: false) */
  next(): Promise<ResultRecord>;
  /** end the growth if it still runs; resolves when the run has ended. Idempotent. */
  end(): Promise<void>;
}

export function growLive(s: RunSettings, hooks: RunHooks & { keepGoing(record: ResultRecord): boolean }): LiveGrowth {
  const steps = s.steps ?? [];
  const queue: ResultRecord[] = [];
  let taken = 0;
  let over = false;
  let wake: (() => void) | null = null;
  const internal = new AbortController();
  const signal = hooks.signal ? AbortSignal.any([hooks.signal, internal.signal]) : internal.signal;
  let failure: unknown = null;
  const run = runOnce(s, {
    ...hooks,
    signal,
    onStep: (record) => {
      queue.push(record);
      wake?.();
      const more = record.complete && hooks.keepGoing(record);
      if (!more) over = true;
      return more;
    },
  }).then(
    () => undefined,
    (err: unknown) => void (failure = err),
  ).finally(() => {
    over = true;
    wake?.();
  });

  return {
    get nextClients() {
      if (taken >= steps.length || (over && queue.length === 0) || internal.signal.aborted) return null;
      return steps[taken].clients;
    },
    async next() {
      for (;;) {
        if (queue.length > 0) {
          taken++;
          return queue.shift()!;
        }
        if (failure) throw failure;
        if (over && queue.length === 0) {
          await run;
          if (failure) throw failure;
          if (queue.length === 0) throw new Error(`live growth ended before step ${taken + 1}`);
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    },
    async end() {
      if (!over) internal.abort();
      await run;
    },
  };
}
