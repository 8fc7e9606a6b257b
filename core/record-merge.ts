/**
 * Merging records of one run taken in parallel (processes or machines): histograms add, counters
 * sum, figures without histograms keep a bound.
 */
import { PushbenchError } from './errors.ts';
import { addEncoded, decodeHistogram, percentiles } from './histogram.ts';
import { addCounters, addCounts } from './record-counters.ts';
import { type Histograms, type ProxyFigures, type ResultRecord, type ServerFigures, type TimelinePoint } from './record-schema.ts';
import { finishRecord } from './record-summary.ts';
import { tlsFiguresOf } from './record-tls.ts';
import { mergeSocketio } from './record-socketio.ts';

/**
 * Merge records of the same configuration taken in parallel (processes or machines sharing one
 * run): histograms add, counters sum, server, publisher and proxy figures add (percentiles kept
 * without histograms: the worst), timelines add point by point, the backlog's age is the oldest,
 * notes and invalid reasons of every record are kept.
 */
export function mergeRecords(records: ResultRecord[]): ResultRecord {
  if (records.length === 0) throw new PushbenchError('PB_RESULT_FILE', 'nothing to merge');
  const [first] = records;
  const hist = (k: keyof Histograms) => addEncoded(records.map((r) => r.histograms[k]));
  const server = mergeServers(records);
  const timeline = mergeTimelines(records);
  const publisher = mergePublishers(records);
  // Notes say something about the run each record was part of: all of them, each once.
  const notes = [...new Set(records.flatMap((r) => r.notes ?? []))];
  const proxy = mergeProxies(records);
  // the worst client of any record: the oldest backlog
  const ages = records.map((r) => r.backlogAgeMs).filter((a) => a !== undefined);
  const backlogAgeMs = ages.length === 0 ? undefined : ages.reduce<number | null>((a, b) => (a === null ? b : b === null ? a : Math.max(a, b)), null);
  const tls = tlsFiguresOf(records.map((r) => r.tls));
  const wsExtensions = first.wsExtensions && addCounts(records.map((r) => r.wsExtensions ?? {}));
  const socketio = mergeSocketio(records.map((r) => ({ figures: r.socketio, clients: r.config.clients })));
  const { notes: _firstNotes, proxy: _firstProxy, backlogAgeMs: _firstAge, tls: _firstTls, wsExtensions: _firstExt, socketio: _firstSio, ...rest } = first;
  const merged: Omit<ResultRecord, 'summary'> = {
    ...rest,
    ...(notes.length > 0 ? { notes } : {}),
    ...(proxy ? { proxy } : {}),
    ...(tls ? { tls } : {}),
    ...(wsExtensions ? { wsExtensions } : {}),
    ...(socketio ? { socketio } : {}),
    config: { ...first.config, clients: records.reduce((s, r) => s + r.config.clients, 0) },
    complete: records.every((r) => r.complete),
    startedAt: records.map((r) => r.startedAt).sort()[0],
    endedAt: records.map((r) => r.endedAt).sort().at(-1)!,
    histograms: { deliveryUs: hist('deliveryUs'), connectUs: hist('connectUs'), requestUs: hist('requestUs'), requestRawUs: hist('requestRawUs') },
    counters: records.map((r) => r.counters).reduce(addCounters),
    server,
    generator: mergeGenerators(records),
    timeline,
    ...(publisher ? { publisher } : {}),
    ...(backlogAgeMs !== undefined ? { backlogAgeMs } : {}),
    valid: records.every((r) => r.valid),
    invalidReasons: records.flatMap((r) => r.invalidReasons),
  };
  return finishRecord(merged);
}

/** The server figures of the records that have them, added; null when none has. */
function mergeServers(records: readonly ResultRecord[]): ServerFigures | null {
  const servers = records.map((r) => r.server).filter((s): s is ServerFigures => s !== null);
  return servers.length === 0 ? null : servers.reduce((a, b) => ({
    cpuUs: a.cpuUs + b.cpuUs,
    rssBytesMax: a.rssBytesMax + b.rssBytesMax,
    rssBytesStart: a.rssBytesStart + b.rssBytesStart,
    bytesWritten: a.bytesWritten + b.bytesWritten,
    bytesRead: a.bytesRead + b.bytesRead,
    connectionsAccepted: a.connectionsAccepted + b.connectionsAccepted,
    ...(a.connectionsOpen !== undefined && b.connectionsOpen !== undefined ? { connectionsOpen: a.connectionsOpen + b.connectionsOpen } : {}),
    ...(a.streamsOpen !== undefined && b.streamsOpen !== undefined ? { streamsOpen: a.streamsOpen + b.streamsOpen } : {}),
    httpRequests: a.httpRequests + b.httpRequests,
    delivered: a.delivered + b.delivered,
    slowConsumerDrops: a.slowConsumerDrops + b.slowConsumerDrops,
    openConnectionsMax: a.openConnectionsMax + b.openConnectionsMax,
  }));
}

