/**
 * The parts of a run's record beyond its window's figures: the slow consumers apart, each injected
 * fault's effect, a profile's publisher, the latency proxy, the WebSocket extensions. Pure: what the run gathered comes in.
 */
import { addEncoded, decodeHistogram, percentiles } from '../../core/histogram.ts';
import { addCounters, addCounts, emptyCounters, totalErrors, type FaultResult, type ProxyFigures, type LargeTopicResult, type ResultRecord, type SlowClientsResult, type TimelinePoint } from '../../core/record.ts';
import { formatProxyFigures } from '../../netem/proxy-validity.ts';
import type { FaultSpec } from '../faults.ts';
import type { PublisherStats } from '../target/publisher.ts';
import type { WorkerResult } from '../worker-task.ts';
import type { MeterReadings } from './assemble.ts';
import type { MeasureWindow } from './schedule.ts';
import { socketioFigures } from './socketio-figures.ts';

/** The slow consumers' figures, merged over the workers. */
export function slowResult(slow: { share: number; readBytesPerS: number }, results: readonly WorkerResult[], serverDrops: number | null): SlowClientsResult {
  const parts = results.map((r) => r.slow).filter((x) => x !== undefined);
  const c = parts.map((p) => p.counters).reduce(addCounters, emptyCounters());
  const lat = percentiles(decodeHistogram(addEncoded(parts.map((p) => p.histograms.deliveryUs))));
  return {
    share: slow.share,
    readBytesPerS: slow.readBytesPerS,
    clients: parts.reduce((n, p) => n + p.clients, 0),
    delivered: c.delivered,
    lost: c.lost,
    duplicates: c.duplicates,
    reconnects: c.reconnects,
    errors: totalErrors(c),
    latencyUs: { p50: lat.p50, p99: lat.p99, max: lat.max },
    serverDrops,
  };
}

/** The large topic's subscribers' figures (`--large-topic`), merged over the workers. */
export function largeResult(payloadBytes: number, results: readonly WorkerResult[]): LargeTopicResult {
  const parts = results.map((r) => r.large).filter((x) => x !== undefined);
  const c = parts.map((p) => p.counters).reduce(addCounters, emptyCounters());
  const lat = percentiles(decodeHistogram(addEncoded(parts.map((p) => p.histograms.deliveryUs))));
  return {
    topic: 't0',
    payloadBytes,
    clients: parts.reduce((n, p) => n + p.clients, 0),
    expected: c.expected,
    delivered: c.delivered,
    lost: c.lost,
    duplicates: c.duplicates,
    reconnects: c.reconnects,
    errors: totalErrors(c),
    payloadBytesPerMessage: c.delivered > 0 ? c.payloadBytesDelivered / c.delivered : null,
    latencyUs: { p50: lat.p50, p99: lat.p99, max: lat.max },
  };
}

/** Merge the workers' per-fault tallies and read the recovery time off the timeline. */
export function faultResults(
  faults: readonly FaultSpec[],
  injected: readonly { index: number; note: string }[],
  results: readonly WorkerResult[],
  timeline: readonly TimelinePoint[],
  warmupMs: number,
): FaultResult[] {
  return faults.map((f, i) => {
    const tallies = results.map((r) => r.faults[i]).filter((t) => t !== undefined);
    const detect = percentiles(decodeHistogram(addEncoded(tallies.map((t) => t.detectUs))));
    const reconnectHist = addEncoded(tallies.map((t) => t.reconnectUs));
    const reconnect = percentiles(decodeHistogram(reconnectHist));
    const sum = (k: 'disconnects' | 'lost' | 'duplicates' | 'resets' | 'recovered' | 'unrecovered') => tallies.reduce((n, t) => n + t[k], 0);
    const atS = f.atMs / 1000;
    const before = timeline.filter((p) => p.tS > warmupMs / 1000 + 1 && p.tS <= atS);
    const baseline = before.length ? before.reduce((n, p) => n + p.deliveriesPerS, 0) / before.length : 0;
    const over = atS + (f.durationMs ?? 0) / 1000;
    const back = baseline > 0 ? timeline.find((p) => p.tS > over && p.deliveriesPerS >= 0.9 * baseline) : undefined;
    return {
      fault: f.text,
      kind: f.kind,
      atS,
      injected: injected.find((x) => x.index === i)?.note ?? 'not injected (the run ended first)',
      disconnects: sum('disconnects'),
      detectUs: { count: detect.count, p50: detect.p50, p99: detect.p99, max: detect.max },
      reconnectUs: { count: reconnect.count, p50: reconnect.p50, p99: reconnect.p99, max: reconnect.max, histogram: reconnectHist },
      lost: sum('lost'),
      duplicates: sum('duplicates'),
      resets: sum('resets'),
      recovered: sum('recovered'),
      unrecovered: sum('unrecovered'),
      rateBackAfterS: back ? back.tS - atS : null,
    };
  });
}

