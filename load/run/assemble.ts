/**
 * A window's result record (before its summary) from what the run gathered for it: the workers'
 * counters and histograms, their per-second ticks, the sampler's readings at the window's edges
 * and in between. Pure: times come in (`endedUs`, `startedAt`, `endedAt`), nothing is read here.
 *
 * The runner never records a latency itself: workers send encoded histograms and counters, and
 * they are added here.
 */
import { addEncoded, decodeHistogram, percentiles } from '../../core/histogram.ts';
import {
  SCHEMA, SCHEMA_VERSION, addCounters, emptyCounters, tlsFiguresOf,
  type Counters, type Environment, type Histograms, type ResultRecord, type RunConfig, type ServerFigures, type TimelinePoint, type TlsFigures, type TlsTally, type WorkerFigures,
} from '../../core/record.ts';
import { backlogReasons, diagnose } from './diagnose.ts';
import { secondOf, type SecondBucket } from './buckets.ts';
import type { ProcSample } from '../resources.ts';
import type { StatsSnapshot } from '../../core/wire.ts';
import type { MeasureWindow } from './schedule.ts';
import { addStatsDelta, type BankedServer } from './server-stats.ts';
import { shareClients, type SettledRun } from './settings.ts';
import type { WorkerTick } from '../worker-task.ts';

/** What one window's figures are taken from: samples at its edges, maxima sampled inside it. */
export interface MeterReadings {
  procFrom: ProcSample | null;
  procTo: ProcSample | null;
  proxyFrom: ProcSample | null;
  proxyTo: ProcSample | null;
  statsFrom: StatsSnapshot | null;
  statsTo: StatsSnapshot | null;
  rssMax: number;
  openMax: number;
}

/** One worker's figures for one window (`figures`: the worker's own ELU and CPU, for a run's only window). */
export interface WindowPart {
  clients: number;
  /** a step's clients this worker had started when the window opened */
  startedByFromUs?: number;
  counters: Counters;
  histograms: Histograms;
  figures?: WorkerFigures;
  /** expected from the schedule: the oldest undelivered message's age at the close, ms (null: none) */
  backlogAgeMs?: number | null;
  /** this worker's TLS handshakes so far (a TLS run): the whole run's, not the window's */
  tls?: TlsTally;
}

/** What stays the same for every window of a run. */
export interface RunFacts {
  settings: SettledRun;
  t0Us: number;
  /** this process's clients (its share of a multi-process run) and worker threads */
  ownClients: number;
  workers: number;
  closedLoop: boolean;
  gcMode: 'single-threaded' | 'default';
  loadCpuCount: number;
  /** the server's RSS before any client connected (0: unknown) */
  rssBaseline: number;
}

/** One window's inputs. */
export interface WindowInput {
  window: MeasureWindow;
  /** every worker's part, in worker order */
  parts: readonly WindowPart[];
  /** the run's seconds so far, in the order first written */
  buckets: ReadonlyMap<number, SecondBucket>;
  meter: MeterReadings;
  /** what a restarted server counted before it died */
  banked: BankedServer;
  /** the run was interrupted inside this window (at endedUs) */
  cut: boolean;
  endedUs: number;
  serverDied: string | null;
  extraReasons: readonly string[];
  environment: Environment;
  startedAt: string;
  endedAt: string;
}

