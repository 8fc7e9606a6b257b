/**
 * Sides taken in turns: for every step of a rank's plan (transport, network, repeat), one
 * `pushbench run` of each side, in an order that rotates from step to step (cli/ab-runs.ts
 * turnOrder), so runs of the same step are seconds apart and the machine's drift over minutes falls
 * on every side alike. `pushbench ab` has two sides (base and head checkouts); bench:gate has
 * several of one checkout (the same code, and the same with an injected change).
 *
 * A run the harness marks invalid is run once more at once, as rank does; the retry's record is
 * named `<step>-retry`, so both stay on disk. Records of one step carry the same name on every side
 * ({@link stepName}): that name pairs them.
 */
import { join } from 'node:path';
import type { ResultRecord } from '../core/record.ts';
import type { TransportName } from '../core/wire.ts';
import { holdLock, runOne, stopCurrentRun, turnOrder } from './ab-runs.ts';

export interface TurnSide {
  /** folder name of its records and label in the progress lines */
  label: string;
  /** the checkout its runs start from */
  tree: string;
  /** `pushbench run` options of this side alone (an injected change) */
  args: readonly string[];
}

export interface TurnStep {
  transport: TransportName;
  network: string;
  /** 0-based */
  repeat: number;
}

export interface TurnsOptions {
  sides: readonly TurnSide[];
  steps: readonly TurnStep[];
  /** the `pushbench run` options every side's run of `step` shares (transport, network, scale…) */
  runArgs(step: TurnStep): string[];
  /** records go to `<outRoot>/<side label>/` */
  outRoot: string;
  /**
   * flock this file around each step (all sides' runs of it), so the runs that are compared with
   * each other are not interrupted by others' load, and others can run between steps
   */
  lockFile?: string;
  signal: AbortSignal;
  log(line: string): void;
}

export interface TurnsResult {
  /** per side, in `sides` order: every record the side's runs wrote, retries included */
  records: ResultRecord[][];
  /** stopped by the signal; the last run's record is a partial one */
  interrupted: boolean;
  /** a run could not finish without a signal (its server died): the turns stopped there */
  stoppedEarly: boolean;
}

/** The name of a step's run on every side: `ws-loopback-p3`. */
export function stepName(step: TurnStep): string {
  return `${step.transport}-${step.network.replace(/[^A-Za-z0-9._-]+/g, '_')}-p${step.repeat + 1}`;
}

/** The step a record's name belongs to (its retry's too): what pairs it with the other sides' runs. */
export function pairKey(r: ResultRecord): string {
  return r.name.replace(/-retry$/, '');
}

/** Take every step's runs in turns; stops between runs (and the run in progress) on the signal. */
export async function runInTurns(o: TurnsOptions): Promise<TurnsResult> {
  const records: ResultRecord[][] = o.sides.map(() => []);
  const total = o.steps.length * o.sides.length;
  let done = 0;
  const onAbort = () => void stopCurrentRun();
  o.signal.addEventListener('abort', onAbort);
  try {
    for (const [i, step] of o.steps.entries()) {
      if (o.signal.aborted) break;
      const release = o.lockFile ? await holdLock(o.lockFile) : async () => {};
      try {
        for (const s of turnOrder(o.sides.length, i)) {
          if (o.signal.aborted) break;
          const side = o.sides[s];
          for (let attempt = 1; attempt <= 2; attempt++) {
            const name = `${stepName(step)}${attempt > 1 ? '-retry' : ''}`;
            const started = Date.now();
            const r = await runOne(side.tree, [...o.runArgs(step), ...side.args, '--name', name], join(o.outRoot, side.label));
            records[s].push(r);
            if (!r.complete) return { records, interrupted: o.signal.aborted, stoppedEarly: !o.signal.aborted };
            const verdict = r.valid ? 'valid' : `invalid (${r.invalidReasons.join('; ')})`;
            o.log(`[${++done}/${total}] ${side.label} ${name}: ${verdict}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
            if (r.valid || attempt === 2) break;
            o.log('  running it once more');
          }
        }
      } finally {
        await release();
      }
    }
    return { records, interrupted: o.signal.aborted, stoppedEarly: false };
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}
