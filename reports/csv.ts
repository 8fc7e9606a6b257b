/**
 * results.csv: one row per run for spreadsheets, RFC 4180 (CRLF line ends, fields quoted when they
 * hold a comma, quote or line break, quotes doubled). Raw numbers in the units the header names;
 * a figure the run did not measure is an empty cell (never 0). Text that a spreadsheet would run
 * as a formula (starting with = + - @) gets a leading apostrophe.
 */
import type { ResultRecord, RunConfig, RunSummary } from '../core/record.ts';
import type { ReportRun } from './runs.ts';

type Cell = string | number | boolean | null;
type Column = [string, (r: ReportRun) => Cell];

/** A field's column name: the record's field name in snake case (`outOfOrder` → `out_of_order`). */
const snake = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Columns of plain fields, named after them: of the record, its config or its summary. */
const fields = <T>(part: (r: ReportRun) => T, keys: readonly (keyof T & string)[]): Column[] =>
  keys.map((k) => [snake(k), (r) => part(r)[k] as Cell]);
const ofRecord = (...keys: (keyof ResultRecord & string)[]) => fields((r) => r.record, keys);
const ofConfig = (...keys: (keyof RunConfig & string)[]) => fields((r) => r.record.config, keys);
const ofSummary = (...keys: (keyof RunSummary & string)[]) => fields((r) => r.record.summary, keys);

/** `<prefix>_<percentile>_us` columns of one of the summary's percentile groups. */
function percentileColumns<K extends 'latencyUs' | 'connectUs'>(prefix: string, group: K, keys: readonly (keyof RunSummary[K] & string)[]): Column[] {
  return keys.map((k) => [`${prefix}_${k}_us`, (r) => r.record.summary[group][k] as Cell]);
}

/** The columns in header order; the names are the file's public format (docs/reports.md). */
export const CSV_COLUMNS: readonly Column[] = [
  ['name', (r) => r.label],
  ...ofConfig('transport', 'workload', 'clients'),
  ...ofRecord('startedAt', 'endedAt'),
  ...ofSummary('durationS'),
  ...ofRecord('complete', 'valid'),
  ['invalid_reasons', (r) => r.record.invalidReasons.join('; ')],
  ...ofConfig('ratePerS', 'payloadBytes', 'topics', 'network'),
  ...ofSummary('expected', 'delivered', 'lost', 'duplicates', 'outOfOrder', 'errors', 'deliveriesPerS'),
  ...percentileColumns('latency', 'latencyUs', ['p50', 'p90', 'p99', 'p999', 'max']),
  ...percentileColumns('connect', 'connectUs', ['p50', 'p99']),
  ...ofSummary('serverCpuUsPerMessage', 'bytesPerMessage', 'payloadBytesPerMessage', 'overheadBytesPerMessage', 'requestsPerMessage', 'serverRssBytesPerConnection', 'connectionsOpened'),
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
