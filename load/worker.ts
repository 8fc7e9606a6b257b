/**
 * Piscina task: one worker thread runs a slice of the clients for the whole run and returns its
 * encoded histograms and counters. Progress (one tick a second) streams to the main thread over
 * the MessagePort in the task; the main thread stops the run early by posting `{type:'stop'}`.
 * A live staircase (task.steps) grows the slice step by step: each step's window closes into a
 * `step` message while the run goes on, and the next step's clients wait for `{type:'go'}`.
 * Only encoded histograms and plain numbers cross the thread boundary.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { gcMeter } from './gc-meter.ts';
import type { MessagePort } from 'node:worker_threads';
import { nowUs, type TransportName } from '../core/wire.ts';
import type { Counters, Histograms, WorkloadName } from '../core/record.ts';
import { driverFor } from './drivers/index.ts';
import type { Client } from './drivers/types.ts';
import { Recorder, type FaultTally } from './recorder.ts';
import { topicOf, chatSchedule } from './workload.ts';
import { everySecond } from './seconds.ts';
import { startWorkerProfile } from './worker-profile.ts';
import { startInPlace } from './in-place.ts';
import { profileDriver } from './target/drivers.ts';
import type { Profile } from './target/profile.ts';

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
  /** source addresses to spread clients over (empty: let the OS choose) */
  localAddresses: string[];
  silenceUs: number;
  /** injected faults' start times (µs, ascending), for per-fault accounting */
  faultsAtUs: number[];
  /** slow consumers: this share of the clients reads at most readBytesPerS (recorded apart) */
  slowClients?: { share: number; readBytesPerS: number };
  /**
   * A live staircase (capacity's growth): the run grows step by step instead of starting all its
   * clients at once. Absent: one window [fromUs, toUs) and client i starts at t0 + i / rate.
   */
  steps?: StaircaseStep[];
  /** a target profile: clients speak it instead of the reference servers' contract */
  profile?: Profile;
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
}

export interface WorkerResult {
  workerIndex: number;
  clients: number;
  histograms: Histograms;
  counters: Counters;
  eluMean: number;
  eluMax: number;
  cpuUs: number;
  stopped: boolean;
  /** staircase steps this worker posted (absent without a staircase) */
  stepsPosted?: number;
  faults: FaultTally[];
  /** the slow consumers' own figures, when there are any */
  slow?: { clients: number; histograms: Histograms; counters: Counters };
}

/** Whether client `id` is one of the slow share: exactly round(N × share) of N, spread evenly. */
export function isSlowClient(id: number, share: number): boolean {
  return Math.floor((id + 1) * share) > Math.floor(id * share);
}

const CLK_TCK_US = 10_000; // USER_HZ is 100 on Linux
/** Late clients started between two yields to the event loop (see the arrival loop). */
const ARRIVAL_BATCH = 100;

/** This thread's CPU time (µs) from /proc/thread-self (Node 20 has no per-thread cpuUsage). */
function threadCpuUs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLK_TCK_US;
  } catch {
    return 0;
  }
}

function sleepUntil(tUs: number, signal: { stopped: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const left = (tUs - nowUs()) / 1000;
      if (signal.stopped || left <= 0) resolve();
      else setTimeout(check, Math.min(left, 250));
    };
    check();
  });
}

