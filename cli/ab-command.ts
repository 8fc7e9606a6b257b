/**
 * `pushbench ab --base REV`: the regression gate for a change. Measures REV (checked out in a
 * temporary git worktree) and this checkout in turns on this machine — for every transport and
 * repeat one run of each, back to back, the order alternating — then compares them pair by pair
 * (gate/compare.ts, the paired t: the machine's drift between pairs falls out) and writes what
 * `compare` writes: the table, Markdown, JUnit, the report. Exit 0 no regression, 1 regression
 * (or a failed `--assert` on the head's runs),
 * 2 bad input (every problem listed before anything runs), 130 interrupted (the run in progress
 * stopped, the worktree removed, nothing left running).
 *
 * In CI: `pushbench ab --base $(git merge-base origin/main HEAD) …` on the pull request's runner,
 * instead of a stored baseline from another machine (.github/workflows/pushbench.yml).
 */
import { folderProblem } from '../core/record-io.ts';
import { dirname, join, resolve } from 'node:path';
import type { ResultRecord } from '../core/record.ts';
import type { TransportName } from '../core/wire.ts';
import { formatHelp, parseCommandArgs, type OptionSpec, type OptionValues } from '../core/options.ts';
import { repoPath } from '../core/tsx.ts';
import { CLAIMED_ORDER, TRANSPORTS } from '../load/drivers/index.ts';
import { rankPlan } from '../load/rank-plan.ts';
import { parseNetworks } from '../netem/network.ts';
import { compareRuns, pairedThresholds, parseThresholds, planComparison } from '../gate/compare.ts';
import { formatComparisonText } from '../gate/compare-format.ts';
import { pairRuns } from '../gate/match.ts';
import { addWorktree, git, resolveCommit } from './ab-runs.ts';
import { pairKey, runInTurns, type TurnStep } from './ab-turns.ts';
import { OUTPUT_OPTION_SPECS, badInput, processIo, writeComparisonOutputs } from './compare-command.ts';
import type { CommandIo } from './report-command.ts';
import { LOAD_OPTION_SPECS, loadSettingsOnce, nameAndFolder } from './run-options.ts';
import { GATE_DEFAULTS, forwardedRunArgs } from './ab-options.ts';
import { ASSERT_OPTION_SPEC, assertionsOption, checkAssertions, type Assertion } from '../gate/assert.ts';

export const AB_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'base', kind: 'string', arg: 'REV', help: 'the git revision to measure this checkout against, e.g. $(git merge-base origin/main HEAD) (required)' },
  { name: 'transports', kind: 'list', arg: 'LIST', help: 'transports to measure (default: the four the claim orders)', default: [...CLAIMED_ORDER], choices: TRANSPORTS },
  { name: 'repeats', kind: 'int', arg: 'N', help: 'pairs of runs per transport and network, base and head back to back', default: GATE_DEFAULTS.repeats, min: 2, max: 100 },
  ...LOAD_OPTION_SPECS.filter((s) => s.name !== 'no-report').map((s) => {
    if (s.name === 'network') return { ...s, arg: 'LIST', help: 'network profiles, comma-separated (as rank)', default: GATE_DEFAULTS.network };
    if (s.name === 'out') return { ...s, help: 'folder for the runs: <out>/<name>/base and <out>/<name>/head' };
    return s.name in GATE_DEFAULTS ? { ...s, default: GATE_DEFAULTS[s.name as keyof typeof GATE_DEFAULTS] } : s;
  }),
  { name: 'name', kind: 'string', arg: 'NAME', help: 'name of this comparison (default ab-<time>)' },
  ...OUTPUT_OPTION_SPECS,
  { ...ASSERT_OPTION_SPEC, help: `${ASSERT_OPTION_SPEC.help} (checked on the head's runs)` },
]);

const AB_USAGE = 'pushbench ab --base REV [--repeats N] [--transports LIST] [load options as rank] [--max-regression LIST] [--markdown FILE] [--junit FILE] [--report DIR]';
const AB_DESCRIPTION = `Measures the revision REV and this checkout in turns on this machine: for every transport,
network and repeat, one \`pushbench run\` of each, back to back (A B, then B A, …), so the machine's
drift falls on both. Then compares them pair by pair (paired t on the log ratios), as \`compare\`
does: the change with a 95 % interval, the smallest change the pairs could catch, a verdict per
metric, Markdown, JUnit and a report. REV runs from a temporary git worktree with this checkout's
node_modules. Thresholds as compare's, but server CPU at 5 % (pairs see what sets apart cannot).
Exit 0 no regression, 1 regression, 2 bad input, 130 interrupted.`;

interface AbSetup {
  baseRev: string;
  baseCommit: string;
  transports: TransportName[];
  networks: string[];
  repeats: number;
  name: string;
  outDir: string;
  values: OptionValues;
  given: Set<string>;
  assertions: Assertion[];
}

/** Output files must be writable before an hour of runs, not after (nothing is made here). */
function checkWritable(option: string, path: unknown, folder: boolean, problems: string[]): void {
  if (typeof path !== 'string') return;
  const problem = folderProblem(folder ? path : dirname(resolve(path)));
  if (problem !== null) problems.push(`--${option} ${path}: ${folder ? 'not' : 'its folder is not'} a writable folder (${problem})`);
}

