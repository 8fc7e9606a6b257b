/** The console summary table printed at the end of run, rank and capacity. */
import type { FaultResult, LargeTopicResult, ResultRecord, SlowClientsResult } from '../core/record.ts';
import { formatBytes, formatUs } from '../core/units.ts';
import { FAULT_COLUMNS, faultCells, slowClientsSentence } from '../reports/resilience.ts';

function num(n: number | null, digits = 2): string {
  if (n === null || !Number.isFinite(n)) return 'unknown';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}

/** A plain-text table, one row per record, aligned for a terminal. */
export function formatSummaryTable(records: ResultRecord[]): string {
  const head = ['run', 'transport', 'clients', 'delivered', 'lost', 'undeliv', 'dup', 'p50', 'p90', 'p99', 'p99.9', 'max', 'connect p99', 'req/msg', 'bytes/msg', 'cpu µs/msg', 'rss/conn', 'valid'];
  const rows = records.map((r) => {
    const s = r.summary;
    return [
      r.name, s.transport, String(s.clients), s.delivered.toLocaleString('en-US'), String(s.lost), s.undelivered == null ? '–' : String(s.undelivered), String(s.duplicates),
      formatUs(s.latencyUs.p50), formatUs(s.latencyUs.p90), formatUs(s.latencyUs.p99), formatUs(s.latencyUs.p999), formatUs(s.latencyUs.max),
      formatUs(s.connectUs.p99), num(s.requestsPerMessage, 3), num(s.bytesPerMessage, 1), num(s.serverCpuUsPerMessage, 2),
      s.serverRssBytesPerConnection === null ? 'unknown' : formatBytes(s.serverRssBytesPerConnection),
      s.valid ? (r.complete ? 'yes' : 'partial') : 'NO',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
  for (const r of records) {
    for (const reason of r.invalidReasons) out.push(`INVALID ${r.name}: ${reason}`);
    for (const note of r.notes ?? []) out.push(`NOTE ${r.name}: ${note}`);
  }
  return out.join('\n');
}

/** One row per injected fault: detection, reconnection, loss and recovery. */
export function formatFaultTable(faults: readonly FaultResult[]): string {
  const head = [...FAULT_COLUMNS];
  const rows = faults.map(faultCells);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One paragraph on the slow consumers: the table above describes the other clients. */
export function formatSlowClients(s: SlowClientsResult): string {
  return slowClientsSentence(s);
}

/** One paragraph on the large topic's subscribers (`--large-topic`): the table above describes the others. */
export function formatLargeTopic(l: LargeTopicResult): string {
  const per = l.payloadBytesPerMessage === null ? 'none delivered' : `${formatBytes(l.payloadBytesPerMessage)} of data per message`;
  return `Large topic ${l.topic} (${formatBytes(l.payloadBytes)} messages), recorded apart: ${l.clients} clients, ${l.delivered} of ${l.expected} delivered (${per}), ` +
    `lost ${l.lost}, latency p50 ${formatUs(l.latencyUs.p50)}, p99 ${formatUs(l.latencyUs.p99)}.`;
}
