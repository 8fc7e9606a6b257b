/**
 * `pushbench compare BASELINE CURRENT`: the regression gate. Reads both sides (result files or
 * folders of repeated runs; a rank folder works, its ranking.json and other non-result JSON are
 * skipped), matches and checks them (gate/compare.ts), prints the table and writes the
 * Markdown, JUnit and report outputs asked for. Two rank folders over a grid are matched cell by
 * cell (network, rate, clients). Exit 0 = no regression, 1 = regression, 2 = bad
 * input (every problem listed, one sentence each). `pushbench ab` (cli/ab-command.ts) writes the
 * same outputs through {@link writeComparisonOutputs}.
 */
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { expandInputs, type CommandIo } from './report-command.ts';
import { compareRuns, defaultThresholds, pairedThresholds, parseThresholds, planComparison, type ComparisonResult } from '../gate/compare.ts';
import { COMPARE_METRICS, defaultThresholdsText } from '../gate/metrics.ts';
import { pairRuns } from '../gate/match.ts';
import { formatComparisonHtml, formatComparisonMarkdown, formatComparisonText, formatJunit } from '../gate/compare-format.ts';
import { readResultFile, SCHEMA, writeTextAtomic, type ResultRecord } from '../core/record.ts';
import { PushbenchError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';

export const COMPARE_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'max-regression', kind: 'string', arg: 'LIST', help: `thresholds over the defaults, e.g. p99=10%,cpu=15%,lost=0,rss=off; metrics: ${COMPARE_METRICS.map((m) => m.key).join(', ')}` },
  { name: 'markdown', kind: 'string', arg: 'FILE', help: 'write the comparison table as Markdown (also appended to $GITHUB_STEP_SUMMARY when set)' },
  { name: 'junit', kind: 'string', arg: 'FILE', help: 'write JUnit XML: one test case per transport × metric' },
  { name: 'report', kind: 'string', arg: 'DIR', help: 'write the report of both sides with a comparison section' },
  { name: 'force', kind: 'bool', help: 'compare even when the configurations differ (a warning each instead)' },
  { name: 'paired', kind: 'bool', help: 'the runs were taken in pairs, back to back (pushbench ab\'s base/ and head/ folders): pair them by run name, compare pair by pair, server CPU threshold 5 %' },
]);

/** The output options `compare` and `ab` share. */
export const OUTPUT_OPTION_SPECS: readonly OptionSpec[] = COMPARE_OPTION_SPECS.filter((s) => ['max-regression', 'markdown', 'junit', 'report'].includes(s.name));

const COMPARE_USAGE = 'pushbench compare BASELINE CURRENT [--max-regression p99=10%,cpu=15%] [--markdown FILE] [--junit FILE] [--report DIR] [--force] [--paired]';
const COMPARE_DESCRIPTION = `Compares CURRENT against BASELINE (each a result file or a folder of repeated runs, e.g. a rank
folder), per transport, workload and network and per metric: the change with a 95 % interval
(Welch's t on log values over 3 or more runs a side; the paired t with --paired), the smallest
change the spread could catch, and a verdict. A regression is a change significantly worse than its
threshold after adjusting over that metric's figures (its whole interval beyond the threshold). For a pull request, \`pushbench ab\`
measures both revisions in turns on one machine, which sees far smaller changes.
Exit 0 no regression, 1 regression, 2 bad input.
Default thresholds (lost and errors in percentage points of the rate; off = reported, not gated):
  ${defaultThresholdsText()}`;

/** True when the file is JSON but not a pushbench result (ranking.json and the like): skipped in folders. */
function isOtherJson(path: string): boolean {
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as { schema?: unknown }).schema !== SCHEMA;
  } catch {
    return false;
  }
}

/** Read one side: its records, the files skipped, and a sentence per problem. */
export function readSide(side: 'BASELINE' | 'CURRENT', input: string): { records: ResultRecord[]; skipped: string[]; problems: string[] } {
  const records: ResultRecord[] = [];
  const skipped: string[] = [];
  const { files, problems } = expandInputs([input]);
  const prefixed = problems.map((p) => `${side} ${p}`);
  let isDir = false;
  try { isDir = statSync(input).isDirectory(); } catch { /* reported by expandInputs */ }
  for (const file of files) {
    try {
      records.push(readResultFile(file));
    } catch (err) {
      if (!(err instanceof PushbenchError)) throw err;
      if (isDir && isOtherJson(file)) { skipped.push(file); continue; }
      prefixed.push(`${side} ${err.message.replace(/:\n\s*-\s*/, ': ').replace(/\n\s*-\s*/g, '; ')}`);
    }
  }
  if (isDir && files.length > 0 && records.length === 0 && prefixed.length === 0) prefixed.push(`${side} ${input}: the folder holds no pushbench result files (only ${skipped.length} other JSON file(s))`);
  return { records, skipped, problems: prefixed };
}

