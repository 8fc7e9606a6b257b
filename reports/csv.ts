/**
 * results.csv: one row per run for spreadsheets, RFC 4180 (CRLF line ends, fields quoted when they
 * hold a comma, quote or line break, quotes doubled). Raw numbers in the units the header names;
 * a figure the run did not measure is an empty cell (never 0). Text that a spreadsheet would run
 * as a formula (starting with = + - @) gets a leading apostrophe.
 */
import type { ReportRun } from './runs.ts';

type Cell = string | number | boolean | null;

export const CSV_COLUMNS: readonly [string, (r: ReportRun) => Cell][] = [
  ['name', (r) => r.label],
  ['transport', (r) => r.record.config.transport],
  ['workload', (r) => r.record.config.workload],
  ['clients', (r) => r.record.config.clients],
  ['started_at', (r) => r.record.startedAt],
  ['ended_at', (r) => r.record.endedAt],
  ['duration_s', (r) => r.record.summary.durationS],
  ['complete', (r) => r.record.complete],
  ['valid', (r) => r.record.valid],
  ['invalid_reasons', (r) => r.record.invalidReasons.join('; ')],
  ['rate_per_s', (r) => r.record.config.ratePerS],
  ['payload_bytes', (r) => r.record.config.payloadBytes],
  ['topics', (r) => r.record.config.topics],
  ['network', (r) => r.record.config.network],
  ['expected', (r) => r.record.summary.expected],
  ['delivered', (r) => r.record.summary.delivered],
  ['lost', (r) => r.record.summary.lost],
  ['duplicates', (r) => r.record.summary.duplicates],
  ['out_of_order', (r) => r.record.summary.outOfOrder],
  ['errors', (r) => r.record.summary.errors],
  ['deliveries_per_s', (r) => r.record.summary.deliveriesPerS],
  ['latency_p50_us', (r) => r.record.summary.latencyUs.p50],
  ['latency_p90_us', (r) => r.record.summary.latencyUs.p90],
  ['latency_p99_us', (r) => r.record.summary.latencyUs.p99],
  ['latency_p999_us', (r) => r.record.summary.latencyUs.p999],
  ['latency_max_us', (r) => r.record.summary.latencyUs.max],
  ['connect_p50_us', (r) => r.record.summary.connectUs.p50],
  ['connect_p99_us', (r) => r.record.summary.connectUs.p99],
  ['server_cpu_us_per_message', (r) => r.record.summary.serverCpuUsPerMessage],
  ['bytes_per_message', (r) => r.record.summary.bytesPerMessage],
  ['payload_bytes_per_message', (r) => r.record.summary.payloadBytesPerMessage],
  ['overhead_bytes_per_message', (r) => r.record.summary.overheadBytesPerMessage],
  ['requests_per_message', (r) => r.record.summary.requestsPerMessage],
  ['server_rss_bytes_per_connection', (r) => r.record.summary.serverRssBytesPerConnection],
  ['connections_opened', (r) => r.record.summary.connectionsOpened],
];

/** One CSV field. */
export function csvField(v: Cell): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV document: a header row, then one row per run. Pure. */
export function resultsCsv(runs: readonly ReportRun[]): string {
  const rows = [CSV_COLUMNS.map(([h]) => h), ...runs.map((r) => CSV_COLUMNS.map(([, get]) => csvField(get(r))))];
  return rows.map((cells) => cells.join(',')).join('\r\n') + '\r\n';
}
