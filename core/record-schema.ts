/**
 * The result record's schema (docs/result-schema.md): its name and version, the record and every
 * part of it (the counters' arithmetic is in record-counters.ts).
 */
import type { TransportName } from './wire.ts';
import type { SocketioFigures } from './record-socketio.ts';
import type { FaultResult, LargeTopicResult, SlowClientsResult } from './record-apart.ts';

export type { FaultResult, LargeTopicResult, SlowClientsResult } from './record-apart.ts';

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
  /**
   * a profile run's topic names are this + `t0`, `t1`, … (`--topic-prefix`; by default
   * `pb-<runId>-`, so a server's retained history of earlier runs is never replayed into this
   * one; empty: fixed names); absent for the native path and in older records
   */
  topicPrefix?: string;
  /** the clients spoke TLS (HTTPS/WSS) to the server (`--tls`, or an https:// target); absent: plain, or an older record */
  tls?: boolean;
  /** WebSocket clients offered permessage-deflate (`--ws-compression`); absent: they did not */
  wsCompression?: boolean;
  /** `--tls-record-size`: the reference server's largest TLS record, bytes; absent: Node's 16 KB */
  tlsRecordBytes?: number;
  /** `--streams-per-connection` above 1: subscriptions per browser, on one connection if it multiplexes (docs/http2.md) */
  streamsPerConnection?: number;
  /** `--source-ips`: how many addresses the clients sent from; absent: loopback's default spread */
  sourceIpCount?: number;
  /** what the reference server's messages carried (`--payload-kind`); absent: `text` */
  payloadKind?: 'json' | 'random';
  /**
   * `--large-topic`: data bytes of each message on topic t0 alone (the other topics carry
   * `payloadBytes`); its subscribers are recorded apart (`largeTopic`); absent: none
   */
  largeTopicBytes?: number;
  /** `--server-cpu-limit`: the reference server's CPU limit in CPUs (a CFS quota); absent: none */
  serverCpuLimit?: number;
  /** the clients' backoff when not 100 ms ± 20 %: `--reconnect-delay` (ms), `--reconnect-jitter` */
  reconnectDelayMs?: number; reconnectJitter?: number;
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
  /**
   * messages the clients should have received in the window: with `undelivered` (expected from
   * the publisher's schedule) what was published to each client's topic in the window; without
   * it, what the seq range each client saw implies (delivered + lost)
   */
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
  /**
   * messages of another run (a profile target's retained history: a token naming another run)
   * the clients received over the whole run and ignored; absent in older records
   */
  foreign?: number;
  /**
   * messages published to a client's topic in the window (the publisher's schedule) that had not
   * reached it when the drain after the window ended: the seqs before the first and after the last
   * it saw. Present when expected comes from the schedule (a profile's generator publisher, or a
   * reference server's scheduled publisher reported in /stats); absent otherwise and in older records
   */
  undelivered?: number;
  errors: Record<string, number>;
}

/** Counters absent in older records (or, for `undelivered`, when not measured): read as unknown. */
export const OPTIONAL_COUNTERS: readonly (keyof Counters)[] = ['foreign', 'undelivered'];

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
  /** the most subscriptions open at once (clients', or the server's: over HTTP/2 its streams) */
  openConnectionsMax: number;
  /** at the window's end (`/stats`): open connections and the push streams they carry (newer servers) */
  connectionsOpen?: number; streamsOpen?: number;
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

/*
 * The TLS figures of a record: every TLS handshake of the run's clients, the whole run long
 * (connections open during the ramp and after cuts, mostly outside the measured window), its
 * connect time split into TCP and TLS, full and resumed handshakes apart (core/record-tls.ts).
 */
/** What adds up over workers, processes and machines. */
export interface TlsTally {
  /** handshakes that did the full exchange (certificate and all) */
  full: number;
  /** handshakes that resumed a session (the server took the client's ticket) */
  resumed: number;
  /** handshakes by negotiated version, e.g. `{"TLSv1.3": 1000}` */
  protocols: Record<string, number>;
  /** handshakes by negotiated cipher suite */
  ciphers: Record<string, number>;
  /** µs summed over the handshakes: the TCP connects, the TLS handshakes after them */
  tcpUsSum: number;
  tlsUsSum: number;
  /** encoded HDR histograms, µs: TCP connect; TLS handshake, full and resumed apart */
  histograms: { tcpUs: string; fullUs: string; resumedUs: string };
}

type Quantiles = { p50: number; p99: number };

/** A run's TLS figures: the tally and what a reader wants from it. */
export interface TlsFigures extends TlsTally {
  handshakes: number;
  /** the TLS handshake's share of the connect time (TCP + TLS), over every handshake; 0..1 */
  handshakeShare: number;
  tcpUs: Quantiles;
  /** the TLS part, full and resumed handshakes apart (null: there were none) */
  fullUs: Quantiles | null;
  resumedUs: Quantiles | null;
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
  /** from `counters`; null when expected did not come from the schedule; absent in older records */
  undelivered?: number | null;
  /** {@link ResultRecord.backlogAgeMs}; absent in older records */
  backlogAgeMs?: number | null;
  /** from `counters` (0 when absent); absent in older records */
  foreign?: number;
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
  /** `loss=`: chunks held for a retransmission, of the releases due in the window; absent without */
  lostChunks?: number;
}

export interface ResultRecord {
  schema: typeof SCHEMA;
  schemaVersion: number;
  name: string;
  /**
   * the run's id: short, random, made once per run (shared by the processes of a multi-process
   * run); a profile run's tokens carry it, so another run's messages are told apart; absent in older records
   */
  runId?: string;
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
  /** present with --large-topic: topic t0's subscribers; everything else describes the other clients */
  largeTopic?: LargeTopicResult;
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
  /**
   * present with `counters.undelivered`: how old the oldest undelivered message was when the drain
   * after the window ended (that end − its scheduled ts), ms, over every client; null when none was
   */
  backlogAgeMs?: number | null;
  /** a TLS run: every handshake of the run, connect time split into TCP and TLS (core/record-tls.ts) */
  tls?: TlsFigures;
  /**
   * with `config.wsCompression`: WebSocket connections of the whole run by the extensions header
   * their server answered (e.g. `permessage-deflate; client_max_window_bits=15`); `{}`: none accepted
   */
  wsExtensions?: Record<string, number>;
  /** a Socket.IO run (`--socketio`): its Engine.IO sessions over the whole run (docs/socketio.md) */
  socketio?: SocketioFigures;
  valid: boolean;
  invalidReasons: string[];
  summary: RunSummary;
}