export function assembleRecord(run: RunFacts, x: WindowInput): Omit<ResultRecord, 'summary'> {
  const s = run.settings;
  const win = x.window;
  const counters = x.parts.map((r) => r.counters).reduce(addCounters, emptyCounters());
  const hist = (k: keyof Histograms) => addEncoded(x.parts.map((r) => r.histograms[k]));
  const measuredToUs = Math.min(win.toUs, x.endedUs);
  const measuredSecs = measuredSeconds(x.buckets, run.t0Us, win.fromUs, measuredToUs);
  const workerFigures = workerFiguresOf(x.parts, measuredSecs);
  const { invalidReasons, notes } = diagnose({
    window: win, measuredSecs, workers: run.workers, closedLoop: run.closedLoop, loadCpus: s.loadCpus, loadCpuCount: run.loadCpuCount,
    siblings: (s.share?.onHost ?? s.share?.of ?? 1) - 1, gcMode: run.gcMode, serverDied: x.serverDied, cut: x.cut, endedUs: x.endedUs,
    extraReasons: x.extraReasons, ratePerS: s.ratePerS, delivered: counters.delivered,
    step: s.steps ? { startedByFrom: x.parts.reduce((n, r) => n + (r.startedByFromUs ?? 0), 0), clients: shareClients(win.clients, s.share) } : null,
  });
  // a step's clients: its count's share on this process (a machine shard's slice)
  const config = runConfigOf(s, s.steps ? shareClients(win.clients, s.share) : run.ownClients, win, run.workers);
  const measuredMs = Math.max(0, (measuredToUs - win.fromUs) / 1000);
  const backlogAgeMs = backlogAgeOf(x.parts);
  invalidReasons.push(...backlogReasons(counters, backlogAgeMs, notes));
  return {
    schema: SCHEMA,
    schemaVersion: SCHEMA_VERSION,
    name: win.name,
    runId: s.runId,
    complete: !x.cut,
    startedAt: x.startedAt,
    endedAt: x.endedAt,
    config: x.cut ? { ...config, durationMs: measuredMs + win.warmupMs } : config,
    environment: x.environment,
    histograms: { deliveryUs: hist('deliveryUs'), connectUs: hist('connectUs'), requestUs: hist('requestUs'), requestRawUs: hist('requestRawUs') },
    counters,
    server: serverFiguresOf(x.meter, x.banked, run.rssBaseline),
    generator: {
      workers: workerFigures,
      cpuUs: workerFigures.reduce((a, w) => a + w.cpuUs, 0),
      eluMax: Math.max(0, ...workerFigures.map((w) => w.eluMax)),
      loopDelayP99MaxMs: Math.max(0, ...workerFigures.map((w) => w.loopDelayP99MaxMs ?? 0)),
      gcMaxMs: Math.max(0, ...workerFigures.map((w) => w.gcMaxMs ?? 0)),
    },
    // A step's timeline runs from its own start (tS 0 = the first added client's arrival).
    timeline: timelineOf(x.buckets, secondOf(run.t0Us, win.startUs), s.steps ? secondOf(run.t0Us, win.closeUs) : Infinity),
    ...(run.closedLoop ? { closedLoop: run.closedLoop } : {}),
    ...(run.closedLoop || notes.length > 0 ? { notes } : {}),
    ...(backlogAgeMs !== undefined ? { backlogAgeMs } : {}),
    ...tlsOf(x.parts),
    valid: invalidReasons.length === 0,
    invalidReasons,
  };
}

/** The seconds whose grid point lies in (fromUs, toUs], in the order first written. */
export function measuredSeconds(buckets: ReadonlyMap<number, SecondBucket>, t0Us: number, fromUs: number, toUs: number): [number, SecondBucket][] {
  return [...buckets.entries()].filter(([sec]) => sec * 1e6 + t0Us > fromUs && sec * 1e6 + t0Us <= toUs);
}

/**
 * Each worker's figures over the measured window's seconds, like every other figure of the
 * record; a worker's own whole-run figures only when none of its seconds fell in the window (a
 * run cut early). Part w is worker w.
 */
export function workerFiguresOf(parts: readonly WindowPart[], measuredSecs: readonly (readonly [number, SecondBucket])[]): WorkerFigures[] {
  return parts.map((r, w) => {
    const ticks = measuredSecs.map(([, b]) => b.ticks.find((k) => k.workerIndex === w)).filter((k) => k !== undefined);
    if (ticks.length === 0 && r.figures) return r.figures;
    const elus = ticks.map((k) => k.elu);
    return {
      cpuUs: ticks.reduce((n, k) => n + k.cpuUs, 0),
      eluMean: elus.length ? elus.reduce((a, b) => a + b, 0) / elus.length : 0,
      eluMax: elus.length ? Math.max(...elus) : 0,
      loopDelayP99MaxMs: Math.max(0, ...ticks.map((k) => k.loopDelayP99Ms)),
      gcMs: ticks.reduce((n, k) => n + k.gcMs, 0),
      gcMaxMs: Math.max(0, ...ticks.map((k) => k.gcMaxMs)),
      clients: r.clients,
    };
  });
}

/**
 * The server's figures over the window: its /stats deltas (plus what a restarted server banked),
 * CPU from /stats when both edges have it (µs, finer than /proc's 10 ms ticks), else from /proc.
 * null without /proc readings at both edges (a --target of unknown pid).
 */
export function serverFiguresOf(m: MeterReadings, banked: BankedServer, rssBaseline: number): ServerFigures | null {
  if (!m.procFrom || !m.procTo) return null;
  const d = { ...banked.stats };
  if (m.statsFrom && m.statsTo) addStatsDelta(d, m.statsFrom, m.statsTo);
  const haveStats = m.statsFrom !== null && m.statsTo !== null;
  return {
    cpuUs: haveStats ? d.cpuUs : banked.cpuUs + m.procTo.cpuUs - m.procFrom.cpuUs,
    rssBytesMax: Math.max(m.rssMax, m.procTo.rssBytes),
    rssBytesStart: rssBaseline || m.procFrom.rssBytes,
    bytesWritten: d.bytesWritten,
    bytesRead: d.bytesRead,
    connectionsAccepted: d.tcpAccepted,
    httpRequests: d.httpRequests,
    delivered: d.deliveredTotal,
    slowConsumerDrops: d.slowConsumerDrops,
    openConnectionsMax: Math.max(m.openMax, m.statsTo ? subscriptionsOpen(m.statsTo) : 0),
    ...(m.statsTo?.streams ? { connectionsOpen: sumOf(m.statsTo.open), streamsOpen: sumOf(m.statsTo.streams) } : {}),
  };
}

