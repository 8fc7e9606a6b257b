/**
 * Write a report folder from result records: report.html, one SVG per chart, summary.md,
 * results.csv and one `.hlog` per run. What `report`, `run`, `rank`, `capacity` and `compare`
 * all call. Files are written atomically; the folder is created when missing.
 */
import { join } from 'node:path';
import type { ResultRecord } from '../core/record.ts';
import { writeTextAtomic } from '../core/record.ts';
import { buildCharts, type ChartDef } from './charts.ts';
import { vegaBundles } from './bundles.ts';
import { reportHtml } from './html.ts';
import { summaryMarkdown } from './markdown.ts';
import { resultsCsv } from './csv.ts';
import { runHlog } from './hlog.ts';
import { renderSvg } from './svg.ts';
import { reportRuns } from './runs.ts';
import { resilienceSection } from './resilience.ts';
import type { ReportSection } from './section.ts';

export type { ReportSection } from './section.ts';
import { PushbenchError } from '../core/errors.ts';

export interface ReportOptions {
  /** the page and document title (default "pushbench report") */
  title?: string;
  sections?: ReportSection[];
  /** charts shown before the run charts (rank's ranking and maps) */
  leadCharts?: ChartDef[];
  /** the time stamped on the report (default now); tests fix it */
  now?: Date;
}

/**
 * Write every report file for `records` into `outDir`; returns the paths written (report.html
 * first). Throws PB_RESULT_FILE when there is no record. May take a second or two (SVG rendering).
 */
export async function writeReport(records: ResultRecord[], outDir: string, opts: ReportOptions = {}): Promise<{ files: string[] }> {
  if (records.length === 0) throw new PushbenchError('PB_RESULT_FILE', 'no result records to report on');
  const title = opts.title ?? 'pushbench report';
  const runs = reportRuns(records);
  const resilience = resilienceSection(runs);
  const sections = [...(opts.sections ?? []), ...(resilience ? [resilience] : [])];
  const charts = [...(opts.leadCharts ?? []), ...buildCharts(runs)];
  const files: string[] = [];
  const write = (name: string, text: string) => {
    const path = join(outDir, name);
    writeTextAtomic(path, text);
    files.push(path);
  };
  write('report.html', reportHtml({
    title, generatedAt: (opts.now ?? new Date()).toISOString(), runs, charts, sections, bundles: vegaBundles(),
  }));
  write('summary.md', summaryMarkdown(runs, title, sections));
  write('results.csv', resultsCsv(runs));
  for (const chart of charts) write(`${chart.id}.svg`, await renderSvg(chart.spec));
  for (const run of runs) write(`${run.slug}.hlog`, runHlog(run));
  return { files };
}