/** Parse and validate every option (and every transport × network's settings) before any work. */
function parseAbArgs(argv: string[], problems: string[]): AbSetup | 'help' | null {
  const parsed = parseCommandArgs(argv, AB_OPTION_SPECS);
  if (parsed === 'help') return 'help';
  const { values: v } = parsed;
  problems.push(...parsed.problems);
  const baseRev = v.base as string | undefined;
  const baseCommit = baseRev === undefined ? null : resolveCommit(baseRev);
  if (baseRev === undefined) problems.push('--base REV is required (a commit, branch or tag; in CI $(git merge-base origin/main HEAD))');
  else if (baseCommit === null) problems.push(`--base: "${baseRev}" is not a commit in this repository (in CI, check out with fetch-depth: 0 so the merge base is there)`);
  problems.push(...parseThresholds(v.maxRegression as string | undefined, pairedThresholds()).problems);
  const assertions = assertionsOption(v.assert, problems);
  const networks = parseNetworks(v.network as string);
  problems.push(...networks.problems.map((p) => `--network: ${p}`));
  const seen = new Set<string>();
  for (const profile of networks.profiles) {
    for (const t of v.transports as TransportName[]) loadSettingsOnce({ ...v, network: profile.name }, t, problems, seen);
  }
  checkWritable('markdown', v.markdown, false, problems);
  checkWritable('junit', v.junit, false, problems);
  checkWritable('report', v.report, true, problems);
  if (problems.length > 0) return null;
  const given = new Set(argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]));
  return {
    baseRev: baseRev!, baseCommit: baseCommit!, transports: v.transports as TransportName[], networks: networks.profiles.map((p) => p.name),
    repeats: v.repeats as number, ...nameAndFolder(v, 'ab'), values: v, given, assertions,
  };
}

/** SIGINT/SIGTERM abort `controller`; a second one exits at once (the worktree removed first). */
function onSignals(controller: AbortController, cleanup: () => void): () => void {
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    if (++count === 1) {
      process.stderr.write(`\n${sig}: stopping the run in progress; the worktree is removed (again to quit at once)\n`);
      controller.abort();
    } else {
      cleanup();
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Compare the two sides' records pair by pair, print and write the outputs; the exit code. */
async function judge(setup: AbSetup, records: { baseline: ResultRecord[]; current: ResultRecord[] }, io: CommandIo): Promise<number> {
  const plan = planComparison(records.baseline, records.current);
  if (plan.problems.length > 0) return badInput(plan.problems, setup.values, io, 'ab');
  const thresholds = parseThresholds(setup.values.maxRegression as string | undefined, pairedThresholds()).thresholds;
  const result = compareRuns(pairRuns(plan, pairKey), { thresholds });
  io.out(formatComparisonText(result));
  await writeComparisonOutputs(result, records, setup.values, io);
  const asserted = checkAssertions(setup.assertions, records.current.filter((r) => r.complete));
  for (const line of asserted.lines) (asserted.passed ? io.out : io.err)(line);
  return result.regressions > 0 || !asserted.passed ? 1 : 0;
}

/** Run `pushbench ab`; returns the exit code. */
export async function abCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  const problems: string[] = [];
  const setup = parseAbArgs(argv, problems);
  if (setup === 'help') { io.out(formatHelp(AB_USAGE, AB_DESCRIPTION, AB_OPTION_SPECS)); return 0; }
  if (setup === null) {
    io.err(`('pushbench ab --help' lists the options)`);
    return badInput(problems, {}, io, 'ab');
  }
  const head = git(['describe', '--always', '--dirty']).out;
  const steps: TurnStep[] = rankPlan(setup.transports, setup.repeats, setup.networks).map((p) => ({ transport: p.item, network: p.cell, repeat: p.repeat }));
  const worktree = addWorktree(setup.baseCommit);
  const controller = new AbortController();
  const offSignals = onSignals(controller, worktree.remove);
  try {
    if (worktree.lockDiffers) io.err('note: package-lock.json differs between the base and this checkout; the base runs with this checkout\'s node_modules');
    io.err(`pushbench ab ${setup.name}: base ${setup.baseRev} (${setup.baseCommit.slice(0, 7)}) vs head ${head}; ${steps.length} pairs (${setup.transports.join(', ')} × ${setup.repeats} × ${setup.networks.join(', ')}), in turns; runs in ${setup.outDir}`);
    const outRoot = resolve(setup.outDir);
    const turns = await runInTurns({
      sides: [{ label: 'base', tree: worktree.path, args: [] }, { label: 'head', tree: repoPath('.'), args: [] }],
      steps, runArgs: (s) => forwardedRunArgs(s, setup.values, setup.given), outRoot, signal: controller.signal, log: io.err,
    });
    if (turns.interrupted) { io.err('pushbench ab interrupted: the runs so far are in ' + outRoot); return 130; }
    if (turns.stoppedEarly) { io.err('pushbench ab ended early: a run could not finish (its record is marked complete: false); nothing compared'); return 1; }
    io.out(`base ${setup.baseRev} (${setup.baseCommit.slice(0, 7)}) vs head ${head}, ${setup.repeats} pairs per transport in turns; records in ${join(outRoot, 'base')} and ${join(outRoot, 'head')}`);
    return await judge(setup, { baseline: turns.records[0], current: turns.records[1] }, io);
  } finally {
    offSignals();
    worktree.remove();
  }
}
