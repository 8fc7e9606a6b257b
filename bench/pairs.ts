/**
 * Paired runs for the latency comparisons that left the test suite (bench:slow-consumers,
 * bench:delay, bench:profile): two variants of one run, A and B, made back to back in turns
 * (A B, B A, A B, …) so the machine's drift over minutes lands on both, each pair compared within
 * itself. Prints every run's figure, each pair's B ÷ A and B − A, and the medians.
 *
 * A run the harness marked invalid is left out of the comparison, with its reason printed; its
 * pair then has no ratio. Nothing is re-run to get a better figure.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { validationError } from '../core/errors.ts';
import { parseOptions } from '../core/options.ts';
import type { ResultRecord } from '../core/record.ts';
import type { TransportName } from '../core/wire.ts';
import { RUN_OPTION_SPECS, loadSettings, parseSlowClients } from '../cli/run-options.ts';
import { saveRun } from '../cli/run-command.ts';
import { parseFaults } from '../load/faults.ts';
import { runOnce, type RunSettings } from '../load/runner.ts';
import { cpuModel } from '../load/resources.ts';

/** RunSettings for `transport` from `pushbench run` options, as the command builds them. */
export function runSettingsFrom(transport: TransportName, argv: readonly string[], name: string): RunSettings {
  const parsed = parseOptions([...argv], RUN_OPTION_SPECS);
  const problems = [...parsed.problems];
  const s = loadSettings(parsed.values, transport, problems);
  if (parsed.values.slowClients !== undefined) {
    // as `pushbench run` reads it (cli/run-command.ts): loadSettings leaves it to the command
    const slow = parseSlowClients(parsed.values.slowClients as string);
    if (typeof slow === 'string') problems.push(slow);
    else s.slowClients = slow;
  }
  s.faults = parseFaults((parsed.values.fault as string[] | undefined) ?? [], { ...s, proxied: s.proxy !== null }, problems);
  if (problems.length) throw validationError(problems);
  s.name = name;
  return s;
}

/** One run of `transport` from `pushbench run` options, its record kept in `out` as `<name>.json`, as `pushbench run` writes it. */
export async function runKept(transport: TransportName, argv: readonly string[], out: string, name: string): Promise<ResultRecord> {
  const r = await runOnce(runSettingsFrom(transport, argv, name));
  await keepRecord(r, out);
  return r;
}

/** Write `record` into `out` (made if need be) with `pushbench run`'s own writer, without a report. */
export async function keepRecord(record: ResultRecord, out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  await saveRun(record, out, false);
}

export interface Variant {
  label: string;
  settings(name: string): RunSettings;
}

export interface PairedFigures {
  /** B ÷ A per pair with both runs valid */
  ratios: number[];
  /** B − A per pair, in the figure's unit */
  differences: number[];
  a: number[];
  b: number[];
}

const median = (xs: readonly number[]): number | null => (xs.length ? [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] : null);

/** Format µs as ms with 2 decimals. */
export const ms = (us: number | null): string => (us === null ? '—' : `${(us / 1000).toFixed(2)} ms`);

/**
 * `pairs` pairs of A and B in turns; `figure` reads the compared number (µs) off a record.
 * Writes one table row per pair and returns the figures for the caller's summary.
 */
export async function runPairs(o: { title: string; a: Variant; b: Variant; pairs: number; figure: (r: ResultRecord) => number; write: (line: string) => void }): Promise<PairedFigures> {
  const out: PairedFigures = { ratios: [], differences: [], a: [], b: [] };
  o.write(`\n### ${o.title}\n\n| pair | order | ${o.a.label} | ${o.b.label} | B ÷ A | B − A |\n|--:|---|--:|--:|--:|--:|`);
  const excluded: string[] = [];
  for (let i = 0; i < o.pairs; i++) {
    const order = i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    const got: Partial<Record<'a' | 'b', ResultRecord>> = {};
    for (const side of order) got[side] = await runOnce(o[side].settings(`${side}-${i + 1}`));
    const fig: Partial<Record<'a' | 'b', number>> = {};
    for (const side of ['a', 'b'] as const) {
      const r = got[side]!;
      if (r.valid) fig[side] = o.figure(r);
      else excluded.push(`pair ${i + 1} ${o[side].label}: invalid (${r.invalidReasons.join('; ')})`);
    }
    if (fig.a !== undefined) out.a.push(fig.a);
    if (fig.b !== undefined) out.b.push(fig.b);
    const both = fig.a !== undefined && fig.b !== undefined && fig.a > 0;
    if (both) {
      out.ratios.push(fig.b! / fig.a!);
      out.differences.push(fig.b! - fig.a!);
    }
    o.write(`| ${i + 1} | ${order.join(' ').toUpperCase()} | ${ms(fig.a ?? null)} | ${ms(fig.b ?? null)} | ${both ? (fig.b! / fig.a!).toFixed(2) : '—'} | ${both ? ms(fig.b! - fig.a!) : '—'} |`);
  }
  o.write(`\nMedians: ${o.a.label} ${ms(median(out.a))}, ${o.b.label} ${ms(median(out.b))}; B ÷ A ${median(out.ratios)?.toFixed(2) ?? '—'} (median of the pairs), B − A ${ms(median(out.differences))}.`);
  for (const x of excluded) o.write(`Excluded: ${x}`);
  return out;
}

/** The conditions line every paired bench prints first. */
export function conditions(what: string): string {
  return `Conditions: ${os.cpus().length} × ${cpuModel()}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(2)} at the start; ${what}; reference server and generator pinned as \`pushbench run\` pins them.`;
}

export { median };
