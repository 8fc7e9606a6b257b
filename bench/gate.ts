/**
 * `npm run bench:gate -- [--order interleaved|sequential] [--sets 5] [--delay-sets 1] [--cpu-sets 1]
 * [--repeats 5] [--out DIR] | --from DIR [--use-repeats N] [--max-regression LIST] [--drift LIST]`:
 * the regression gate calibrated on identical code. Measures K sets of the gate's configuration
 * (cli/ab-options.ts GATE_DEFAULTS: every transport, 200 clients, 6 s, 5 msg/s, loopback) on this
 * commit, plus sets with known injected changes — the reference server's `--delay 10` and
 * `--server-cpu-cost 30%` — then compares every ordered pair of identical sets (the false-alarm
 * rate: K·(K−1) comparisons) and every injected set against every identical one (the detection
 * rate), exactly as the gate does, and prints both with what the spread could catch.
 *
 * - `--order interleaved` (what `pushbench ab` does): the sets' runs in turns, each step's runs
 *   back to back, compared pair by pair. Sets compared here are up to (sets − 1) runs apart within
 *   a step, further than ab's neighbours, so its false alarms are an upper bound for ab's.
 * - `--order sequential` (stored sets, `compare`): each set a whole `rank`, one after another,
 *   compared as two sets measured apart; also prints how far a set drifts beyond its repeats.
 *
 * Each step (interleaved: every set's run of one transport and repeat, the runs compared with each
 * other) or set (sequential) holds the shared lock (`--lock`, default /tmp/pushbench-load.lock),
 * so others can run between them but not among the runs compared. Run it without an outer `flock` of that
 * file: it would wait for its own lock forever. `--from DIR` analyses the records of an
 * earlier run again (with other repeats, thresholds or drift) without running anything.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import { readResultFile, writeJsonAtomic, type ResultRecord } from '../core/record.ts';
import { GENERATOR_V8_FLAGS, repoPath } from '../core/tsx.ts';
import { cpuModel } from '../load/resources.ts';
import { rankPlan } from '../load/rank-plan.ts';
import { CLAIMED_ORDER, TRANSPORTS } from '../load/drivers/index.ts';
import type { TransportName } from '../core/wire.ts';
import { defaultThresholds, pairedThresholds, parseThresholds } from '../gate/metrics.ts';
import type { FamilyBy } from '../gate/compare.ts';
import { GATE_DEFAULTS, gateRunArgs } from '../cli/ab-options.ts';
import { runInTurns, type TurnSide } from '../cli/ab-turns.ts';
import { holdLock } from '../cli/ab-runs.ts';
import { driftTable, formatRates, gateFigures, spreadTable, type GateSet, type SetKind } from './gate-analysis.ts';

const SPECS: OptionSpec[] = [
  { name: 'order', kind: 'string', arg: 'ORDER', help: 'interleaved: the sets\' runs in turns, compared in pairs (pushbench ab); sequential: one rank per set, one after another (compare)', default: 'interleaved', choices: ['interleaved', 'sequential'] },
  { name: 'sets', kind: 'int', arg: 'K', help: 'sets of identical code: K·(K−1) A/A comparisons', default: 5, min: 2, max: 20 },
  { name: 'delay-sets', kind: 'int', arg: 'N', help: 'sets with the server\'s --delay', default: 1, min: 0, max: 10 },
  { name: 'cpu-sets', kind: 'int', arg: 'N', help: 'sets with the server\'s --server-cpu-cost', default: 1, min: 0, max: 10 },
  { name: 'delay', kind: 'durationMs', bareUnit: 'ms', arg: 'MS', help: 'the injected delay', default: 10, min: 1 },
  { name: 'cpu-cost', kind: 'fraction', arg: 'PERCENT', help: 'the injected server CPU', default: 0.3, min: 0.01, max: 10 },
  { name: 'repeats', kind: 'int', arg: 'N', help: 'runs of each transport in each set (pushbench ab\'s --repeats)', default: 5, min: 2, max: 50 },
  { name: 'transports', kind: 'list', arg: 'LIST', help: 'transports', default: [...CLAIMED_ORDER], choices: TRANSPORTS },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the sets go (a folder per set, bench-gate.json)', default: 'results/bench-gate' },
  { name: 'lock', kind: 'string', arg: 'FILE', help: 'flock this file around each step (interleaved: every set\'s run of one transport and repeat) or set (sequential); none: no lock', default: '/tmp/pushbench-load.lock' },
  { name: 'from', kind: 'string', arg: 'DIR', help: 'analyse the sets in DIR (an earlier --out/<stamp>) again; runs nothing' },
  { name: 'use-repeats', kind: 'int', arg: 'N', help: 'analyse only each set\'s first N repeats (what fewer repeats would have said)', min: 2, max: 50 },
  { name: 'max-regression', kind: 'string', arg: 'LIST', help: 'thresholds for the analysis, as compare\'s' },
  { name: 'family', kind: 'string', arg: 'BY', help: 'Benjamini–Hochberg families for the analysis, as compareRuns\' familyBy', choices: ['comparison', 'metric'] },
  { name: 'drift', kind: 'string', arg: 'LIST', help: 'set drift per metric for the analysis (sequential), e.g. p99=25%,cpu=3%' },
  { name: 'help', kind: 'bool', short: 'h', help: 'show this help' },
];

interface Manifest {
  order: 'interleaved' | 'sequential';
  repeats: number;
  transports: TransportName[];
  sides: { label: string; kind: SetKind; args: string[] }[];
  what: { delay: string; cpu: string };
  started: string;
  finished?: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);

/** The sets in a mixed order (A, delay, CPU, A, …), so no kind runs only at one end of the series. */
function sidesOf(v: Record<string, unknown>): Manifest['sides'] {
  const kinds: [SetKind, number, string[]][] = [
    ['aa', v.sets as number, []], ['delay', v.delaySets as number, ['--delay', `${v.delay}ms`]], ['cpu', v.cpuSets as number, ['--server-cpu-cost', String(v.cpuCost)]],
  ];
  const sides: Manifest['sides'] = [];
  for (let i = 0; sides.length < kinds.reduce((n, k) => n + k[1], 0); i++) {
    for (const [kind, n, args] of kinds) if (i < n) sides.push({ label: `${kind}-${i + 1}`, kind, args });
  }
  return sides;
}

