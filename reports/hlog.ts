/**
 * HdrHistogram log files (`.hlog`, format 1.3) per run, written with hdr-histogram-js's
 * HistogramLogWriter so HdrHistogram's own tools (HistogramLogProcessor, HdrHistogramVisualizer)
 * read them. Each of the run's histograms over the measured window is one interval, tagged by
 * what it measures (`delivery`, `connect`, `request`, `request-raw`); then, when the record kept
 * them, one interval per second of the whole run (warm-up included) tagged `delivery-per-second`,
 * for HdrHistogram's interval tools and plots. Values are µs; the interval max column is in ms.
 */
import { HistogramLogWriter } from 'hdr-histogram-js';
import { decodeHistogram } from '../core/histogram.ts';
import type { Histograms } from '../core/record.ts';
import type { ReportRun } from './runs.ts';

/** Interval tag per histogram of the record. */
export const HLOG_TAGS: Record<keyof Histograms, string> = {
  deliveryUs: 'delivery',
  connectUs: 'connect',
  requestUs: 'request',
  requestRawUs: 'request-raw',
};

/** Tag of the per-second delivery intervals (timeline seconds, the whole run). */
export const HLOG_PER_SECOND_TAG = 'delivery-per-second';

/** One line of comment text: no line breaks (a comment must stay one line of the log). */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** The log text for one run. Pure. */
export function runHlog(run: ReportRun): string {
  const r = run.record;
  let out = '';
  const writer = new HistogramLogWriter((s) => { out += s; });
  const startMs = Date.parse(r.startedAt);
  const endMs = Date.parse(r.endedAt);
  const startS = Number.isFinite(startMs) ? startMs / 1000 : 0;
  const lengthS = Number.isFinite(endMs) && endMs > startMs ? (endMs - startMs) / 1000 : r.config.durationMs / 1000;
  writer.outputLogFormatVersion();
  writer.outputComment(oneLine(`pushbench run ${JSON.stringify(run.label)}: ${r.config.transport}, ${r.config.workload}, ${r.config.clients} clients; values in µs, interval max in ms`));
  writer.outputComment(`[StartTime: ${startS.toFixed(3)} (seconds since epoch), ${r.startedAt}]`);
  writer.outputComment(`[BaseTime: ${startS.toFixed(3)} (seconds since epoch)]`);
  writer.outputLegend();
  for (const [key, tag] of Object.entries(HLOG_TAGS) as [keyof Histograms, string][]) {
    const h = decodeHistogram(r.histograms[key]);
    if (h.totalCount === 0) continue;
    h.tag = tag;
    writer.outputIntervalHistogram(h, 0, lengthS, 1000);
  }
  // timeline second tS covers (tS − 1, tS] after the first client's arrival (= the run's start)
  for (const p of r.timeline) {
    if (!p.deliveryUs) continue;
    const h = decodeHistogram(p.deliveryUs);
    if (h.totalCount === 0) continue;
    h.tag = HLOG_PER_SECOND_TAG;
    writer.outputIntervalHistogram(h, p.tS - 1, p.tS, 1000);
  }
  return out;
}
