/**
 * The result record: what one run writes, what every report, rank, capacity and compare read.
 * Schema-versioned JSON, mergeable (histograms add, counters sum), so results from worker threads,
 * processes or machines combine into one. Documented in docs/result-schema.md.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { PushbenchError } from './errors.ts';
import type { TransportName } from './wire.ts';
import { addEncoded, decodeHistogram, percentiles } from './histogram.ts';

export const SCHEMA = 'pushbench/result';
export const SCHEMA_VERSION = 1;

export type WorkloadName = 'broadcast' | 'fanout' | 'chat';

/** The configuration a run was made with (what `compare` matches runs on). */
export interface RunConfig {
  transport: TransportName;
  workload: WorkloadName;
  clients: number;
  durationMs: number;
  warmupMs: number;
  ratePerS: number;
  payloadBytes: number;
  topics: number;
  pollIntervalMs: number;
  longPollTimeoutMs: number;
  arrivalRatePerS: number;
  network: string;
  target: string | null;
  serverDelayMs: number;
  workers: number;
  /** name of the target profile the run drove (`--profile`); absent for the native path */
  profile?: string;
}

export interface Environment {
  node: string;
  platform: string;
  cpuModel: string;
  cores: number;
  totalMemBytes: number;
  hostname: string;
  serverCpus: string | null;
  loadCpus: string | null;
  network: string;
  pushbenchVersion: string;
  /**
   * Garbage collection of the generator process: 'single-threaded' (the generator's V8 flags, as
   * the pushbench command and npm scripts run it: core/tsx.ts GENERATOR_V8_FLAGS:
   * `--single-threaded-gc`, later also `--heap-growing-percent=100`) or 'default' (V8's helper
   * threads, which compete with the generator's workers for its CPUs, and its own heap growth).
   * Absent in records older than this field.
   */
  generatorGc?: 'single-threaded' | 'default';
}

/** Counters of one run; every field sums under merge. */
export interface Counters {
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  resets: number;
  requests: number;
  emptyResponses: number;
  connectionsOpened: number;
  reconnects: number;
  published: number;
  /** bytes on the generator's own sockets */
  bytesRead: number;
  bytesWritten: number;
  /** payload bytes inside the delivered messages (the `data` field) */
  payloadBytesDelivered: number;
  errors: Record<string, number>;
}

/** Encoded (compressed base64) HDR histograms, µs. */
export interface Histograms {
  deliveryUs: string;
  connectUs: string;
  /** HTTP request latency measured from the *planned* send time (wrk2's corrected histogram) */
  requestUs: string;
  /** HTTP request latency measured from the actual send time */
  requestRawUs: string;
}

/** Server-side figures over the measured window (reference server, or `--server-pid`). */
export interface ServerFigures {
  cpuUs: number;
  rssBytesMax: number;
  rssBytesStart: number;
  bytesWritten: number;
  bytesRead: number;
  connectionsAccepted: number;
  httpRequests: number;
  delivered: number;
  slowConsumerDrops: number;
  openConnectionsMax: number;
}

export interface WorkerFigures {
  cpuUs: number;
  eluMean: number;
  eluMax: number;
  /** worst per-second event-loop delay p99, ms (the validity rule's stall figure); absent in older records */
  loopDelayP99MaxMs?: number;
  /** the thread's GC pauses over the measured seconds: their sum and the longest, ms; absent in older records */
  gcMs?: number;
  gcMaxMs?: number;
  clients: number;
}

/** One second of the run, for the timeline charts. `tS` counts from the first client's arrival. */
export interface TimelinePoint {
  tS: number;
  openConnections: number;
  deliveriesPerS: number;
  p50Us: number;
  p99Us: number;
  serverCpuPct: number | null;
  serverRssBytes: number | null;
  generatorCpuPct: number;
  generatorElu: number;
  /**
   * the generator's CPUs (`--load-cpus`, all when not pinned) from /proc/stat, % of one CPU summed
   * over them: busy with anything (this process, other processes, interrupts), and stolen by the
   * hypervisor; null when unknown, absent in older records
   */
  loadCpusBusyPct?: number | null;
  loadCpusStealPct?: number | null;
  /** the second's worst event-loop delay p99 over the generator's workers, ms; absent in older records */
  generatorLoopDelayP99Ms?: number;
  /** the second's longest GC pause in any generator worker, ms; absent in older records */
  generatorGcMaxMs?: number;
  /**
   * the second's delivery latencies (encoded HDR histogram, µs): what the .hlog's per-second
   * intervals and an exact merge of p50/p99 are made from; absent in older records
   */
  deliveryUs?: string;
}