const sumOf = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/**
 * Subscriptions the server holds: per transport its open connections, or its open streams where
 * more (HTTP/2 carries many on one connection).
 */
function subscriptionsOpen(s: StatsSnapshot): number {
  return Object.entries(s.open).reduce((n, [t, open]) => n + Math.max(open, s.streams?.[t] ?? 0), 0);
}

/**
 * Connections open at a second's end: each worker's latest tick in it, summed. A worker that fell
 * behind posts two ticks into one second; their counts are one set of clients seen twice.
 */
function openAtEnd(ticks: readonly WorkerTick[]): number {
  const latest = new Map<number, WorkerTick>();
  for (const k of ticks) if ((latest.get(k.workerIndex)?.tUs ?? -Infinity) < k.tUs) latest.set(k.workerIndex, k);
  let open = 0;
  for (const k of latest.values()) open += k.open;
  return open;
}

/** One point a second with ticks, seconds firstSec + 1 … lastSec, tS counted from firstSec. */
export function timelineOf(buckets: ReadonlyMap<number, SecondBucket>, firstSec: number, lastSec: number): TimelinePoint[] {
  return [...buckets.entries()]
    .filter(([sec, b]) => sec >= firstSec + 1 && sec <= lastSec && b.ticks.length > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([sec, b]) => {
      const deliveryUs = addEncoded(b.ticks.map((k) => k.interval));
      const p = percentiles(decodeHistogram(deliveryUs));
      return {
        tS: sec - firstSec,
        deliveryUs,
        openConnections: openAtEnd(b.ticks),
        deliveriesPerS: b.ticks.reduce((n, k) => n + k.deliveries, 0),
        p50Us: p.p50,
        p99Us: p.p99,
        serverCpuPct: b.serverCpuPct,
        serverRssBytes: b.serverRssBytes,
        generatorCpuPct: b.generatorCpuPct,
        loadCpusBusyPct: b.loadCpusBusyPct,
        loadCpusStealPct: b.loadCpusStealPct,
        generatorElu: Math.max(...b.ticks.map((k) => k.elu)),
        generatorLoopDelayP99Ms: Math.max(...b.ticks.map((k) => k.loopDelayP99Ms)),
        generatorGcMaxMs: Math.max(...b.ticks.map((k) => k.gcMaxMs)),
      };
    });
}

/** The window's configuration: the run's, with its clients, warm-up and duration. */
function runConfigOf(s: SettledRun, clients: number, win: MeasureWindow, workers: number): RunConfig {
  return {
    transport: s.transport, workload: s.workload, clients, durationMs: win.durationMs,
    warmupMs: win.warmupMs, ratePerS: s.ratePerS, payloadBytes: s.payloadBytes, topics: s.topics,
    pollIntervalMs: s.pollIntervalMs, longPollTimeoutMs: s.longPollTimeoutMs,
    arrivalRatePerS: s.arrivalRatePerS, network: s.network, target: s.target,
    serverDelayMs: s.serverDelayMs, workers,
    ...(s.targetProfile ? { profile: s.targetProfile.name, topicPrefix: s.topicPrefix } : {}),
    ...(s.tls ? { tls: true } : {}),
    ...(s.wsCompression ? { wsCompression: true } : {}),
    ...(s.tlsRecordBytes ? { tlsRecordBytes: s.tlsRecordBytes } : {}),
    ...(s.streamsPerConnection ? { streamsPerConnection: s.streamsPerConnection } : {}),
    ...(s.sourceIps ? { sourceIpCount: s.sourceIps.length } : {}),
    ...(s.payloadKind ? { payloadKind: s.payloadKind } : {}),
    ...(s.largeTopicBytes ? { largeTopicBytes: s.largeTopicBytes } : {}),
    ...(s.serverCpuLimit !== undefined ? { serverCpuLimit: s.serverCpuLimit } : {}),
    ...(s.reconnectDelayMs !== undefined ? { reconnectDelayMs: s.reconnectDelayMs } : {}),
    ...(s.reconnectJitter !== undefined ? { reconnectJitter: s.reconnectJitter } : {}),
  };
}

/** The record's `tls` from the parts' handshakes; nothing for a run without TLS. */
function tlsOf(parts: readonly WindowPart[]): { tls?: TlsFigures } {
  const tls = tlsFiguresOf(parts.map((p) => p.tls));
  return tls ? { tls } : {};
}

/** The oldest backlog of any part (null: none undelivered); undefined when no part counted one. */
export function backlogAgeOf(parts: readonly WindowPart[]): number | null | undefined {
  const ages = parts.map((p) => p.backlogAgeMs).filter((a) => a !== undefined);
  if (ages.length === 0) return undefined;
  return ages.reduce<number | null>((a, b) => (a === null ? b : b === null ? a : Math.max(a, b)), null);
}
