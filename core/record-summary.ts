/**
 * The record's flat summary (what CI scripts read without decoding anything), computed from its
 * parts, and the timeline's measured seconds.
 */
import { decodeHistogram, percentiles } from './histogram.ts';
import { totalErrors } from './record-counters.ts';
import { type ResultRecord, type RunSummary, type TimelinePoint } from './record-schema.ts';

/** Compute the flat summary from the record's parts. */
export function summarize(r: Omit<ResultRecord, 'summary'>): RunSummary {
  const d = percentiles(decodeHistogram(r.histograms.deliveryUs));
  const c = percentiles(decodeHistogram(r.histograms.connectUs));
  const k = r.counters;
  const delivered = k.delivered;
  const per = (x: number) => (delivered > 0 ? x / delivered : 0);
  const measuredS = Math.max(0, (r.config.durationMs - r.config.warmupMs) / 1000);
  // The server's socket counters when it reported them (/stats); else the generator's own sockets
  // (a --target known only by --server-pid has CPU and memory figures but no byte counts).
  const serverBytes = r.server ? r.server.bytesWritten + r.server.bytesRead : 0;
  const wireBytes = serverBytes > 0 ? serverBytes : k.bytesRead + k.bytesWritten;
  const bytesPerMessage = delivered > 0 && wireBytes > 0 ? wireBytes / delivered : null;
  const payloadPer = per(k.payloadBytesDelivered);
  const openMax = r.server?.openConnectionsMax ?? r.config.clients;
  return {
    transport: r.config.transport,
    workload: r.config.workload,
    clients: r.config.clients,
    durationS: r.config.durationMs / 1000,
    expected: k.expected,
    delivered,
    lost: k.lost,
    duplicates: k.duplicates,
    outOfOrder: k.outOfOrder,
    undelivered: k.undelivered ?? null,
    backlogAgeMs: k.undelivered === undefined ? null : (r.backlogAgeMs ?? null),
    foreign: k.foreign ?? 0,
    errors: totalErrors(k),
    deliveriesPerS: measuredS > 0 ? delivered / measuredS : 0,
    latencyUs: { p50: d.p50, p90: d.p90, p99: d.p99, p999: d.p999, max: d.max },
    connectUs: { p50: c.p50, p99: c.p99 },
    requestsPerMessage: per(k.requests),
    bytesPerMessage,
    payloadBytesPerMessage: payloadPer,
    overheadBytesPerMessage: bytesPerMessage === null ? null : Math.max(0, bytesPerMessage - payloadPer),
    serverCpuUsPerMessage: r.server && delivered > 0 ? r.server.cpuUs / delivered : null,
    serverRssBytesPerConnection:
      r.server && openMax > 0 ? Math.max(0, r.server.rssBytesMax - r.server.rssBytesStart) / openMax : null,
    connectionsOpened: k.connectionsOpened,
    valid: r.valid,
    invalidReasons: r.invalidReasons,
  };
}

/** Add a summary to a record built without one. */
export function finishRecord(r: Omit<ResultRecord, 'summary'>): ResultRecord {
  return { ...r, summary: summarize(r) };
}

/** The timeline's seconds inside the measured window (after the warm-up, up to the run's end). */
export function measuredTimeline(r: ResultRecord): TimelinePoint[] {
  const fromS = r.config.warmupMs / 1000;
  const toS = r.config.durationMs / 1000;
  return r.timeline.filter((p) => p.tS > fromS && p.tS <= toS);
}