/** The flat summary CI scripts read without decoding anything. */
export interface RunSummary {
  transport: TransportName;
  workload: WorkloadName;
  clients: number;
  durationS: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  errors: number;
  deliveriesPerS: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
  connectUs: { p50: number; p99: number };
  requestsPerMessage: number;
  bytesPerMessage: number | null;
  payloadBytesPerMessage: number;
  overheadBytesPerMessage: number | null;
  serverCpuUsPerMessage: number | null;
  serverRssBytesPerConnection: number | null;
  connectionsOpened: number;
  valid: boolean;
  invalidReasons: string[];
}

/** The latency proxy over the measured window (emulated networks only). */
export interface ProxyFigures {
  /** CPU of the proxy process, % of one core; null when it could not be sampled */
  cpuPct: number | null;
  /** releases due in the measured window */
  releases: number;
  /** release lateness (release − due time, clipped at 0) over the window; null when none */
  latenessMs: { p50: number; p99: number; max: number } | null;
  /** a lateness p99 above this made the run invalid */
  latenessP99LimitMs: number;
  /** worst lateness over the proxy's whole life, connection burst included (not judged) */
  maxLatenessWholeRunMs: number | null;
}

/** What an injected fault did (run --fault; issue 8). */
export interface FaultResult {
  /** as typed, e.g. `restart-server@10s` */
  fault: string;
  kind: string;
  atS: number;
  /** what the runner did, or why the injection failed */
  injected: string;
  /** clients that lost their connection after the fault (before the next one) */
  disconnects: number;
  /** fault start → a client's first disconnect, µs */
  detectUs: { count: number; p50: number; p99: number; max: number };
  /** disconnect → connected again, µs (encoded HDR histogram and its percentiles) */
  reconnectUs: { count: number; p50: number; p99: number; max: number; histogram: string };
  lost: number;
  duplicates: number;
  /** epoch changes seen (a restarted server) */
  resets: number;
  /** messages published while their client was away, delivered after it came back (resumed) */
  recovered: number;
  /**
   * messages lost to a reset (a restarted server's new epoch), never to be resumed: the old
   * epoch's messages after each client's last one up to the kill (from the schedule), plus the
   * new epoch's messages already gone from its ring when the client came back. 0 without resets.
   */
  unrecovered: number;
  /** seconds from the fault until deliveries/s was back to 90 % of its level before; null if never */
  rateBackAfterS: number | null;
}

/** Slow consumers (run --slow-clients): recorded apart from the run's main figures. */
export interface SlowClientsResult {
  share: number;
  readBytesPerS: number;
  clients: number;
  delivered: number;
  lost: number;
  duplicates: number;
  reconnects: number;
  errors: number;
  latencyUs: { p50: number; p99: number; max: number };
  /** slow-consumer drops the server counted over the whole run (a --target: the measured window; null: unknown) */
  serverDrops: number | null;
}

export interface ResultRecord {
  schema: typeof SCHEMA;
  schemaVersion: number;
  name: string;
  complete: boolean;
  startedAt: string;
  endedAt: string;
  config: RunConfig;
  environment: Environment;
  histograms: Histograms;
  counters: Counters;
  server: ServerFigures | null;
  generator: {
    workers: WorkerFigures[];
    cpuUs: number;
    eluMax: number;
    loopDelayP99MaxMs?: number;
    /** the longest GC pause of any worker in the measured window, ms; absent in older records */
    gcMaxMs?: number;
  };
  timeline: TimelinePoint[];
  /** present when faults were injected */
  faults?: FaultResult[];
  /** present with --slow-clients; everything else in the record describes the other clients */
  slowClients?: SlowClientsResult;
  /**
   * true for a closed-loop run (short polls at `--poll-interval 0`): the generator is busy by
   * design, so a saturated event loop is its expected state, noted in `notes`, not a reason for
   * `valid: false`
   */
  closedLoop?: boolean;
  /** what a reader must know about the figures that does not make them invalid */
  notes?: string[];
  /**
   * A profile run's publisher (load/target): messages published and failed over the run, and how
   * late the measured window's sends went out against their schedule, µs (that lateness is part
   * of each delivery latency).
   */
  publisher?: { published: number; failed: number; lateUs: { p50: number; p99: number; max: number } };
  /** present on emulated networks: the latency proxy's CPU and lateness */
  proxy?: ProxyFigures;
  valid: boolean;
  invalidReasons: string[];
  summary: RunSummary;
}

export function emptyCounters(): Counters {
  return {
    expected: 0, delivered: 0, lost: 0, duplicates: 0, outOfOrder: 0, resets: 0, requests: 0,
    emptyResponses: 0, connectionsOpened: 0, reconnects: 0, published: 0, bytesRead: 0,
    bytesWritten: 0, payloadBytesDelivered: 0, errors: {},
  };
}

