/**
 * `npm run bench:in-place -- --variant NAME [--skip 8s] [--out DIR] -- <pushbench run options>`:
 * what one piece of the WebSocket delivery path costs inside a real run. One `pushbench run
 * --transport ws …` whose workers alternate, in pairs of 500 ms slots in a random order, between
 * the delivery path as it is (A) and the same path plus the variant's extra work on every frame
 * (B) (load/in-place.ts, switched on in the workers by PUSHBENCH_IN_PLACE_VARIANT); prints each
 * side's mean event-loop utilization and B ÷ A with its standard error (from the pairs'
 * differences). B ÷ A − 1 is what the variant's work costs per frame, as a share of the worker's
 * busy time, in the run.
 *
 * Why: a loop does not say what a piece costs among `ws`, the streams and the kernel's reads, and
 * two runs minutes apart differ by more than the piece (a shared VM drifts by tens of %), so
 * neither a loop nor bench:ab (separate runs) can size a 1–5 % piece; pairs of slots inside one
 * run can (measured resolution in docs/benchmarks.md). Run `--variant aa` first: its B ÷ A
 * should be 1 within the error.
 *
 * Usage example: `npm run bench:in-place -- --variant second-read -- --transport ws --clients 1000
 * --topics 1 --rate 50 --duration 60s --warmup 3s --workers 1`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { validationError } from '../core/errors.ts';
import type { ResultRecord } from '../core/record.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import { cpuModel } from '../load/resources.ts';
import { repoPath } from '../core/tsx.ts';
import { checkRunArgv, runOne, splitRunArgv, stopRunOnSignal } from './ab.ts';
import { VARIANTS, type InPlaceSlots } from '../load/in-place.ts';

const VARIANT_NAMES = Object.keys(VARIANTS);

const SPECS: OptionSpec[] = [
  { name: 'variant', kind: 'string', arg: 'NAME', help: `extra work in the B slots: ${VARIANT_NAMES.join(', ')} (required; aa adds nothing — the calibration)`, choices: VARIANT_NAMES },
  { name: 'skip', kind: 'durationMs', arg: 'TIME', help: 'each worker\'s slots in this first stretch are left out (connecting, warming up)', default: 8000, min: 0 },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the run\'s record and the slots go', default: 'results/in-place' },
  { name: 'help', kind: 'bool', short: 'h', help: 'show this help' },
];

const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);

export interface SlotComparison {
  /** pairs of slots */
  n: number;
  meanA: number;
  meanB: number;
  /** meanB ÷ meanA */
  ratio: number;
  /** its standard error, from the spread of the pairs' differences (B − A) */
  se: number;
}

/**
 * B over A from pairs of slots (`a[i]` and `b[i]` ran next to each other): the mean B ÷ the mean A,
 * with the standard error of the mean difference over the mean A; null under two pairs, or when
 * A's loop was idle.
 */
export function compareSlots(a: readonly number[], b: readonly number[]): SlotComparison | null {
  const n = Math.min(a.length, b.length);
  if (n < 2) return null;
  let sumA = 0;
  let sumB = 0;
  for (let i = 0; i < n; i++) {
    sumA += a[i]!;
    sumB += b[i]!;
  }
  const meanA = sumA / n;
  const meanB = sumB / n;
  if (!(meanA > 0)) return null;
  const meanD = meanB - meanA;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (b[i]! - a[i]! - meanD) ** 2;
  const se = Math.sqrt(ss / (n - 1) / n) / meanA;
  return { n, meanA, meanB, ratio: meanB / meanA, se };
}

/** Every worker's slots (one file a worker thread) pooled. */
export function readSlots(dir: string, base: string): InPlaceSlots | null {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`${base}.`) && f.endsWith('.json')) : [];
  if (files.length === 0) return null;
  const all = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as InPlaceSlots);
  return {
    variant: all[0]!.variant,
    slotMs: all[0]!.slotMs,
    a: all.flatMap((s) => s.a),
    b: all.flatMap((s) => s.b),
    framesA: all.reduce((n, s) => n + s.framesA, 0),
    framesB: all.reduce((n, s) => n + s.framesB, 0),
  };
}

