/**
 * `pushbench merge PLAN RECORDS… -o DIR`: one record and one report from a plan's shard records
 * (dist/merge.ts). Every problem of the inputs is listed before anything is written (exit 2);
 * `--assert` is judged on the merged run only (exit 1 when it fails).
 */
import { join } from 'node:path';
import { PushbenchError, validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import { readResultFile, writeJsonAtomic, type ResultRecord } from '../core/record.ts';
import { ASSERT_OPTION_SPEC, assertionsOption, checkAssertions, type Assertion } from '../gate/assert.ts';
import { mergeShards, type ShardInput } from '../dist/merge.ts';
import { shardsSection } from '../dist/merge-report.ts';
import { readPlan, type Plan } from '../dist/plan.ts';
import { expandInputs } from './report-command.ts';
import type { ReportSection } from '../reports/report.ts';
import { parseSlo } from '../capacity/search.ts';
import { judgeStaircase } from '../capacity/planned.ts';
import { formatCapacityHtml, formatCapacityMarkdown, formatCapacityText } from '../capacity/table.ts';
import { fileSafe } from './run-options.ts';
import { formatSummaryTable } from './summary.ts';

export const MERGE_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'out', short: 'o', kind: 'string', arg: 'DIR', help: 'folder for the merged record and its report', default: 'merged' },
  { name: 'allow-partial', kind: 'bool', help: 'merge the shards that are there when some are missing; the run is marked invalid, the missing ones named' },
  { name: 'no-report', kind: 'bool', help: 'write the merged record only, no report' },
  ASSERT_OPTION_SPEC,
]);

const MERGE_USAGE = 'pushbench merge PLAN RECORDS|FOLDERS… [-o DIR] [--allow-partial] [--assert TERMS]';
const MERGE_DESCRIPTION = `Merges the shard records of one plan into one record: histograms added (percentiles of all
samples together, never averaged), counters summed, timelines added second by second on the
plan's absolute timeline. Refuses records of another plan and names missing or repeated shard
indexes (exit 2). Writes <out>/<plan name>.json and a report with a panel per shard.`;

export interface MergeArgs {
  plan: Plan;
  inputs: ShardInput[];
  outDir: string;
  allowPartial: boolean;
  noReport: boolean;
  assertions: Assertion[];
}

/** Parse the argv and read every file; throws PB_BAD_OPTION listing every problem. */
export function parseMergeArgs(argv: string[]): MergeArgs | 'help' {
  const parsed = parseOptions(argv, MERGE_OPTION_SPECS);
  if (parsed.help) return 'help';
  const problems = [...parsed.problems];
  const [planFile, ...rest] = parsed.positionals;
  let plan: Plan | undefined;
  if (planFile === undefined) problems.push('no plan given: pushbench merge PLAN RECORDS…');
  else {
    try {
      plan = readPlan(planFile);
    } catch (err) {
      const e = err as PushbenchError;
      problems.push(...(e.problems?.length ? e.problems.map((p) => `plan ${planFile}: ${p}`) : [e.message]));
    }
  }
  const { files, problems: missingFiles } = expandInputs(rest.filter((f) => f !== planFile));
  problems.push(...missingFiles);
  if (planFile !== undefined && rest.length === 0) problems.push('no shard records given');
  const inputs: ShardInput[] = [];
  for (const file of files) {
    try {
      inputs.push({ file, record: readResultFile(file) });
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const assertions = assertionsOption(parsed.values.assert, problems);
  if (problems.length || !plan) throw validationError(problems, 'cannot merge');
  return { plan, inputs, outDir: parsed.values.out as string, allowPartial: Boolean(parsed.values.allowPartial), noReport: Boolean(parsed.values.noReport), assertions };
}

/** Write the merged record (and its report unless asked not to); the paths written. */
async function saveMerged(record: ResultRecord, outDir: string, withReport: boolean, capacity: ReportSection | null): Promise<string[]> {
  const base = fileSafe(record.name);
  const file = join(outDir, `${base}.json`);
  writeJsonAtomic(file, record);
  if (!withReport || !record.shards) return [file];
  const { writeReport } = await import('../reports/report.ts');
  // a staircase's report compares its steps, as capacity's does
  const { files } = await writeReport(record.steps ?? [record], join(outDir, base), { title: `pushbench merge: ${record.name}`, sections: [...(capacity ? [capacity] : []), shardsSection(record.shards)] });
  return [file, ...files.filter((f) => f.endsWith('report.html'))];
}

/**
 * A staircase plan's merged steps judged against its SLO as `pushbench capacity` judges steps:
 * the verdicts and the capacity go into the record, the table to stdout and the report's section.
 */
function judgePlannedSteps(plan: Plan, record: ResultRecord): ReportSection | null {
  if (!plan.staircase || !record.steps) return null;
  const { slo } = parseSlo(plan.staircase.slo);
  const { outcome, figures } = judgeStaircase(record.steps, slo, plan.shards);
  record.staircase = figures;
  process.stdout.write(`${formatCapacityText([outcome], slo)}\n\n`);
  return { id: 'capacity', title: 'Capacity', markdown: formatCapacityMarkdown([outcome], slo), html: formatCapacityHtml([outcome], slo) };
}

export async function mergeCommand(argv: string[]): Promise<number> {
  const args = parseMergeArgs(argv);
  if (args === 'help') {
    process.stdout.write(formatHelp(MERGE_USAGE, MERGE_DESCRIPTION, MERGE_OPTION_SPECS));
    return 0;
  }
  const record = mergeShards(args.plan, args.inputs, { allowPartial: args.allowPartial });
  process.stdout.write(`${formatSummaryTable(record.steps ?? [record])}\n\n`);
  const capacity = judgePlannedSteps(args.plan, record);
  const files = await saveMerged(record, args.outDir, !args.noReport, capacity);
  for (const f of files) process.stdout.write(`wrote ${f}\n`);
  if (!record.valid) process.stderr.write(`merged run invalid:\n${record.invalidReasons.map((r) => `  - ${r}`).join('\n')}\n`);
  const gate = checkAssertions(args.assertions, [record]);
  for (const line of gate.lines) (gate.passed ? process.stdout : process.stderr).write(`${line}\n`);
  return gate.passed ? 0 : 1;
}
