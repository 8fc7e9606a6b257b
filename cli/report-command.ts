/**
 * `pushbench report <files or folders…> [-o dir] [--title text]`: read result files (a folder
 * means every `*.json` in it), write the report for every file that reads, and name every file that
 * does not. Exit code 0 when all read; 2 on bad input (every problem listed), even when a report
 * was written for the good files.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readResultFile, type ResultRecord } from '../core/record.ts';
import { writeReport } from '../reports/report.ts';
import { PushbenchError } from '../core/errors.ts';

export const REPORT_USAGE = `usage: pushbench report <result files or folders…> [-o dir] [--title text]
  Writes report.html, one SVG per chart, summary.md, results.csv and one .hlog per run.
  -o, --out dir     output folder (default: report)
  --title text      the report's title (default: pushbench report)`;

export interface ReportArgs {
  inputs: string[];
  outDir: string;
  title?: string;
  help: boolean;
}

/** Parse the arguments; returns every problem at once. Pure. */
export function parseReportArgs(argv: readonly string[]): { args: ReportArgs; problems: string[] } {
  const args: ReportArgs = { inputs: [], outDir: 'report', help: false };
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (flag === '-h' || flag === '--help') args.help = true;
    else if (flag === '-o' || flag === '--out' || flag === '--title') {
      const v = value();
      if (v === undefined || v === '') problems.push(`${flag} needs a value`);
      else if (flag === '--title') args.title = v;
      else args.outDir = v;
    } else if (a.startsWith('-') && a !== '-') problems.push(`unknown option ${a}`);
    else args.inputs.push(a);
  }
  if (!args.help && args.inputs.length === 0) problems.push('no result files given');
  return { args, problems };
}

/** The result files named by the inputs: files as given, folders expanded to their `*.json` (sorted). */
export function expandInputs(inputs: readonly string[]): { files: string[]; problems: string[] } {
  const files: string[] = [];
  const problems: string[] = [];
  for (const input of inputs) {
    let isDir: boolean;
    try {
      isDir = statSync(input).isDirectory();
    } catch {
      problems.push(`${input}: no such file or folder`);
      continue;
    }
    if (!isDir) { files.push(input); continue; }
    const found = readdirSync(input).filter((f) => f.endsWith('.json')).sort().map((f) => join(input, f));
    if (found.length === 0) problems.push(`${input}: the folder holds no .json result files`);
    files.push(...found);
  }
  return { files: [...new Set(files)], problems };
}

export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const processIo: CommandIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

/** Run `pushbench report`; returns the exit code (0 ok, 2 bad input). */
export async function reportCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  const { args, problems } = parseReportArgs(argv);
  if (args.help) { io.out(REPORT_USAGE); return 0; }
  if (problems.length > 0) {
    io.err(`pushbench report: ${problems.length === 1 ? problems[0] : `invalid arguments:\n${problems.map((p) => `  - ${p}`).join('\n')}`}`);
    io.err(REPORT_USAGE);
    return 2;
  }
  const expanded = expandInputs(args.inputs);
  const failures = [...expanded.problems];
  const records: ResultRecord[] = [];
  for (const file of expanded.files) {
    try {
      records.push(readResultFile(file));
    } catch (err) {
      if (!(err instanceof PushbenchError)) throw err;
      failures.push(`[${err.code}] ${err.message}`);
    }
  }
  if (records.length > 0) {
    const { files } = await writeReport(records, args.outDir, { title: args.title });
    io.out(`report for ${records.length} run${records.length === 1 ? '' : 's'} written to ${args.outDir} (${files.length} files)`);
    io.out(`  ${files.find((f) => f.endsWith('report.html'))}`);
  }
  if (failures.length > 0) {
    const which = records.length > 0 ? 'these inputs were left out of the report' : 'no report written';
    io.err(`pushbench report: ${which}:\n${failures.map((f) => `  - ${f.replace(/\n/g, '\n    ')}`).join('\n')}`);
    return 2;
  }
  return 0;
}