export async function main(argv: string[]): Promise<number> {
  const { own, runArgv } = splitRunArgv(argv);
  const parsed = parseOptions(own, SPECS);
  if (parsed.help) {
    process.stdout.write(formatHelp('npm run bench:in-place -- --variant NAME [options] -- <pushbench run options>', 'One `pushbench run --transport ws` whose workers alternate between the delivery path (A) and the path plus a variant\'s extra work (B): what that work costs in the run.', SPECS));
    return 0;
  }
  const problems = [...parsed.problems];
  const variant = parsed.values.variant as string | undefined;
  if (variant === undefined && !parsed.problems.some((p) => p.includes('--variant'))) problems.push(`--variant NAME is required (${VARIANT_NAMES.join(', ')})`);
  const { withPins, transport } = checkRunArgv(runArgv, 'bench:in-place', problems);
  if (transport !== undefined && transport !== 'ws') problems.push(`run options: --transport ${transport}: bench:in-place alternates the WebSocket driver's frame handler; use --transport ws`);
  if (problems.length) {
    process.stderr.write(`${validationError(problems, 'bench:in-place: invalid options').message}\n`);
    return 2;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '').slice(0, 15);
  const dir = join(resolve(parsed.values.out as string), `in-place-${variant}-${stamp}`);
  // the slots apart from the record (runOne reads the one .json in the run's directory)
  const slotsDir = join(dir, 'slots');
  mkdirSync(slotsDir, { recursive: true });
  const slotsBase = 'worker';
  const offSignals = stopRunOnSignal('bench:in-place');
  log(`bench:in-place: variant ${variant}; pushbench run ${withPins.join(' ')}`);
  let record: ResultRecord;
  try {
    record = await runOne(repoPath('.'), withPins, dir, {
      PUSHBENCH_IN_PLACE_VARIANT: variant!,
      PUSHBENCH_IN_PLACE_OUT: join(slotsDir, slotsBase),
      PUSHBENCH_IN_PLACE_SKIP_MS: String(parsed.values.skip as number),
    });
  } finally {
    offSignals();
  }
  const slots = readSlots(slotsDir, slotsBase);
  const c = slots && compareSlots(slots.a, slots.b);
  const s = record.summary;
  out(`## bench:in-place — ${variant}`);
  out();
  out(`\`pushbench run ${withPins.join(' ')}\`; the workers' ${slots?.slotMs ?? 500} ms slots in pairs of A (the delivery path) and B (the path + ${variant}) in a random order, the first ${((parsed.values.skip as number) / 1000).toFixed(0)} s of each worker left out. ${cpuModel()}, ${os.cpus().length} cores; Node ${process.version}; ${new Date().toISOString()}.`);
  out();
  out('| variant | pairs of slots | frames A / B | event-loop utilization A | B | B ÷ A (± standard error) | run valid | deliveries |');
  out('|---|---:|---:|---:|---:|---:|---|---:|');
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  out(`| ${variant} | ${c ? c.n : slots ? slots.a.length : '–'} | ${slots ? `${slots.framesA.toLocaleString('en-US')} / ${slots.framesB.toLocaleString('en-US')}` : '–'} | ${c ? pct(c.meanA) : '–'} | ${c ? pct(c.meanB) : '–'} | ${c ? `**${c.ratio.toFixed(3)}** ± ${c.se.toFixed(3)}` : 'too few slots'} | ${record.valid ? 'yes' : 'NO'} | ${s.delivered.toLocaleString('en-US')} |`);
  out();
  if (!record.valid) out(`- the run was invalid (${record.invalidReasons.join('; ')}); where its worker was saturated, the utilization sat near 100 % on both sides and hides a difference`);
  if (!c) {
    log('bench:in-place: too few slots on a side to compare (a longer --duration, or a shorter --skip)');
    return 1;
  }
  return 0;
}

if (process.argv[1] && /bench[\\/]in-place\.ts$/.test(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
