/**
 * A plan as a GitHub Actions workflow: a plan job makes the plan again with its start a margin
 * after the workflow runs (matrix jobs wait for runners, so an absolute start made earlier would
 * have passed), a matrix of shard jobs (the matrix value is the shard index, PUSHBENCH_SHARD),
 * each uploading its record, and a merge job that runs whatever the shards left (`if: always()`:
 * a lost shard is named by merge, not hidden by a skipped job). Pure: the workflow as plain data.
 */
import type { Plan } from './plan.ts';
import { planSpanMs } from './shard.ts';

export interface GhaOptions {
  /** the shell line that puts `pushbench` on the PATH of each job */
  install: string;
  /** the plan job's start: this long after it runs, s */
  startMarginS: number;
  /** each shard job's timeout beyond the margin and the run, minutes */
  timeoutMarginMin: number;
}

/** The `pushbench plan` argv that makes `plan` again, its start `startMarginS` after it runs. */
export function planArgv(plan: Plan, startMarginS: number): string[] {
  const r = plan.run;
  return [
    'plan', '--name', plan.name, '--transport', r.transport, '--workload', r.workload,
    ...(plan.staircase ? ['--staircase', plan.staircase.clients.join(','), '--slo', plan.staircase.slo] : ['--clients', String(r.clients)]), '--shards', String(plan.shards),
    '--duration', `${r.durationMs}ms`, '--warmup', `${r.warmupMs}ms`, '--rate', String(r.ratePerS), '--payload', String(r.payloadBytes),
    ...(r.workload === 'fanout' ? [] : ['--topics', String(r.topics)]),
    '--poll-interval', `${r.pollIntervalMs}ms`, '--long-poll-timeout', `${r.longPollTimeoutMs}ms`, '--arrival-rate', String(r.arrivalRatePerS),
    '--target', r.target, '--start-tolerance', `${plan.start.toleranceMs}ms`, '--clock-uncertainty', `${plan.clock.maxUncertaintyShare * 100}%`,
    '--start-at', `+${startMarginS}s`, '-o', 'plan.json',
  ];
}

/** A shell word: as it is when safe, else single-quoted. */
const sh = (w: string) => (/^[A-Za-z0-9_./:%+=@-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** The workflow of `plan`: plan → shards (a matrix) → merge. */
export function ghaWorkflow(plan: Plan, o: GhaOptions): Record<string, unknown> {
  const setup = [
    { uses: 'actions/setup-node@v4', with: { 'node-version': '20' } },
    { name: 'install pushbench', run: o.install },
  ];
  const download = { uses: 'actions/download-artifact@v4', with: { name: 'plan' } };
  const timeout = Math.ceil((o.startMarginS + planSpanMs(plan) / 1000) / 60) + o.timeoutMarginMin;
  return {
    name: `pushbench ${plan.name}`,
    on: { workflow_dispatch: {} },
    jobs: {
      plan: {
        'runs-on': 'ubuntu-latest',
        steps: [...setup, { name: 'plan', run: `pushbench ${planArgv(plan, o.startMarginS).map(sh).join(' ')}` }, { uses: 'actions/upload-artifact@v4', with: { name: 'plan', path: 'plan.json' } }],
      },
      shard: {
        needs: 'plan', 'runs-on': 'ubuntu-latest', 'timeout-minutes': timeout,
        strategy: { 'fail-fast': false, matrix: { shard: Array.from({ length: plan.shards }, (_, i) => i) } },
        steps: [
          ...setup, download,
          { name: 'shard', run: 'pushbench run --plan plan.json --out results', env: { PUSHBENCH_SHARD: '${{ matrix.shard }}' } },
          { uses: 'actions/upload-artifact@v4', with: { name: 'shard-${{ matrix.shard }}', path: 'results/' } },
        ],
      },
      merge: {
        needs: 'shard', if: 'always()', 'runs-on': 'ubuntu-latest',
        steps: [
          ...setup, download,
          { uses: 'actions/download-artifact@v4', with: { pattern: 'shard-*', path: 'results', 'merge-multiple': true } },
          { name: 'merge', run: 'pushbench merge plan.json results -o merged' },
          { uses: 'actions/upload-artifact@v4', if: 'always()', with: { name: 'merged', path: 'merged/' } },
        ],
      },
    },
  };
}
