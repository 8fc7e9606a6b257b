/**
 * `npm run bench:ab -- --base REV [--pairs N] [--out DIR] -- <pushbench run options>`: the same
 * `pushbench run` from two checkouts — REV (in a temporary git worktree) and this one — taken in
 * turns, A B B A A B …, so a drift in the machine's speed falls on both sides; prints each run's
 * generator CPU per delivery (and per request), the medians and their ratio.
 *
 * Why: on a shared VM a single run moves by ±10 % from one minute to the next, more than most
 * changes to the generator's hot path are worth; a claim like "−6 % CPU per delivery" needs
 * interleaved pairs, and this is the script behind such claims in the README and commit messages.
 * Each run is a fresh `node bin/pushbench.js run` child (the flags of the `pushbench` command),
 * server pinned to `--server-cpus` and generator to `--load-cpus` (default 0 and 1).
 *
 * The base runs with this checkout's node_modules (said when package-lock.json differs). A run
 * the harness marked invalid is shown and left out of the medians. Ctrl-C stops the run in
 * progress and removes the worktree.
 */
import os from 'node:os';
import { join, resolve } from 'node:path';
import { measuredTimeline, type ResultRecord } from '../core/record.ts';
import { spread } from './ladder.ts';
import { formatUs } from '../core/units.ts';
import { PushbenchError, validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import { cpuListNumbers, cpuModel } from '../load/resources.ts';
import { repoPath } from '../core/tsx.ts';
import { abOrder, addWorktree, checkRunArgv, git, resolveCommit, runOne, splitRunArgv, stopRunOnSignal } from '../cli/ab-runs.ts';

// the run-in-turns machinery lives in cli/ab-runs.ts (pushbench ab uses it too); bench:in-place takes it from here
export { abOrder, checkRunArgv, runOne, splitRunArgv, stopRunOnSignal };

const SPECS: OptionSpec[] = [
  { name: 'base', kind: 'string', arg: 'REV', help: 'the git revision to compare this checkout against (required)' },
  { name: 'pairs', kind: 'int', arg: 'N', help: 'runs of each side, taken in turns (A B B A …)', default: 3, min: 1, max: 20 },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the runs\' records go', default: 'results/ab' },
  { name: 'help', kind: 'bool', short: 'h', help: 'show this help' },
];

const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);

export interface RunFigures {
  side: 'base' | 'head';
  valid: boolean;
  invalidReasons: string[];
  deliveriesPerS: number;
  requestsPerS: number;
  /** generator process CPU over the measured window, % of one CPU */
  generatorCpuPct: number;
  /**
   * of that, what was not the worker threads' own: the main thread (sampling, ticks, progress), GC
   * and helpers; null for older records whose worker CPU covered the whole run (they carry no loop
   * delay, which came with window-only worker figures)
   */
  otherThreadsCpuPct: number | null;
  /**
   * the generator process filled its load CPUs (CPU ≥ {@link FULL_CPU_PCT} % of each): its CPU per
   * delivery then says how much CPU there was, not what the work cost
   */
  cpuFull: boolean;
  /** generator CPU per delivery / per request, µs (null without any) */
  cpuPerDeliveryUs: number | null;
  cpuPerRequestUs: number | null;
  p50Us: number;
  p99Us: number;
  loopDelayP99MaxMs: number | null;
  /**
   * the worker threads' GC pauses over the window, ms per second summed over the workers, and the
   * longest one; null for records from before the GC meter
   */
  gcMsPerS: number | null;
  gcMaxMs: number | null;
}

