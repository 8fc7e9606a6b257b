/**
 * Piscina task: one worker thread runs a slice of the clients for the whole run and returns its
 * encoded histograms and counters. Progress (one tick a second) streams to the main thread over
 * the MessagePort in the task; the main thread stops the run early by posting `{type:'stop'}`.
 * Only encoded histograms and plain numbers cross the thread boundary.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import { nowUs, type TransportName } from '../servers/wire.ts';
import type { Counters, Histograms, WorkloadName } from '../reports/record.ts';
import { driverFor } from './drivers/index.ts';
import type { Client } from './drivers/types.ts';
import { Recorder, type FaultTally } from './recorder.ts';
import { topicOf, chatSchedule } from './workload.ts';
import { startWorkerProfile } from './worker-profile.ts';
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
  /** a target profile: clients speak it instead of the reference servers' contract */
  profile?: Profile;
  port: MessagePort;
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
  task.port.on('message', (m: { type?: string; index?: number; atUs?: number }) => {
    if (m?.type === 'stop') signal.stopped = true;
    else if (m?.type === 'epoch-ended') recorder.epochEnded(m.index!, m.atUs!);
  });

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

  // Progress: one tick a second on the shared clock's second boundaries relative to t0.
  const tickTimer = setInterval(() => {
    const elu = performance.eventLoopUtilization(eluPrev);
    eluPrev = performance.eventLoopUtilization();
    eluSamples.push(elu.utilization);
    const cpu = threadCpuUs();
    const { encoded, deliveries, p50Us, p99Us } = recorder.takeInterval();
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
    };
    lastCpuUs = cpu;
    lastTickUs = tUs;
    loopDelay.reset();
    task.port.postMessage(tick);
  }, 1000);

  // Arrival: clients start on an open schedule (id / arrival rate), however slow connecting is.
  let bytesAtFrom = { read: 0, written: 0 };
  let bytesAtTo = { read: 0, written: 0 };
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
  snap(task.fromUs, (b) => (bytesAtFrom = b));
  snap(task.toUs, (b) => (bytesAtTo = b));

  // Behind schedule, the loop would start every late client in one synchronous burst and starve
  // the deliveries (and their timestamps) of the clients already connected: it yields to the
  // event loop every ARRIVAL_BATCH late starts instead.
  let lateStarts = 0;
  for (const id of task.clientIds) {
    if (signal.stopped) break;
    const at = task.t0Us + (id / task.arrivalRatePerS) * 1e6;
    if (at > nowUs() + 1000) {
      lateStarts = 0;
      await sleepUntil(at, signal);
    } else if (++lateStarts % ARRIVAL_BATCH === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (signal.stopped) break;
    startClient(id);
  }
  await sleepUntil(task.closeAtUs, signal);
  if (signal.stopped && nowUs() < task.toUs) bytesAtTo = sumBytes();

  clearInterval(tickTimer);
  for (const t of timers) clearTimeout(t);
  timers.clear();
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  loopDelay.disable();
  task.port.close();
  await stopProfile();

  const { histograms, counters } = recorder.finish(task.silenceUs);
  counters.bytesRead = Math.max(0, bytesAtTo.read - bytesAtFrom.read);
  counters.bytesWritten = Math.max(0, bytesAtTo.written - bytesAtFrom.written);
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
    faults: recorder.faultTallies(),
    slow: slowRecorder ? { clients: slowCount, ...slowRecorder.finish(task.silenceUs) } : undefined,
  };
}