/** a + b, field by field (errors by code). Pure. */
export function addCounters(a: Counters, b: Counters): Counters {
  const out = emptyCounters();
  for (const k of Object.keys(out) as (keyof Counters)[]) {
    if (k === 'errors') continue;
    (out[k] as number) = (a[k] as number) + (b[k] as number);
  }
  for (const src of [a.errors, b.errors]) {
    for (const [code, n] of Object.entries(src)) out.errors[code] = (out.errors[code] ?? 0) + n;
  }
  return out;
}

export function totalErrors(c: Counters): number {
  return Object.values(c.errors).reduce((s, n) => s + n, 0);
}

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

/**
 * Merge records of the same configuration taken in parallel (processes or machines sharing one
 * run): histograms add, counters sum, server, publisher and proxy figures add (percentiles kept
 * without histograms: the worst), timelines add point by point, notes and invalid reasons of
 * every record are kept.
 */
export function mergeRecords(records: ResultRecord[]): ResultRecord {
  if (records.length === 0) throw new PushbenchError('PB_RESULT_FILE', 'nothing to merge');
  const [first] = records;
  const hist = (k: keyof Histograms) => addEncoded(records.map((r) => r.histograms[k]));
  const servers = records.map((r) => r.server).filter((s): s is ServerFigures => s !== null);
  const server = servers.length === 0 ? null : servers.reduce((a, b) => ({
    cpuUs: a.cpuUs + b.cpuUs,
    rssBytesMax: a.rssBytesMax + b.rssBytesMax,
    rssBytesStart: a.rssBytesStart + b.rssBytesStart,
    bytesWritten: a.bytesWritten + b.bytesWritten,
    bytesRead: a.bytesRead + b.bytesRead,
    connectionsAccepted: a.connectionsAccepted + b.connectionsAccepted,
    httpRequests: a.httpRequests + b.httpRequests,
    delivered: a.delivered + b.delivered,
    slowConsumerDrops: a.slowConsumerDrops + b.slowConsumerDrops,
    openConnectionsMax: a.openConnectionsMax + b.openConnectionsMax,
  }));
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
  // A profile run's publisher lives in one process (share 0 of a multi-process generator), which
  // need not be the first record; records of separate runs may each have one. Counts add; the
  // lateness percentiles cannot be merged without their histograms, so the worst is kept (a bound).
  const publishers = records.map((r) => r.publisher).filter((p): p is NonNullable<ResultRecord['publisher']> => p !== undefined);
  const publisher = publishers.length === 0 ? undefined : publishers.reduce((a, b) => ({
    published: a.published + b.published,
    failed: a.failed + b.failed,
    lateUs: { p50: Math.max(a.lateUs.p50, b.lateUs.p50), p99: Math.max(a.lateUs.p99, b.lateUs.p99), max: Math.max(a.lateUs.max, b.lateUs.max) },
  }));
  // Notes say something about the run each record was part of: all of them, each once. Each
  // record of an emulated network ran its own latency proxy: CPU and releases add, lateness
  // percentiles without histograms keep the worst (a bound), as for the publisher.
  const notes = [...new Set(records.flatMap((r) => r.notes ?? []))];
  const proxies = records.map((r) => r.proxy).filter((p): p is ProxyFigures => p !== undefined);
  const worst = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  const proxy = proxies.length === 0 ? undefined : proxies.reduce((a, b) => ({
    cpuPct: a.cpuPct === null || b.cpuPct === null ? null : a.cpuPct + b.cpuPct,
    releases: a.releases + b.releases,
    latenessMs: a.latenessMs === null ? b.latenessMs : b.latenessMs === null ? a.latenessMs
      : { p50: Math.max(a.latenessMs.p50, b.latenessMs.p50), p99: Math.max(a.latenessMs.p99, b.latenessMs.p99), max: Math.max(a.latenessMs.max, b.latenessMs.max) },
    latenessP99LimitMs: Math.min(a.latenessP99LimitMs, b.latenessP99LimitMs),
    maxLatenessWholeRunMs: worst(a.maxLatenessWholeRunMs, b.maxLatenessWholeRunMs),
  }));
  const { notes: _firstNotes, proxy: _firstProxy, ...rest } = first;
  const merged: Omit<ResultRecord, 'summary'> = {
    ...rest,
    ...(notes.length > 0 ? { notes } : {}),
    ...(proxy ? { proxy } : {}),
    config: { ...first.config, clients: records.reduce((s, r) => s + r.config.clients, 0) },
    complete: records.every((r) => r.complete),
    startedAt: records.map((r) => r.startedAt).sort()[0],
    endedAt: records.map((r) => r.endedAt).sort().at(-1)!,
    histograms: { deliveryUs: hist('deliveryUs'), connectUs: hist('connectUs'), requestUs: hist('requestUs'), requestRawUs: hist('requestRawUs') },
    counters: records.map((r) => r.counters).reduce(addCounters),
    server,
    generator: {
      workers: records.flatMap((r) => r.generator.workers),
      cpuUs: records.reduce((s, r) => s + r.generator.cpuUs, 0),
      eluMax: Math.max(...records.map((r) => r.generator.eluMax)),
      ...(records.some((r) => r.generator.loopDelayP99MaxMs !== undefined)
        ? { loopDelayP99MaxMs: Math.max(...records.map((r) => r.generator.loopDelayP99MaxMs ?? 0)) } : {}),
      ...(records.some((r) => r.generator.gcMaxMs !== undefined)
        ? { gcMaxMs: Math.max(...records.map((r) => r.generator.gcMaxMs ?? 0)) } : {}),
    },
    timeline,
    ...(publisher ? { publisher } : {}),
    valid: records.every((r) => r.valid),
    invalidReasons: records.flatMap((r) => r.invalidReasons),
  };
  return finishRecord(merged);
}

