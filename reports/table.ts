/**
 * The summary table, as plain text cells: shared by summary.md and the HTML page so both show the
 * same figures. Latencies via formatUs, sizes via formatBytes; a figure the run did not measure
 * (null) reads "unknown", never 0.
 */
import { formatBytes, formatUs } from '../core/units.ts';
import { runStatus, type ReportRun } from './runs.ts';

export interface SummaryColumn {
  header: string;
  /** right-aligned (a number) */
  numeric: boolean;
  cell: (run: ReportRun) => string;
}

/** "unknown" for null, else the formatted figure. */
export function orUnknown(n: number | null, format: (n: number) => string): string {
  return n === null ? 'unknown' : format(n);
}

/** A plain number with at most `digits` decimals and thousands separators: 12,345.6 */
export function formatNumber(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

const latency = (pick: (l: ReportRun['record']['summary']['latencyUs']) => number): SummaryColumn['cell'] =>
  (run) => (run.record.summary.delivered > 0 ? formatUs(pick(run.record.summary.latencyUs)) : 'no deliveries');

export const SUMMARY_COLUMNS: readonly SummaryColumn[] = [
  { header: 'transport', numeric: false, cell: (r) => r.record.config.transport },
  { header: 'run', numeric: false, cell: (r) => r.label },
  { header: 'clients', numeric: true, cell: (r) => formatNumber(r.record.config.clients, 0) },
  { header: 'p50', numeric: true, cell: latency((l) => l.p50) },
  { header: 'p90', numeric: true, cell: latency((l) => l.p90) },
  { header: 'p99', numeric: true, cell: latency((l) => l.p99) },
  { header: 'p99.9', numeric: true, cell: latency((l) => l.p999) },
  { header: 'max', numeric: true, cell: latency((l) => l.max) },
  { header: 'deliveries/s', numeric: true, cell: (r) => formatNumber(r.record.summary.deliveriesPerS, 0) },
  { header: 'lost', numeric: true, cell: (r) => formatNumber(r.record.summary.lost, 0) },
  // published in the window, not arrived by the end of the drain; "–": expected did not come from the schedule
  { header: 'undelivered', numeric: true, cell: (r) => (r.record.summary.undelivered == null ? '–' : formatNumber(r.record.summary.undelivered, 0)) },
  { header: 'CPU µs/msg', numeric: true, cell: (r) => orUnknown(r.record.summary.serverCpuUsPerMessage, (n) => formatNumber(n, 2)) },
  {
    header: 'bytes/msg (payload + overhead)', numeric: true,
    cell: (r) => `${formatBytes(r.record.summary.payloadBytesPerMessage)} + ${orUnknown(r.record.summary.overheadBytesPerMessage, formatBytes)}`,
  },
  { header: 'requests/msg', numeric: true, cell: (r) => formatNumber(r.record.summary.requestsPerMessage, 3) },
  { header: 'RSS/conn', numeric: true, cell: (r) => orUnknown(r.record.summary.serverRssBytesPerConnection, formatBytes) },
  { header: 'validity', numeric: false, cell: (r) => runStatus(r.record) },
];

/** The table's rows, one per run, cells in SUMMARY_COLUMNS order. Pure. */
export function summaryRows(runs: readonly ReportRun[]): string[][] {
  return runs.map((run) => SUMMARY_COLUMNS.map((c) => c.cell(run)));
}