/** The proxy's CPU over the measured part of window `w` (it ended at endedUs), % of one core; null unknown. */
export function proxyCpuPct(m: MeterReadings, w: MeasureWindow, endedUs: number): number | null {
  const measuredToUs = Math.min(w.toUs, endedUs);
  return m.proxyFrom && m.proxyTo && measuredToUs > w.fromUs ? (100 * (m.proxyTo.cpuUs - m.proxyFrom.cpuUs)) / (measuredToUs - w.fromUs) : null;
}

/** What the run's record gets beyond its window's figures; absent parts stay absent. */
export interface RunExtrasInput {
  slowClients: { share: number; readBytesPerS: number } | null | undefined;
  /** slow-consumer drops the server counted (null: unknown) */
  serverDrops: number | null;
  /** `--large-topic`'s size (absent: none) */
  largeTopicBytes?: number;
  results: readonly WorkerResult[];
  publisher: PublisherStats | null;
  faults: readonly FaultSpec[];
  faultLog: readonly { index: number; note: string }[];
  warmupMs: number;
  proxy: ProxyFigures | undefined;
  /** the run's network as configured (the proxy's figures are added to it) */
  network: string;
  /** a Socket.IO target's namespace and event (`--socketio`) */
  socketio?: { namespace: string; event: string };
}

/**
 * Why expected did not come from the publisher's schedule although there was one: some clients'
 * first message sat elsewhere than the schedule puts its seq (load/expected.ts onSchedule).
 */
export function offScheduleNote(results: readonly WorkerResult[]): string | undefined {
  const off = results.reduce((n, r) => n + (r.offSchedule ?? 0), 0);
  if (off === 0) return undefined;
  return `expected is what the clients' seq ranges imply, not the publisher's schedule: ${off} client(s) got a first message whose seq the schedule puts elsewhere (another publisher on these topics?); messages that never arrived are counted only as gaps and silences`;
}

/** Add the run's extras to its finished record, in the record's field order. */
export function addRunExtras(record: ResultRecord, x: RunExtrasInput): void {
  const off = offScheduleNote(x.results);
  if (off) record.notes = [...(record.notes ?? []), off];
  if (x.slowClients) record.slowClients = slowResult(x.slowClients, x.results, x.serverDrops);
  if (x.largeTopicBytes) record.largeTopic = largeResult(x.largeTopicBytes, x.results);
  if (x.publisher) record.publisher = { published: x.publisher.published, failed: x.publisher.failed, lateUs: { ...x.publisher.lateUs, max: x.publisher.maxLateUs } };
  if (x.faults.length) record.faults = faultResults(x.faults, x.faultLog, x.results, record.timeline, x.warmupMs);
  if (x.proxy) {
    record.proxy = x.proxy;
    record.environment.network = `${x.network} (${formatProxyFigures(x.proxy)})`;
  }
  if (record.config.wsCompression) record.wsExtensions = addCounts(x.results.map((r) => r.wsExtensions ?? {}));
  if (x.socketio) record.socketio = socketioFigures(x.socketio, x.results);
}