/** Write JSON atomically: a temporary file in the same folder, then rename. */
export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

/** Write any text file atomically. */
export function writeTextAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Check that a parsed value is a result record this version reads. Returns the problems found,
 * each naming the field; empty means valid.
 */
export function checkRecord(v: unknown): string[] {
  const problems: string[] = [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['the file is not a JSON object'];
  const o = v as Record<string, unknown>;
  if (o.schema !== SCHEMA) problems.push(`field "schema" is ${JSON.stringify(o.schema)}, expected "${SCHEMA}"`);
  if (typeof o.schemaVersion !== 'number') problems.push('field "schemaVersion" is missing or not a number');
  else if (o.schemaVersion > SCHEMA_VERSION) {
    problems.push(`schema version ${o.schemaVersion} is newer than this pushbench reads (${SCHEMA_VERSION}); upgrade pushbench`);
  } else if (o.schemaVersion < 1) problems.push(`schema version ${o.schemaVersion} is not supported`);
  const objects = ['config', 'environment', 'histograms', 'counters', 'generator', 'summary'] as const;
  for (const k of objects) {
    if (typeof o[k] !== 'object' || o[k] === null || Array.isArray(o[k])) problems.push(`field "${k}" is missing or not an object`);
  }
  if (typeof o.name !== 'string') problems.push('field "name" is missing or not a string');
  if (!Array.isArray(o.timeline)) problems.push('field "timeline" is missing or not an array');
  if (typeof o.valid !== 'boolean') problems.push('field "valid" is missing or not a boolean');
  if (problems.length === 0) {
    const h = o.histograms as Record<string, unknown>;
    for (const k of ['deliveryUs', 'connectUs', 'requestUs', 'requestRawUs']) {
      if (typeof h[k] !== 'string') problems.push(`field "histograms.${k}" is missing or not a string`);
    }
    const c = o.counters as Record<string, unknown>;
    for (const k of Object.keys(emptyCounters())) {
      if (k === 'errors') {
        if (typeof c.errors !== 'object' || c.errors === null || Array.isArray(c.errors)) problems.push('field "counters.errors" is missing or not an object');
      } else if (typeof c[k] !== 'number') problems.push(`field "counters.${k}" is missing or not a number`);
    }
    const cfg = o.config as Record<string, unknown>;
    if (typeof cfg.transport !== 'string') problems.push('field "config.transport" is missing or not a string');
    if (typeof cfg.clients !== 'number') problems.push('field "config.clients" is missing or not a number');
    (o.timeline as unknown[]).forEach((p, i) => {
      if (typeof p !== 'object' || p === null || Array.isArray(p)) problems.push(`field "timeline[${i}]" is not an object`);
      else if (typeof (p as { tS?: unknown }).tS !== 'number') problems.push(`field "timeline[${i}].tS" is missing or not a number`);
      else if ('deliveryUs' in p && typeof (p as { deliveryUs?: unknown }).deliveryUs !== 'string') problems.push(`field "timeline[${i}].deliveryUs" is not a string`);
    });
  }
  return problems;
}

/** Read and check one result file; throws PB_RESULT_FILE / PB_SCHEMA naming the file. */
export function readResultFile(path: string): ResultRecord {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PushbenchError('PB_RESULT_FILE', `${path}: cannot read the file (${(err as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new PushbenchError('PB_RESULT_FILE', `${path}: not valid JSON (${(err as Error).message}); the file may be truncated`);
  }
  const problems = checkRecord(v);
  if (problems.length > 0) {
    const schemaProblem = problems.some((p) => p.includes('schema version'));
    throw new PushbenchError(schemaProblem ? 'PB_SCHEMA' : 'PB_RESULT_FILE', `${path}: not a pushbench result file:\n${problems.map((p) => `  - ${p}`).join('\n')}`, problems);
  }
  return v as ResultRecord;
}