/** The same runs named by their side, so a report of both sides tells them apart. */
const labelled = (side: string, records: readonly ResultRecord[]) => records.map((r) => ({ ...r, name: `${side}: ${r.name}` }));

/** Print nothing; write the Markdown, JUnit and report outputs `v` asks for (and the step summary on GitHub). */
export async function writeComparisonOutputs(result: ComparisonResult, records: { baseline: ResultRecord[]; current: ResultRecord[] }, v: Record<string, unknown>, io: CommandIo): Promise<void> {
  const markdown = formatComparisonMarkdown(result);
  if (typeof v.markdown === 'string') { writeTextAtomic(v.markdown, markdown); io.out(`wrote ${v.markdown}`); }
  if (typeof v.junit === 'string') { writeTextAtomic(v.junit, formatJunit(result)); io.out(`wrote ${v.junit}`); }
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) appendFileSync(summary, `\n${markdown}\n`);
  if (typeof v.report === 'string') {
    const { writeReport } = await import('../reports/report.ts');
    const section = { id: 'comparison', title: 'Comparison — baseline vs current', markdown, html: formatComparisonHtml(result) };
    const all = [...labelled('baseline', records.baseline), ...labelled('current', records.current)];
    const { files } = await writeReport(all, v.report, { title: 'pushbench compare', sections: [section] });
    io.out(`wrote the report: ${files[0]}`);
  }
}

/** Print the problems, record them where CI looks (JUnit, step summary), return 2. */
export function badInput(problems: readonly string[], v: Record<string, unknown>, io: CommandIo, command = 'compare'): number {
  io.err(`pushbench ${command}: cannot compare:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  if (typeof v.junit === 'string') writeTextAtomic(v.junit, formatJunit(null, problems));
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) appendFileSync(summary, `\n**pushbench ${command}: cannot compare**\n\n${problems.map((p) => `- ${p}`).join('\n')}\n`);
  return 2;
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

/** Run `pushbench compare`; returns the exit code (0 no regression, 1 regression, 2 bad input). */
export async function compareCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  const parsed = parseOptions(argv, COMPARE_OPTION_SPECS);
  if (parsed.help) { io.out(formatHelp(COMPARE_USAGE, COMPARE_DESCRIPTION, COMPARE_OPTION_SPECS)); return 0; }
  const v = parsed.values;
  const problems = [...parsed.problems];
  const { thresholds, problems: thresholdProblems } = parseThresholds(v.maxRegression as string | undefined, v.paired ? pairedThresholds() : defaultThresholds());
  problems.push(...thresholdProblems);
  if (parsed.positionals.length !== 2) problems.push(`give two inputs, BASELINE and CURRENT (got ${parsed.positionals.length})`);
  if (problems.length > 0) {
    io.err(`('pushbench compare --help' lists the options)`);
    return badInput(problems, v, io);
  }
  const [baselineInput, currentInput] = parsed.positionals;
  const baseline = readSide('BASELINE', baselineInput);
  const current = readSide('CURRENT', currentInput);
  for (const f of [...baseline.skipped, ...current.skipped]) io.out(`skipped ${f} (not a result file)`);
  problems.push(...baseline.problems, ...current.problems);
  // Match what did read even when some files did not, so every problem is listed at once.
  const readable = baseline.records.length > 0 && current.records.length > 0;
  const plan = readable ? planComparison(baseline.records, current.records, { force: Boolean(v.force) }) : null;
  if (plan) problems.push(...plan.problems);
  if (problems.length > 0 || plan === null) {
    for (const w of plan?.warnings ?? []) io.err(`warning: ${w}`);
    return badInput(problems, v, io);
  }
  const result = compareRuns(v.paired ? pairRuns(plan, (r) => r.name.replace(/-retry$/, '')) : plan, { thresholds });
  io.out(formatComparisonText(result));
  await writeComparisonOutputs(result, { baseline: baseline.records, current: current.records }, v, io);
  return result.regressions > 0 ? 1 : 0;
}