/** One whole rank per set, one after another, each under the lock. */
async function runSequential(m: Manifest, root: string, lockFile: string | undefined, signal: AbortSignal): Promise<boolean> {
  for (const [i, side] of m.sides.entries()) {
    if (signal.aborted) return false;
    const release = lockFile ? await holdLock(lockFile) : async () => {};
    const argv = [process.execPath, ...GENERATOR_V8_FLAGS, repoPath('bin/pushbench.js'), 'rank', '--transports', m.transports.join(','), '--repeats', String(m.repeats),
      '--network', GATE_DEFAULTS.network, ...gateRunArgs(), ...side.args, '--out', root, '--name', side.label, '--no-report'];
    const started = Date.now();
    const code = await new Promise<number | null>((done) => {
      const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
      const stop = () => c.kill('SIGINT');
      signal.addEventListener('abort', stop, { once: true });
      c.once('exit', (status) => { signal.removeEventListener('abort', stop); done(status); });
    });
    await release();
    log(`[${i + 1}/${m.sides.length}] ${side.label}: rank exit ${code}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return !signal.aborted;
}

/** The records of every set of a bench:gate folder, keeping each set's first `useRepeats` repeats. */
function readSets(root: string, m: Manifest, useRepeats: number | undefined): GateSet[] {
  return m.sides.map((side) => {
    const dir = join(root, side.label);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'ranking.json') : [];
    const records: ResultRecord[] = files.map((f) => readResultFile(join(dir, f)));
    const repeat = (r: ResultRecord) => Number(/-[rp](\d+)(-retry)?$/.exec(r.name)?.[1] ?? 0);
    return { label: side.label, kind: side.kind, records: records.filter((r) => useRepeats === undefined || repeat(r) <= useRepeats) };
  });
}

function parseDrift(text: string | undefined, problems: string[]): Record<string, number> | undefined {
  if (text === undefined) return undefined;
  const { thresholds, problems: p } = parseThresholds(text);
  problems.push(...p.map((x) => x.replace('--max-regression', '--drift')));
  const given = new Set(text.split(',').map((s) => s.split('=')[0].trim()));
  return Object.fromEntries(Object.entries(thresholds).filter(([k, v]) => given.has(k) && v !== null)) as Record<string, number>;
}

function report(root: string, m: Manifest, sets: GateSet[], v: Record<string, unknown>, drift: Record<string, number> | undefined): void {
  const paired = m.order === 'interleaved';
  const { thresholds } = parseThresholds(v.maxRegression as string | undefined, paired ? pairedThresholds() : defaultThresholds());
  const f = gateFigures(sets, { paired, thresholds, setDrift: drift, familyBy: v.family as FamilyBy | undefined });
  const n = sets.find((s) => s.kind === 'aa')?.records.length ?? 0;
  out(`## bench:gate — ${m.order}, ${v.useRepeats ?? m.repeats} repeats${v.maxRegression ? `, --max-regression ${v.maxRegression}` : ''}${drift ? `, --drift ${v.drift}` : ''}${v.family ? `, --family ${v.family}` : ''}`);
  out();
  out(`${m.sides.length} sets (${sets.filter((s) => s.kind === 'aa').length} of identical code, ${n} runs each), ${m.transports.join(', ')}, the gate's configuration (${GATE_DEFAULTS.clients} clients, ${GATE_DEFAULTS.duration / 1000} s, ${GATE_DEFAULTS.rate} msg/s, ${GATE_DEFAULTS.network}); compared ${paired ? 'pair by pair (compare --paired, as pushbench ab)' : 'as two sets measured apart (compare)'}. ${os.cpus().length} × ${cpuModel()}, Node ${process.version}; measured ${m.started} – ${m.finished ?? '?'}; records in ${root}.`);
  out();
  for (const line of formatRates(f, m.what)) out(line);
  out();
  out(spreadTable(f.aa, 'A/A: median |change| (median detectable)', true).join('\n'));
  out();
  for (const kind of ['delay', 'cpu'] as const) {
    if (f.injected[kind].length === 0) continue;
    out(spreadTable(f.injected[kind], `${m.what[kind]}: median change (detectable)`).join('\n'));
    out();
  }
  if (!paired) out(driftTable(sets).join('\n'));
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv, SPECS);
  if (parsed.help) { out(formatHelp('npm run bench:gate -- [options]', 'The regression gate on identical code (false alarms) and on injected changes (detection).', SPECS)); return 0; }
  const v = parsed.values;
  const problems = [...parsed.problems];
  if (parsed.positionals.length) problems.push(`unexpected argument(s): ${parsed.positionals.join(' ')}`);
  problems.push(...parseThresholds(v.maxRegression as string | undefined).problems);
  const drift = parseDrift(v.drift as string | undefined, problems);
  const from = v.from as string | undefined;
  if (from !== undefined && !existsSync(join(from, 'bench-gate.json'))) problems.push(`--from ${from}: no bench-gate.json there`);
  if (problems.length) { process.stderr.write(`${validationError(problems, 'bench:gate: invalid options').message}\n`); return 2; }
  if (from !== undefined) {
    const m = JSON.parse(readFileSync(join(from, 'bench-gate.json'), 'utf8')) as Manifest;
    report(resolve(from), m, readSets(from, m, v.useRepeats as number | undefined), v, drift);
    return 0;
  }
  const root = resolve(join(v.out as string, new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)));
  const m: Manifest = {
    order: v.order as Manifest['order'], repeats: v.repeats as number, transports: v.transports as TransportName[], sides: sidesOf(v),
    what: { delay: `server --delay ${v.delay} ms`, cpu: `server CPU +${Math.round((v.cpuCost as number) * 100)} %` }, started: new Date().toISOString(),
  };
  writeJsonAtomic(join(root, 'bench-gate.json'), m);
  const lockFile = v.lock === 'none' ? undefined : (v.lock as string);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`bench:gate: ${m.sides.length} sets × ${m.transports.length} transports × ${m.repeats} repeats, ${m.order}; records in ${root}`);
    let complete: boolean;
    if (m.order === 'sequential') complete = await runSequential(m, root, lockFile, controller.signal);
    else {
      const sides: TurnSide[] = m.sides.map((s) => ({ label: s.label, tree: repoPath('.'), args: s.args }));
      const steps = rankPlan(m.transports, m.repeats, [GATE_DEFAULTS.network]).map((p) => ({ transport: p.item, network: p.cell, repeat: p.repeat }));
      const turns = await runInTurns({ sides, steps, runArgs: (s) => ['--transport', s.transport, '--network', s.network, ...gateRunArgs()], outRoot: root, lockFile, signal: controller.signal, log });
      complete = !turns.interrupted && !turns.stoppedEarly;
    }
    if (!complete) { log(`bench:gate: stopped early; analyse what there is with --from ${root}`); return 130; }
    m.finished = new Date().toISOString();
    writeJsonAtomic(join(root, 'bench-gate.json'), m);
    report(root, m, readSets(root, m, undefined), v, drift);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (process.argv[1] && /bench[\\/]gate\.ts$/.test(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
