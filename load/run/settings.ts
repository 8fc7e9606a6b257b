/**
 * What a run is asked to do: its settings (the record's RunConfig and how to stage it), the
 * live staircase's steps, a multi-process share, and the hooks a caller follows the run by.
 */
import { randomBytes } from 'node:crypto';
import type { ResultRecord, RunConfig } from '../../core/record.ts';
import type { ProxySpec } from '../../netem/network.ts';
import type { FaultSpec } from '../faults.ts';
import type { MetricsSink } from '../metrics-sink.ts';
import type { Progress } from '../progress.ts';
import type { Profile } from '../target/profile.ts';
import { sliceCount, type Slice } from '../slice.ts';

export interface RunSettings extends RunConfig {
  name: string;
  /** CPUs for the reference server / the generator (taskset lists); null = no pinning */
  serverCpus: string | null;
  loadCpus: string | null;
  /** PID of a --target server whose CPU and memory to sample; null = unknown */
  serverPid: number | null;
  ringSize: number;
  /** extra `serve` options for the child server (e.g. connection cap) */
  serverArgs?: string[];
  /**
   * a client's first reconnect wait after losing its connection, ms (`--reconnect-delay`), doubling
   * on each failed attempt to {@link RECONNECT_MAX_MS}; absent: {@link RECONNECT_DELAY_MS}
   */
  reconnectDelayMs?: number;
  /** share of each reconnect wait spread either way, uniformly (`--reconnect-jitter`); absent: ±20 % */
  reconnectJitter?: number;
  /**
   * the reference server's CPU limit in CPUs (`--server-cpu-limit`): a CFS quota cgroup holding it
   * and its restarts (core/cpu-limit.ts); absent: none
   */
  serverCpuLimit?: number;
  /** processes of the reference server sharing its port (serve --server-procs); 1 when absent */
  serverProcs?: number;
  /** this process runs one share of the clients of a multi-process generator (load/multi.ts) */
  share?: GeneratorShare;
  /** emulated network between clients and server (a latency proxy child); null on loopback */
  proxy: ProxySpec | null;
  /** faults to inject during the run (issue 8), ascending by time */
  faults?: FaultSpec[];
  /** slow consumers: this share of the clients reads at most readBytesPerS */
  slowClients?: { share: number; readBytesPerS: number } | null;
  /**
   * CA certificates (PEM) an https:// target is verified against (`--ca FILE`); absent: the
   * system's roots. The reference server's (`tls`) is made at the run's start instead.
   */
  ca?: string;
  /** a target profile (load/target): the generator publishes and the clients speak the profile */
  targetProfile?: Profile | null;
  /**
   * The run's id ({@link newRunId}); absent: runOnce makes one. A multi-process run makes it once
   * and gives it to every share, so their tokens and topics agree.
   */
  runId?: string;
  /**
   * A profile run's topics are this + `t0`, `t1`, … (`--topic-prefix`); absent: `pb-<runId>-`
   * ({@link topicPrefixOf}), so a server's retained history of earlier runs never reaches this one.
   * The reference server's own publisher names its topics `t0…`: no prefix on the native path.
   */
  topicPrefix?: string;
  /**
   * A live staircase (capacity's growth): the run grows through these steps, cumulative client
   * counts ascending, the last equal to `clients`; the clients of a step stay connected through
   * the next. Each step gets its own record (RunHooks.onStep). `warmupMs`/`durationMs` are then
   * unused. Not with faults, slow clients, a latency proxy or a profile, nor with several generator
   * processes on this host (their steps would be judged apart); a machine shard (share.onHost 1)
   * grows its slice, step by step, on the plan's schedule.
   */
  steps?: LiveStep[];
  /**
   * µs added to every timestamp the server made as this generator reads it (message ts, the
   * reference server's timetable): minus its clock's offset from this machine's, measured by a
   * shard on another host (dist/clock.ts); absent: 0, one host and one clock
   */
  serverClockShiftUs?: number;
  /** `--source-ips`: the addresses clients send from (client i: address i mod n); absent: loopback's own spread */
  sourceIps?: string[];
}

/** A client's first reconnect wait unless `--reconnect-delay` says otherwise, ms (jittered ±20 %, doubling). */
export const RECONNECT_DELAY_MS = 100;
/** The longest reconnect wait the doubling reaches, ms. */
export const RECONNECT_MAX_MS = 5000;

/** One step of a live staircase: `clients` in all, measured `measureMs` after `warmupMs` from its start. */
export interface LiveStep {
  name: string;
  clients: number;
  /** from the step's first added client to its window: their ramp and a settle, not judged */
  warmupMs: number;
  measureMs: number;
}

