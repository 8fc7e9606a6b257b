/**
 * The run's worker threads (load/worker.ts on a piscina pool): each runs a slice of the clients
 * on the run's schedule, posts a tick a second (and a staircase step's figures when its window
 * closes) over a port of its own, and resolves with its encoded histograms and counters. The
 * runner talks back on the same ports: stop, go (a staircase's next step), a fault's epoch end.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { nowUs, type PublishSchedule } from '../../core/wire.ts';
import { TSX_EXEC_ARGV } from '../../core/tsx.ts';
import { entryBundle } from '../../core/entry-bundle.mjs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkerPing, WorkerResult, WorkerStep, WorkerTask, WorkerTick } from '../worker-task.ts';
import type { ClientTls } from '../drivers/types.ts';
import { sourceAddresses } from './machine.ts';
import { WHOLE_RUN, nestSlice, sliceIds } from '../slice.ts';
import type { SecondBuckets } from './buckets.ts';
import type { RunSchedule } from './schedule.ts';
import { RECONNECT_DELAY_MS, RECONNECT_MAX_MS, type SettledRun } from './settings.ts';

/**
 * The pool of `workers` threads; create it first, so they load (drivers, the recorder) while the
 * server starts. They load the worker's cached bundle (core/entry-bundle.mjs) when there can be
 * one — half the time of loading it through tsx — else its source through tsx.
 */
export async function workerPool(workers: number): Promise<Piscina> {
  const source = new URL('../worker.ts', import.meta.url);
  const bundle = await entryBundle(fileURLToPath(source));
  return new Piscina({
    filename: bundle ? pathToFileURL(bundle).href : source.href,
    execArgv: bundle ? [] : [...TSX_EXEC_ARGV],
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 60_000,
    atomics: 'disabled',
  });
}

/**
 * Resolves once each of the pool's `workers` threads has loaded its module: one ping each, at once
 * (a thread takes one task at a time, so each goes to another thread).
 */
export async function workersLoaded(pool: Piscina, workers: number): Promise<void> {
  await Promise.all(Array.from({ length: workers }, () => pool.run({ ping: true } satisfies WorkerPing)));
}

/** What the runner tells the workers. */
export type ToWorker = { type: 'stop' } | { type: 'go'; index: number } | { type: 'epoch-ended'; index: number; atUs: number };

/**
 * Worker `w`'s task of a run of `s` over `workers` threads, its clients connecting to `baseUrl`,
 * expected against `timetable` when there is one.
 */
export function workerTask(s: SettledRun, plan: RunSchedule, w: number, workers: number, baseUrl: string, localAddresses: string[], port: MessagePort, timetable: PublishSchedule | null = null, tls?: ClientTls): WorkerTask {
  const { t0Us, windows, closeAtUs, silenceUs } = plan;
  // thread w of this process's slice: the same rule one level down
  const slice = nestSlice(s.share ?? WHOLE_RUN, { index: w, of: workers });
  const clientIds = sliceIds(s.clients, slice);
  return {
    workerIndex: w, transport: s.transport, baseUrl, clientIds, totalClients: s.clients,
    workload: s.workload, topics: s.topics, ratePerS: s.ratePerS, payloadBytes: s.payloadBytes,
    t0Us, arrivalRatePerS: s.arrivalRatePerS, fromUs: windows[0].fromUs, toUs: windows[0].toUs, closeAtUs,
    pollIntervalMs: s.pollIntervalMs, longPollTimeoutMs: s.longPollTimeoutMs,
    reconnectMinMs: s.reconnectDelayMs ?? RECONNECT_DELAY_MS, reconnectMaxMs: RECONNECT_MAX_MS, localAddresses, silenceUs, port,
    ...(s.reconnectJitter !== undefined ? { reconnectJitter: s.reconnectJitter } : {}),
    faultsAtUs: (s.faults ?? []).map((f) => t0Us + f.atMs * 1000),
    slowClients: s.slowClients ?? undefined,
    ...(s.largeTopicBytes ? { largeTopicBytes: s.largeTopicBytes } : {}),
    ...(s.proxy?.link === 'browser' ? { browserSlice: slice } : {}),
    profile: s.targetProfile ?? undefined,
    run: s.runId,
    topicPrefix: s.topicPrefix,
    ...(timetable ? { schedule: timetable } : {}),
    ...(tls ? { tls } : {}),
    ...(s.wsCompression ? { wsCompression: true } : {}),
    ...(s.streamsPerConnection ? { streamsPerConnection: s.streamsPerConnection } : {}),
    ...(s.serverClockShiftUs ? { serverClockShiftUs: s.serverClockShiftUs } : {}),
    ...(s.steps ? { steps: windows.map(({ clients, startUs, fromUs, toUs, closeUs }) => ({ clients, startUs, fromUs, toUs, closeUs })) } : {}),
  };
}

export class WorkerFleet {
  /** each worker's result, in worker order */
  readonly tasks: Promise<WorkerResult>[] = [];
  /**
   * Where a closed staircase step goes; set once the staircase is in place (steps close seconds
   * after the start, long after it is).
   */
  onStep: (m: WorkerStep) => void = () => {};
  private readonly ports: MessagePort[] = [];

  /**
   * Start `workers` tasks of a run of `s` on `pool`, expected against `timetable` when there is
   * one; their ticks are filed in `buckets` (and shown to `onTick`).
   */
  constructor(pool: Piscina, s: SettledRun, plan: RunSchedule, workers: number, baseUrl: string, buckets: SecondBuckets, timetable: PublishSchedule | null, onTick?: (t: WorkerTick) => void, tls?: ClientTls) {
    // link=browser: every browser has an address of its own (the options refuse --source-ips with it)
    const localAddresses = s.proxy?.link === 'browser' ? [] : s.sourceIps ?? sourceAddresses(new URL(baseUrl).hostname, s.clients);
    for (let w = 0; w < workers; w++) {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (m: WorkerTick | WorkerStep) => {
        if (m.type === 'step') return this.onStep(m);
        buckets.file(m);
        onTick?.(m);
      });
      this.ports.push(port1);
      const task = workerTask(s, plan, w, workers, baseUrl, localAddresses, port2, timetable, tls);
      this.tasks.push(pool.run(task, { transferList: [port2] }) as Promise<WorkerResult>);
    }
  }

  tell(message: ToWorker): void {
    for (const p of this.ports) p.postMessage(message);
  }

  /** The old epoch of fault `index` ended now (the server was killed), for counting what a reset client can never get back. */
  epochEnded(index: number): void {
    for (const p of this.ports) p.postMessage({ type: 'epoch-ended', index, atUs: nowUs() } satisfies ToWorker);
  }
}

/** Whether and how the run ends early: an interruption, or a staircase whose growth the caller ended. */
export class RunStop {
  aborted = false;
  /** a staircase whose growth the caller ended (onStep returned false): not an interruption */
  growthStopped = false;

  constructor(private readonly stopWorkers: () => void) {}

  /** Interrupt the run (the abort signal, a dead server): the workers stop, the record is partial. Once. */
  readonly abort = (): void => {
    if (this.aborted || this.growthStopped) return;
    this.aborted = true;
    this.stopWorkers();
  };

  /** End a staircase's growth: the workers stop, the records so far stand. */
  endGrowth(): void {
    this.growthStopped = true;
    this.stopWorkers();
  }
}
