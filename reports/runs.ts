/**
 * The runs a report shows: each result record with a unique label (for legends and tables) and a
 * unique file-name slug (for per-run files), in a stable order (transport order, then clients).
 */
import type { ResultRecord } from '../core/record.ts';
import { TRANSPORTS } from '../load/drivers/index.ts';

export interface ReportRun {
  /** the record's name, made unique within the report (user text: escape before output) */
  label: string;
  /** safe for a file name: [a-z0-9._-] only, unique within the report */
  slug: string;
  record: ResultRecord;
}

/** File-name-safe form of any text (never empty). */
export function slugify(text: string): string {
  const s = text.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80);
  return s || 'run';
}

function unique(base: string, taken: Set<string>, join: (b: string, n: number) => string): string {
  let out = base;
  for (let n = 2; taken.has(out); n++) out = join(base, n);
  taken.add(out);
  return out;
}

/** Order the records (transport order, then clients, then name) and give each a unique label and slug. Pure. */
export function reportRuns(records: readonly ResultRecord[]): ReportRun[] {
  const sorted = [...records].sort((a, b) =>
    TRANSPORTS.indexOf(a.config.transport) - TRANSPORTS.indexOf(b.config.transport) ||
    a.config.clients - b.config.clients ||
    a.name.localeCompare(b.name));
  const labels = new Set<string>();
  const slugs = new Set<string>();
  return sorted.map((record) => ({
    label: unique(record.name || record.config.transport, labels, (b, n) => `${b} (${n})`),
    slug: unique(slugify(record.name || record.config.transport), slugs, (b, n) => `${b}-${n}`),
    record,
  }));
}

/** The run's validity in words: "valid", "incomplete", "invalid: <reasons>" (both may apply). */
export function runStatus(r: ResultRecord): string {
  const parts: string[] = [];
  if (!r.complete) parts.push('incomplete');
  if (!r.valid) parts.push(`invalid: ${r.invalidReasons.length > 0 ? r.invalidReasons.join('; ') : 'no reason recorded'}`);
  return parts.length === 0 ? 'valid' : parts.join(', ');
}

/** True when the run should be flagged (invalid or incomplete). */
export function isFlagged(r: ResultRecord): boolean {
  return !r.valid || !r.complete;
}

/**
 * The network a run was measured on, `+tls` when its clients spoke TLS (`loopback+tls`): a rank
 * over `--variants plain,tls` ranks each apart, as another network.
 */
export function networkOf(r: ResultRecord): string {
  return r.config.tls ? `${r.config.network}+tls` : r.config.network;
}

/**
 * How a run reached its server beyond transport and network: `plain`, or its production parts
 * joined by `+` (`tls`, `tls 1400 B records`, `deflate`, `10 streams/conn`) — the series' variant
 * in every chart.
 */
export function variantOf(r: ResultRecord): string {
  const c = r.config;
  const tls = c.tls ? (c.tlsRecordBytes ? `tls ${c.tlsRecordBytes} B records` : 'tls') : '';
  const parts = [tls, c.wsCompression ? 'deflate' : '', (c.streamsPerConnection ?? 1) > 1 ? `${c.streamsPerConnection} streams/conn` : ''];
  return parts.filter((p) => p !== '').join('+') || 'plain';
}

/** `loopback, 5 msg/s`: what besides clients sets a run's conditions (a rank's cell but for clients). */
export function settingOf(r: ResultRecord): string {
  return `${networkOf(r)}, ${r.config.ratePerS} msg/s`;
}

/**
 * True when some setting (network and rate) was measured at more than one client count (a capacity
 * curve applies): client counts taken under different networks or rates are no curve.
 */
export function spansClientCounts(runs: readonly ReportRun[]): boolean {
  const counts = new Map<string, Set<number>>();
  for (const r of runs) {
    const k = `${r.record.config.workload}|${settingOf(r.record)}`;
    if (!counts.has(k)) counts.set(k, new Set());
    counts.get(k)!.add(r.record.config.clients);
  }
  return [...counts.values()].some((c) => c.size > 1);
}
