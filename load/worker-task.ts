/**
 * What crosses the thread boundary between the runner and a worker thread (load/worker.ts): the
 * task it is given, the tick it posts each second, a staircase step's figures, and its result —
 * encoded histograms and plain numbers only. And the client schedule both sides agree on.
 */
import type { MessagePort } from 'node:worker_threads';
import type { PublishSchedule, TransportName } from '../core/wire.ts';
import type { Counters, Histograms, WorkloadName } from '../core/record.ts';
import type { TlsTally } from '../core/record.ts';
import type { FaultTally } from './fault-books.ts';
import type { EngineTally } from './engine-books.ts';
import type { Profile } from './target/profile.ts';
import type { LatencyBuckets } from './latency-buckets.ts';
import type { ClientTls } from './drivers/types.ts';
import type { Slice } from './slice.ts';

export interface WorkerTask {
  workerIndex: number;
  transport: TransportName;
  baseUrl: string;
  /** global ids of this worker's clients, ascending */
  clientIds: number[];
  totalClients: number;
  workload: WorkloadName;
  topics: number;
  ratePerS: number;
  payloadBytes: number;
  /** client with global id i starts at t0Us + i / arrivalRatePerS seconds */
  t0Us: number;
  arrivalRatePerS: number;
  fromUs: number;
  toUs: number;
  /** clients close at this time (after the window plus a drain for late deliveries) */
  closeAtUs: number;
  pollIntervalMs: number;
  longPollTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** share of each backoff wait spread either way (load/drivers/backoff.ts); absent: its default */
  reconnectJitter?: number;
  /** source addresses to spread clients over (empty: let the OS choose) */
  localAddresses: string[];
  /**
   * `link=browser`: this thread's slice of the run's clients; each browser of it sends from a
   * loopback address of its own (load/browser-address.ts) instead of `localAddresses`
   */
  browserSlice?: Slice;
  silenceUs: number;
  /** injected faults' start times (µs, ascending), for per-fault accounting */
  faultsAtUs: number[];
  /** slow consumers: this share of the clients reads at most readBytesPerS (recorded apart) */
  slowClients?: { share: number; readBytesPerS: number };
  /** `--large-topic`: topic t0 carries messages of this size; its subscribers are recorded apart */
  largeTopicBytes?: number;
  /**
   * A live staircase (capacity's growth): the run grows step by step instead of starting all its
   * clients at once. Absent: one window [fromUs, toUs) and client i starts at t0 + i / rate.
   */
  steps?: StaircaseStep[];
  /** TLS (an `https:` baseUrl): how the clients verify the server */
  tls?: ClientTls;
  /** clients of a transport with the `deflate` trait offer permessage-deflate */
  wsCompression?: boolean;
  /** subscriptions per simulated browser (ClientSpec.streamsPerConnection); absent: 1 */
  streamsPerConnection?: number;
  /** a target profile: clients speak it instead of the reference servers' contract */
  profile?: Profile;
  /** the run's id (a profile's tokens carry it) */
  run: string;
  /** prefix of the topic names (`<prefix>t<i>`; a profile run's, '' natively) */
  topicPrefix: string;
  /** the publisher's timetable: each client is expected what it scheduled on its topic (load/recorder.ts) */
  schedule?: PublishSchedule;
  /** added to every message's ts (RecorderOptions.serverClockShiftUs); absent: 0 */
  serverClockShiftUs?: number;
  port: MessagePort;
}

/**
 * One step of a live staircase, times in µs on the shared clock. `clients` is cumulative: client
 * id i joins in the first step whose count exceeds i, at that step's `startUs` + (i − the
 * previous step's count) / arrival rate; the clients of earlier steps stay connected. The step is
 * measured over [fromUs, toUs) and its figures are posted (a {@link WorkerStep}) at `closeUs`.
 */
export interface StaircaseStep {
  clients: number;
  startUs: number;
  fromUs: number;
  toUs: number;
  closeUs: number;
}

/** The figures of one closed staircase window of one worker, posted while the run goes on. */
export interface WorkerStep {
  type: 'step';
  workerIndex: number;
  /** index of the step in the task's `steps` */
  index: number;
  /** this worker's clients started so far */
  clients: number;
  /** of them, started before the step's window opened (fewer than the step's: the generator fell behind) */
  startedByFromUs: number;
  histograms: Histograms;
  counters: Counters;
  /** expected from the schedule: the oldest undelivered message's age at the step's close, ms (null: none) */
  backlogAgeMs?: number | null;
  /** the thread's TLS handshakes so far (a TLS run only) */
  tls?: TlsTally;
}

/** The staircase step client `id` joins in (the first whose count exceeds it). */
export function stepOf(steps: readonly StaircaseStep[], id: number): number {
  const i = steps.findIndex((s) => id < s.clients);
  return i < 0 ? steps.length : i;
}