/** The figures bench:ab compares, from one run's record (measured window only). */
export function runFigures(side: 'base' | 'head', r: ResultRecord): RunFigures {
  const w = measuredTimeline(r);
  const seconds = Math.max(1, w.length);
  const cpuPct = w.reduce((a, p) => a + p.generatorCpuPct, 0) / seconds;
  // Deliveries and requests from the window's counters, not the timeline's seconds: in records from
  // before the per-second grid (load/seconds.ts) the first and last window seconds can be partial
  // ones, a few % low, and such a base would pair with nothing.
  const windowS = Math.max(1, (r.config.durationMs - r.config.warmupMs) / 1000);
  const deliveriesPerS = r.counters.delivered / windowS;
  const requestsPerS = r.counters.requests / windowS;
  const per = (perS: number) => (perS > 0 ? (cpuPct / 100) * 1e6 / perS : null);
  const workersCpuPct = (100 * r.generator.workers.reduce((a, x) => a + x.cpuUs, 0)) / 1e6 / seconds;
  return {
    side, valid: r.valid, invalidReasons: r.invalidReasons, deliveriesPerS, requestsPerS, generatorCpuPct: cpuPct,
    otherThreadsCpuPct: r.generator.loopDelayP99MaxMs === undefined ? null : cpuPct - workersCpuPct,
    cpuFull: cpuPct >= FULL_CPU_PCT * (r.environment.loadCpus ? cpuListNumbers(r.environment.loadCpus).length : os.cpus().length),
    cpuPerDeliveryUs: per(deliveriesPerS), cpuPerRequestUs: per(requestsPerS),
    p50Us: r.summary.latencyUs.p50, p99Us: r.summary.latencyUs.p99, loopDelayP99MaxMs: r.generator.loopDelayP99MaxMs ?? null,
    gcMsPerS: r.generator.gcMaxMs === undefined ? null : r.generator.workers.reduce((a, x) => a + (x.gcMs ?? 0), 0) / seconds,
    gcMaxMs: r.generator.gcMaxMs ?? null,
  };
}

/** The median of `xs`, null when empty (bench/ladder.ts {@link spread}). */
export function median(xs: readonly number[]): number | null {
  return spread(xs).median;
}

/** A generator at this share of each of its load CPUs counts as having filled them. */
export const FULL_CPU_PCT = 95;

/** Two runs did the same work when their deliveries (and requests) per second are this close. */
const SAME_WORK = 0.02;

/**
 * head ÷ base of `k` within each pair of runs that ran back to back (runs 2i and 2i+1 of
 * {@link abOrder}), for the pairs whose two runs did the same work (deliveries and requests per
 * second within {@link SAME_WORK} of each other) and neither filled its load CPUs — valid or
 * not otherwise: a generator marked saturated still spent its CPU on the work it did, and on a slow
 * stretch of a shared VM most runs near the limit are; one whose CPUs were full only measured the
 * core (both sides then show the same CPU per delivery). A pair's two runs are seconds apart, so a
 * drift in the machine's speed over minutes cancels in its ratio where it would not in the two
 * sides' medians.
 */
export function pairedRatios(runs: readonly RunFigures[], k: 'cpuPerDeliveryUs' | 'cpuPerRequestUs'): number[] {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const [a, b] = [runs[i]!, runs[i + 1]!];
    const head = a.side === 'head' ? a : b;
    const base = a.side === 'head' ? b : a;
    if (head.side !== 'head' || base.side !== 'base') continue;
    const near = (x: number, y: number) => Math.abs(x - y) <= SAME_WORK * Math.max(x, y);
    if (!near(head.deliveriesPerS, base.deliveriesPerS) || !near(head.requestsPerS, base.requestsPerS)) continue;
    if (head.cpuFull || base.cpuFull) continue;
    const h = head[k];
    const bv = base[k];
    if (h !== null && bv !== null && bv > 0) ratios.push(h / bv);
  }
  return ratios;
}