/** The timelines added second by second (points of the same `tS`), in time order. */
function mergeTimelines(records: readonly ResultRecord[]): TimelinePoint[] {
  const timeline: TimelinePoint[] = [];
  for (const r of records) {
    for (const p of r.timeline) {
      const q = timeline.find((x) => x.tS === p.tS);
      if (!q) { timeline.push({ ...p }); continue; }
      q.openConnections += p.openConnections;
      q.deliveriesPerS += p.deliveriesPerS;
      if (q.deliveryUs !== undefined && p.deliveryUs !== undefined) {
        q.deliveryUs = addEncoded([q.deliveryUs, p.deliveryUs]);
        const pc = percentiles(decodeHistogram(q.deliveryUs));
        q.p50Us = pc.p50;
        q.p99Us = pc.p99;
      } else {
        // without both seconds' histograms the merged percentiles can only be bounded
        q.p50Us = Math.max(q.p50Us, p.p50Us);
        q.p99Us = Math.max(q.p99Us, p.p99Us);
        delete q.deliveryUs;
      }
      q.generatorCpuPct += p.generatorCpuPct;
      q.generatorElu = Math.max(q.generatorElu, p.generatorElu);
      // generator processes of one run share the load CPUs: each saw the same CPU times
      if (p.loadCpusBusyPct != null) q.loadCpusBusyPct = Math.max(q.loadCpusBusyPct ?? 0, p.loadCpusBusyPct);
      if (p.loadCpusStealPct != null) q.loadCpusStealPct = Math.max(q.loadCpusStealPct ?? 0, p.loadCpusStealPct);
      if (p.generatorLoopDelayP99Ms !== undefined) q.generatorLoopDelayP99Ms = Math.max(q.generatorLoopDelayP99Ms ?? 0, p.generatorLoopDelayP99Ms);
      if (p.generatorGcMaxMs !== undefined) q.generatorGcMaxMs = Math.max(q.generatorGcMaxMs ?? 0, p.generatorGcMaxMs);
    }
  }
  timeline.sort((a, b) => a.tS - b.tS);
  return timeline;
}

/**
 * A profile run's publisher lives in one process (share 0 of a multi-process generator), which
 * need not be the first record; records of separate runs may each have one. Counts add; the
 * lateness percentiles cannot be merged without their histograms, so the worst is kept (a bound).
 */
function mergePublishers(records: readonly ResultRecord[]): ResultRecord['publisher'] {
  const publishers = records.map((r) => r.publisher).filter((p): p is NonNullable<ResultRecord['publisher']> => p !== undefined);
  return publishers.length === 0 ? undefined : publishers.reduce((a, b) => ({
    published: a.published + b.published,
    failed: a.failed + b.failed,
    lateUs: { p50: Math.max(a.lateUs.p50, b.lateUs.p50), p99: Math.max(a.lateUs.p99, b.lateUs.p99), max: Math.max(a.lateUs.max, b.lateUs.max) },
  }));
}

/**
 * Each record of an emulated network ran its own latency proxy: CPU and releases add, lateness
 * percentiles without histograms keep the worst (a bound), as for the publisher.
 */
function mergeProxies(records: readonly ResultRecord[]): ProxyFigures | undefined {
  const proxies = records.map((r) => r.proxy).filter((p): p is ProxyFigures => p !== undefined);
  const worst = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  return proxies.length === 0 ? undefined : proxies.reduce((a, b) => ({
    cpuPct: a.cpuPct === null || b.cpuPct === null ? null : a.cpuPct + b.cpuPct,
    releases: a.releases + b.releases,
    latenessMs: a.latenessMs === null ? b.latenessMs : b.latenessMs === null ? a.latenessMs
      : { p50: Math.max(a.latenessMs.p50, b.latenessMs.p50), p99: Math.max(a.latenessMs.p99, b.latenessMs.p99), max: Math.max(a.latenessMs.max, b.latenessMs.max) },
    latenessP99LimitMs: Math.min(a.latenessP99LimitMs, b.latenessP99LimitMs),
    maxLatenessWholeRunMs: worst(a.maxLatenessWholeRunMs, b.maxLatenessWholeRunMs),
    ...(a.lostChunks !== undefined || b.lostChunks !== undefined ? { lostChunks: (a.lostChunks ?? 0) + (b.lostChunks ?? 0) } : {}),
  }));
}

/** Every record's workers; CPU adds; the worst ELU, loop delay and GC pause (the last two only when some record has them). */
function mergeGenerators(records: readonly ResultRecord[]): ResultRecord['generator'] {
  return {
    workers: records.flatMap((r) => r.generator.workers),
    cpuUs: records.reduce((s, r) => s + r.generator.cpuUs, 0),
    eluMax: Math.max(...records.map((r) => r.generator.eluMax)),
    ...(records.some((r) => r.generator.loopDelayP99MaxMs !== undefined)
      ? { loopDelayP99MaxMs: Math.max(...records.map((r) => r.generator.loopDelayP99MaxMs ?? 0)) } : {}),
    ...(records.some((r) => r.generator.gcMaxMs !== undefined)
      ? { gcMaxMs: Math.max(...records.map((r) => r.generator.gcMaxMs ?? 0)) } : {}),
  };
}