/** When client `id` starts: on the staircase when there is one, else at t0 + id / rate. */
export function arrivalUs(task: Pick<WorkerTask, 't0Us' | 'arrivalRatePerS' | 'steps'>, id: number): number {
  if (!task.steps) return task.t0Us + (id / task.arrivalRatePerS) * 1e6;
  const k = stepOf(task.steps, id);
  if (k >= task.steps.length) return Infinity;
  const before = k > 0 ? task.steps[k - 1].clients : 0;
  return task.steps[k].startUs + ((id - before) / task.arrivalRatePerS) * 1e6;
}

/** One second of one worker, posted to the main thread. */
export interface WorkerTick {
  type: 'tick';
  workerIndex: number;
  tUs: number;
  /** delivery latency of the second (encoded HDR, µs): decoded once, for the timeline, at the end */
  interval: string;
  deliveries: number;
  /** the second's delivery latency percentiles, µs (0 without deliveries), for the live progress line */
  p50Us: number;
  p99Us: number;
  /** wall time this tick covers (about 1 s; longer when the thread was held up), µs */
  wallUs: number;
  started: number;
  open: number;
  elu: number;
  loopDelayP99Ms: number;
  cpuUs: number;
  /** the thread's GC pauses in the second (load/gc-meter.ts): their sum and the longest, ms */
  gcMs: number;
  gcMaxMs: number;
  /**
   * the thread's counts so far (what live metrics read: load/metrics.ts); every tick a worker
   * posts has them (optional only for ticks made by hand)
   */
  totals?: RunTotals;
  /** the second's deliveries in the live metrics' latency buckets (load/latency-buckets.ts); every posted tick has them */
  latencyBuckets?: LatencyBuckets;
}

/**
 * A thread's counts from the start of the run to now, over every window it has recorded (a live
 * staircase's closed steps and the one open): what its records' counters add up to once the run
 * has ended. Only `lost` can go down (a late message fills a gap it was charged for).
 */
export interface RunTotals {
  /** deliveries of measured messages (scheduled inside a window) */
  delivered: number;
  lost: number;
  duplicates: number;
  /** by error code */
  errors: Record<string, number>;
  /** every connection opened, reconnects included, over the whole run */
  connectionsOpened: number;
  reconnects: number;
  /** HTTP requests sent inside a window (polling transports) */
  requests: number;
  /** messages of other runs received and ignored, over the whole run (counters.foreign) */
  foreign: number;
  /**
   * messages the publisher's schedule owed that had not arrived when a window's books closed,
   * over the windows closed so far (counters.undelivered); absent while none has closed, and when
   * expected does not come from a schedule
   */
  undelivered?: number;
}

export function emptyTotals(): RunTotals {
  return { delivered: 0, lost: 0, duplicates: 0, errors: {}, connectionsOpened: 0, reconnects: 0, requests: 0, foreign: 0 };
}

/** t += c's counts (the fields {@link RunTotals} has); returns t. */
export function addTotals(t: RunTotals, c: Counters): RunTotals {
  t.delivered += c.delivered;
  t.lost += c.lost;
  t.duplicates += c.duplicates;
  t.connectionsOpened += c.connectionsOpened;
  t.reconnects += c.reconnects;
  t.requests += c.requests;
  t.foreign += c.foreign ?? 0;
  if (c.undelivered !== undefined) t.undelivered = (t.undelivered ?? 0) + c.undelivered;
  for (const [code, n] of Object.entries(c.errors)) t.errors[code] = (t.errors[code] ?? 0) + n;
  return t;
}

export interface WorkerResult {
  workerIndex: number;
  clients: number;
  histograms: Histograms;
  counters: Counters;
  /** expected from the schedule: the oldest undelivered message's age at the close, ms (null: none) */
  backlogAgeMs?: number | null;
  /** a timetable was given but some clients' first message was off it (it was not used) */
  offSchedule?: number;
  eluMean: number;
  eluMax: number;
  cpuUs: number;
  stopped: boolean;
  /** staircase steps this worker posted (absent without a staircase) */
  stepsPosted?: number;
  faults: FaultTally[];
  /** the slow consumers' own figures, when there are any */
  slow?: { clients: number; histograms: Histograms; counters: Counters };
  /** the large topic's subscribers' own figures (`largeTopicBytes`) */
  large?: { clients: number; histograms: Histograms; counters: Counters };
  /** the thread's counts over the whole run, after its books closed (the last tick's, made final) */
  totals?: RunTotals;
  /** deliveries in the latency buckets that no tick carried (the last partial second) */
  latencyBuckets?: LatencyBuckets;
  /** the TLS handshakes of the thread's clients (a TLS run only) */
  tls?: TlsTally;
  /** WebSocket connections by the extensions their server accepted (`--ws-compression` only) */
  wsExtensions?: Record<string, number>;
  /** a Socket.IO run's Engine.IO figures (load/engine-books.ts) */
  engine?: EngineTally;
}

/** Whether client `id` is one of the slow share: exactly round(N × share) of N, spread evenly. */
export function isSlowClient(id: number, share: number): boolean {
  return Math.floor((id + 1) * share) > Math.floor(id * share);
}

/** A run's first message to each thread, answered at once: it resolves once the thread has loaded. */
export interface WorkerPing {
  ping: true;
}