const us = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)} µs`);

export async function main(argv: string[]): Promise<number> {
  const { own, runArgv } = splitRunArgv(argv);
  const parsed = parseOptions(own, SPECS);
  if (parsed.help) {
    process.stdout.write(formatHelp('npm run bench:ab -- --base REV [options] -- <pushbench run options>', 'One `pushbench run`, from REV and from this checkout in turns: generator CPU per delivery, medians and their ratio.', SPECS));
    return 0;
  }
  const problems = [...parsed.problems];
  const base = parsed.values.base as string | undefined;
  let baseCommit = '';
  if (!base) problems.push('--base REV is required (a commit, branch or tag to compare against)');
  else {
    const commit = resolveCommit(base);
    if (commit !== null) baseCommit = commit;
    else problems.push(`--base: "${base}" is not a commit in this repository`);
  }
  const { withPins, transport } = checkRunArgv(runArgv, 'bench:ab', problems);
  if (problems.length) {
    process.stderr.write(`${validationError(problems, 'bench:ab: invalid options').message}\n`);
    return 2;
  }
  const pairs = parsed.values.pairs as number;
  // absolute: the base side's run has the worktree as its working directory
  const outRoot = join(resolve(parsed.values.out as string), `ab-${new Date().toISOString().replace(/[:.]/g, '').slice(0, 15)}`);
  const head = git(['describe', '--always', '--dirty']).out;
  const worktree = addWorktree(baseCommit);
  const tree = worktree.path;
  const cleanup = worktree.remove;
  // the run in progress stops before its checkout goes
  const offSignals = stopRunOnSignal('bench:ab', cleanup);
  try {
    if (worktree.lockDiffers) log('bench:ab: note: package-lock.json differs between the base and this checkout; the base runs with this checkout\'s node_modules');
    log(`bench:ab: base ${base} (${baseCommit.slice(0, 7)}) in ${tree}, head ${head}; ${pairs} runs each, in turns; pushbench run ${withPins.join(' ')}`);
    const runs: RunFigures[] = [];
    const order = abOrder(pairs);
    for (let i = 0; i < order.length; i++) {
      const side = order[i];
      const started = Date.now();
      const record = await runOne(side === 'base' ? tree : repoPath('.'), withPins, join(outRoot, `${String(i + 1).padStart(2, '0')}-${side}`));
      const f = runFigures(side, record);
      runs.push(f);
      log(`  ${i + 1}/${order.length} ${side}: ${Math.round(f.deliveriesPerS).toLocaleString('en-US')} deliveries/s, generator CPU ${f.generatorCpuPct.toFixed(1)} %, ${us(f.cpuPerDeliveryUs)}/delivery, valid ${f.valid} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    out(`## bench:ab — ${transport}, base ${base} (${baseCommit.slice(0, 7)}) vs head ${head}`);
    out();
    out(`\`pushbench run ${withPins.join(' ')}\`, ${pairs} runs per side in turns (A B B A …); generator CPU is the pushbench process over each run's measured window. ${cpuModel()}, ${os.cpus().length} cores; Node ${process.version}; ${new Date().toISOString()}.`);
    out();
    out('| # | side | valid | deliveries/s | requests/s | gen CPU | of which not the workers | CPU/delivery | CPU/request | p50 | p99 | loop delay p99, worst s | GC of the workers, ms/s (longest) |');
    out('|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    runs.forEach((f, i) => out(`| ${i + 1} | ${f.side} | ${f.valid ? 'yes' : 'NO'} | ${Math.round(f.deliveriesPerS).toLocaleString('en-US')} | ${Math.round(f.requestsPerS).toLocaleString('en-US')} | ${f.generatorCpuPct.toFixed(1)} % | ${f.otherThreadsCpuPct === null ? '–' : `${f.otherThreadsCpuPct.toFixed(1)} %`} | ${us(f.cpuPerDeliveryUs)} | ${us(f.cpuPerRequestUs)} | ${formatUs(f.p50Us)} | ${formatUs(f.p99Us)} | ${f.loopDelayP99MaxMs === null ? '–' : `${f.loopDelayP99MaxMs.toFixed(0)} ms`} | ${f.gcMsPerS === null ? '–' : `${f.gcMsPerS.toFixed(1)} (${f.gcMaxMs!.toFixed(0)} ms)`} |`));
    out();
    for (const [i, f] of runs.entries()) if (!f.valid) out(`- run ${i + 1} (${f.side}) invalid, left out of the medians: ${f.invalidReasons.join('; ')}`);
    const med = (side: 'base' | 'head', k: 'cpuPerDeliveryUs' | 'cpuPerRequestUs') =>
      median(runs.filter((f) => f.side === side && f.valid && f[k] !== null).map((f) => f[k]!));
    for (const [k, what] of [['cpuPerDeliveryUs', 'delivery'], ['cpuPerRequestUs', 'request']] as const) {
      const b = med('base', k);
      const h = med('head', k);
      if (b === null || h === null) continue;
      out(`- generator CPU per ${what}, median of the valid runs: base ${us(b)}, head ${us(h)}: head ÷ base = **${(h / b).toFixed(3)}** (${h < b ? '−' : '+'}${Math.abs(100 * (h / b - 1)).toFixed(1)} %)`);
      const paired = pairedRatios(runs, k);
      if (paired.length > 0) {
        const m = median(paired)!;
        out(`- the same within each back-to-back pair that did the same work without filling its load CPUs, valid or not (${paired.length} of ${pairs}; drift over minutes cancels): ${paired.map((x) => x.toFixed(3)).join(', ')}; median head ÷ base = **${m.toFixed(3)}** (${m < 1 ? '−' : '+'}${Math.abs(100 * (m - 1)).toFixed(1)} %)`);
      }
    }
    out(`- records: ${outRoot}`);
    return 0;
  } finally {
    offSignals();
    cleanup();
  }
}

if (process.argv[1] && /bench[\\/]ab\.ts$/.test(process.argv[1])) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof PushbenchError ? '' : 'bench:ab: '}${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