/**
 * One generator process's share of a run spread over several processes or machines
 * (load/multi.ts, dist/): the clients of its slice (load/slice.ts: id ≡ index mod of), on a
 * schedule every part shares, so their windows coincide and their records merge. `clients` stays
 * the run's total (topics, arrival schedule, source addresses).
 */
export interface GeneratorShare extends Slice {
  /**
   * the shared t0 (µs on the nowUs clock): client i starts at t0 + i / arrival rate; absent, the
   * run's {@link RunHooks.startAt} gives it once every share is set up (load/multi.ts)
   */
  t0Us?: number;
  /**
   * generator processes of this run on this machine, this one included (they share its load
   * CPUs); absent: all `of` of them (the in-box multi-process generator)
   */
  onHost?: number;
}

export interface RunHooks {
  onProgress?(p: Progress): void;
  /**
   * A live staircase (settings.steps): called with each step's record as soon as its window
   * closes, in step order, while the run goes on; return false to end the growth there (the
   * clients close and runOnce resolves with that record). A step cut short by the abort signal is
   * reported too, marked complete: false.
   */
  onStep?(record: ResultRecord, index: number): boolean | void;
  log?(line: string): void;
  /**
   * Once, when the workers have their tasks: how far past t0 that was, µs (0 when before it). A
   * machine shard (dist/) records it as its start lag against the plan's startAt.
   */
  onStarted?(lateUs: number): void;
  signal?: AbortSignal;
  /**
   * A share whose t0 is not fixed yet (load/multi.ts): called once the run is set up (its worker
   * threads loaded, server and proxy up); resolves with the shared t0, µs on the nowUs clock.
   */
  startAt?(): Promise<number>;
  /** live metrics (`--metrics-port`): fed once a second from the ticks and the sampler, and at the end */
  metrics?: MetricsSink;
}

/** What a run id looks like: short, lower-case base36 (URL-, topic- and token-safe). */
export const RUN_ID_RE = /^[0-9a-z]{1,16}$/;

/** A new run id: 6 random base36 characters (2 × 10⁹ values: two runs on one server do not meet). */
export function newRunId(): string {
  return (randomBytes(4).readUInt32BE(0) % 36 ** 6).toString(36).padStart(6, '0');
}

/** What a topic prefix may hold: the characters a token's topic takes (load/target/token.ts), not too long. */
export const TOPIC_PREFIX_RE = /^[A-Za-z0-9._~-]{0,40}$/;

/** The topic prefix of a run of `s` whose id is `runId`: as given, else `pb-<runId>-` for a profile, '' natively. */
export function topicPrefixOf(s: Pick<RunSettings, 'topicPrefix' | 'targetProfile'>, runId: string): string {
  if (!s.targetProfile) return '';
  return s.topicPrefix ?? `pb-${runId}-`;
}

/** Settings whose run id and topic prefix are settled ({@link settleRun}). */
export type SettledRun = RunSettings & { runId: string; topicPrefix: string };

/** `s` with its run id made (when it had none) and its topic prefix settled. */
export function settleRun(s: RunSettings): SettledRun {
  const runId = s.runId ?? newRunId();
  return { ...s, runId, topicPrefix: topicPrefixOf(s, runId) };
}

/** Clients of `clients` that share `share` runs. */
export function shareClients(clients: number, share: GeneratorShare | undefined): number {
  return share ? sliceCount(clients, share) : clients;
}

/** Settings a live staircase cannot take, one sentence each (empty: fine). */
export function staircaseProblems(s: RunSettings): string[] {
  const out: string[] = [];
  if (!s.steps) return out;
  if (s.share && (s.share.onHost ?? s.share.of) > 1) out.push('a live staircase runs in one generator process on its host');
  if (s.faults?.length) out.push('a live staircase takes no faults');
  if (s.slowClients) out.push('a live staircase takes no slow clients');
  if (s.proxy) out.push('a live staircase takes no latency proxy (it judges its lateness once per run)');
  if (s.targetProfile) out.push('a live staircase takes no target profile');
  if (s.steps.length === 0 || s.steps.some((x, i) => x.clients < 1 || (i > 0 && x.clients <= s.steps![i - 1].clients))) out.push('staircase steps need ascending client counts');
  if (s.steps.length && s.steps[s.steps.length - 1].clients !== s.clients) out.push('the last staircase step must hold all the clients');
  return out;
}