export default async function runSlice(task: WorkerTask): Promise<WorkerResult> {
  startInPlace(); // diagnostic (npm run bench:in-place); nothing unless its variable is set
  const stopProfile = startWorkerProfile(task.workerIndex);
  // One epoch for the run: the generator is the profile target's only publisher.
  const driver = task.profile ? profileDriver(task.transport, { profile: task.profile, epoch: 'target' }) : driverFor(task.transport);
  const recorder = new Recorder({
    fromUs: task.fromUs,
    toUs: task.toUs,
    topicRatePerS: task.ratePerS,
    faultsAtUs: task.faultsAtUs,
  });
  // Slow consumers get a recorder of their own: the run's figures describe the fast clients, and
  // the slow ones are reported apart (how many were dropped, what they lost).
  const slowRecorder = task.slowClients ? new Recorder({ fromUs: task.fromUs, toUs: task.toUs, topicRatePerS: task.ratePerS }) : undefined;
  let slowCount = 0;
  const signal = { stopped: false };
  // A staircase step's clients wait for the main thread's `go` (sent once the step before was
  // judged), so no client joins after a step that ended the growth.
  let goUpTo = 0;
  let wake: (() => void) | null = null;
  task.port.on('message', (m: { type?: string; index?: number; atUs?: number }) => {
    if (m?.type === 'stop') signal.stopped = true;
    else if (m?.type === 'epoch-ended') recorder.epochEnded(m.index!, m.atUs!);
    else if (m?.type === 'go') goUpTo = Math.max(goUpTo, m.index ?? 0);
    wake?.();
  });
  const awaitGo = async (step: number) => {
    while (goUpTo < step && !signal.stopped) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  };

  const clients: Client[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const payload = 'x'.repeat(task.payloadBytes);
  const cpuStartUs = threadCpuUs();
  let lastCpuUs = cpuStartUs;
  let lastTickUs = nowUs();
  let eluPrev = performance.eventLoopUtilization();
  const eluSamples: number[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const gc = gcMeter();

  const startClient = (id: number) => {
    const startedUs = nowUs();
    const slow = task.slowClients !== undefined && isSlowClient(id, task.slowClients.share);
    if (slow) slowCount++;
    const events = (slow ? slowRecorder! : recorder).forClient(id, startedUs);
    const intervalMs = task.pollIntervalMs;
    const client = driver.create(
      {
        id,
        baseUrl: task.baseUrl,
        topic: topicOf(task.workload, id, task.topics),
        localAddress: task.localAddresses.length ? task.localAddresses[id % task.localAddresses.length] : undefined,
        pollIntervalMs: intervalMs,
        pollOffsetMs: intervalMs > 0 ? Math.random() * intervalMs : 0,
        longPollTimeoutMs: task.longPollTimeoutMs,
        reconnectMinMs: task.reconnectMinMs,
        reconnectMaxMs: task.reconnectMaxMs,
        readBytesPerS: slow ? task.slowClients!.readBytesPerS : undefined,
      },
      events,
    );
    clients.push(client);
    client.start();
    if (task.workload === 'chat') {
      // Members of a room take turns: the room carries ratePerS in all, each member its share.
      const plan = chatSchedule(id, task.totalClients, task.topics, task.ratePerS);
      if (plan) {
        let n = 0;
        const first = Math.max(startedUs, task.t0Us) + plan.offsetUs;
        const tick = () => {
          if (signal.stopped) return;
          const planned = first + n * plan.periodUs;
          if (planned >= task.closeAtUs) return;
          if (nowUs() >= planned) {
            const ts = nowUs();
            client.publish(payload, ts);
            recorder.published(ts);
            n++;
          }
          const next = first + n * plan.periodUs;
          const t = setTimeout(() => { timers.delete(t); tick(); }, Math.max(0, (next - nowUs()) / 1000));
          timers.add(t);
        };
        tick();
      }
    }
  };

  // Progress: one tick a second on the shared clock's second boundaries relative to t0 (the
  // runner samples /proc on the same grid, just after: load/seconds.ts).
  const tickTimer = everySecond(task.t0Us, 0, () => {
    const elu = performance.eventLoopUtilization(eluPrev);
    eluPrev = performance.eventLoopUtilization();
    eluSamples.push(elu.utilization);
    const cpu = threadCpuUs();
    const { encoded, deliveries, p50Us, p99Us } = recorder.takeInterval();
    const { gcMs, gcMaxMs } = gc.take();
    let open = 0;
    for (const c of clients) if (c.open) open++;
    const tUs = nowUs();
    const tick: WorkerTick = {
      type: 'tick',
      workerIndex: task.workerIndex,
      tUs,
      interval: encoded,
      deliveries,
      p50Us,
      p99Us,
      wallUs: tUs - lastTickUs,
      started: clients.length,
      open,
      elu: elu.utilization,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      cpuUs: cpu - lastCpuUs,
      gcMs,
      gcMaxMs,
    };
    lastCpuUs = cpu;
    lastTickUs = tUs;
    loopDelay.reset();
    task.port.postMessage(tick);
  });

  // Arrival: clients start on an open schedule (id / arrival rate), however slow connecting is.
  // Bytes on the clients' sockets are read at each window's edges (one window unless a staircase).
  const windows = task.steps ?? [{ fromUs: task.fromUs, toUs: task.toUs }];
  const bytesAtFrom = windows.map(() => ({ read: 0, written: 0 }));
  const bytesAtTo = windows.map(() => ({ read: 0, written: 0 }));
  const startedAtFrom = windows.map(() => 0);
  /** the window being recorded (a staircase moves on at each step's closeUs) */
  let open = 0;
  const sumBytes = () => {
    let read = 0;
    let written = 0;
    for (const c of clients) {
      const b = c.bytes();
      read += b.read;
      written += b.written;
    }
    return { read, written };
  };
  const snap = (atUs: number, set: (b: { read: number; written: number }) => void) => {
    const t = setTimeout(() => { timers.delete(t); set(sumBytes()); }, Math.max(0, (atUs - nowUs()) / 1000));
    timers.add(t);
  };
  windows.forEach((w, i) => {
    snap(w.fromUs, (b) => {
      bytesAtFrom[i] = b;
      startedAtFrom[i] = clients.length;
    });
    snap(w.toUs, (b) => (bytesAtTo[i] = b));
  });
  const bytesOf = (c: Counters, i: number) => {
    c.bytesRead = Math.max(0, bytesAtTo[i].read - bytesAtFrom[i].read);
    c.bytesWritten = Math.max(0, bytesAtTo[i].written - bytesAtFrom[i].written);
  };
  // A staircase posts each step's figures when its window (and the drain after it) has closed,
  // and records the next step's window meanwhile; nothing is closed once the run is stopped.
  // `through`: the step whose timer fired (a timer may fire a little before its time on this clock).
  const closeDueSteps = (through = -1) => {
    const steps = task.steps;
    while (steps && open < steps.length && !signal.stopped && (open <= through || nowUs() >= steps[open].closeUs)) {
      const next = steps[open + 1] ?? { fromUs: Infinity, toUs: Infinity };
      const { histograms, counters } = recorder.nextWindow(task.silenceUs, next);
      bytesOf(counters, open);
      const step: WorkerStep = { type: 'step', workerIndex: task.workerIndex, index: open, clients: clients.length, startedByFromUs: startedAtFrom[open], histograms, counters };
      task.port.postMessage(step);
      open++;
    }
  };
  for (const [i, step] of (task.steps ?? []).entries()) {
    const t = setTimeout(() => { timers.delete(t); closeDueSteps(i); }, Math.max(0, (step.closeUs - nowUs()) / 1000));
    timers.add(t);
  }

  // Behind schedule, the loop would start every late client in one synchronous burst and starve
  // the deliveries (and their timestamps) of the clients already connected: it yields to the
  // event loop every ARRIVAL_BATCH late starts instead.
  let lateStarts = 0;
  for (const id of task.clientIds) {
    if (signal.stopped) break;
    if (task.steps) await awaitGo(stepOf(task.steps, id));
    if (signal.stopped) break;
    const at = arrivalUs(task, id);
    if (at > nowUs() + 1000) {
      lateStarts = 0;
      await sleepUntil(at, signal);
    } else if (++lateStarts % ARRIVAL_BATCH === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (signal.stopped) break;
    // A late worker must not count a later step's clients in an earlier step's figures.
    closeDueSteps();
    startClient(id);
  }
  await sleepUntil(task.closeAtUs, signal);
  closeDueSteps(windows.length - 1);
  if (signal.stopped && open < windows.length && nowUs() < windows[open].toUs) bytesAtTo[open] = sumBytes();

  tickTimer.stop();
  for (const t of timers) clearTimeout(t);
  timers.clear();
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  loopDelay.disable();
  gc.stop();
  task.port.close();
  await stopProfile();

  // The window still open (a staircase stopped mid-step), or the run's only window.
  const { histograms, counters } = recorder.finish(task.silenceUs);
  if (open < windows.length) bytesOf(counters, open);
  const measured = eluSamples.length > 2 ? eluSamples.slice(1, -1) : eluSamples;
  return {
    workerIndex: task.workerIndex,
    clients: clients.length,
    histograms,
    counters,
    eluMean: measured.length ? measured.reduce((a, b) => a + b, 0) / measured.length : 0,
    eluMax: measured.length ? Math.max(...measured) : 0,
    cpuUs: threadCpuUs() - cpuStartUs,
    stopped: signal.stopped,
    ...(task.steps ? { stepsPosted: open } : {}),
    faults: recorder.faultTallies(),
    slow: slowRecorder ? { clients: slowCount, ...slowRecorder.finish(task.silenceUs) } : undefined,
  };
}
