/**
 * Piscina task: one worker thread runs a slice of the clients for the whole run and returns its
 * encoded histograms and counters. Progress (one tick a second) streams to the main thread over
 * the MessagePort in the task; the main thread stops the run early by posting `{type:'stop'}`.
 * A live staircase (task.steps) grows the slice step by step: each step's window closes into a
 * `step` message while the run goes on, and the next step's clients wait for `{type:'go'}`.
 * Only encoded histograms and plain numbers cross the thread boundary (load/worker-task.ts).
 */
import { nowUs } from '../core/wire.ts';
import { driverFor, traitsOf } from './drivers/index.ts';
import { Recorder } from './recorder.ts';
import { startWorkerProfile } from './worker-profile.ts';
import { startInPlace } from './in-place.ts';
import { profileDriver } from './target/drivers.ts';
import { SliceClients } from './worker-clients.ts';
import { ThreadTicks } from './worker-ticks.ts';
import { SliceWindows } from './worker-windows.ts';
import { SAMPLER_LAG_US } from './seconds.ts';
import { topicIndexOf } from './workload.ts';
import { arrivalUs, stepOf, type WorkerPing, type WorkerResult, type WorkerTask } from './worker-task.ts';

export type { StaircaseStep, WorkerResult, WorkerStep, WorkerTask, WorkerTick } from './worker-task.ts';
export { arrivalUs, isSlowClient, stepOf } from './worker-task.ts';

/** Late clients started between two yields to the event loop (see the arrival loop). */
const ARRIVAL_BATCH = 100;

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

/** How often the drain asks whether anything is still owed, ms. */
const DRAIN_CHECK_MS = 20;

/**
 * The drain after the window: until `closeAtUs`, or sooner once the timetable says every client
 * has every message of the window — nothing that counts can still arrive — and, on a long poll,
 * the message after it, which answers the window's last held request (it counts). Never before
 * the window's last second is in: this thread's tick on a window end on the grid, and the
 * runner's sample SAMPLER_LAG_US after it. Waiting it out: a staircase's steps (closed on the
 * run's shared schedule), and slow consumers (their books have no timetable).
 */
async function drain(task: WorkerTask, recorders: readonly Recorder[], signal: { stopped: boolean }): Promise<void> {
  const heldPoll = traitsOf(task.transport).longPollTimeout;
  const owesNothing = () => recorders.every((r) => r.owesNothing(heldPoll));
  if (!task.steps && !task.slowClients) {
    await sleepUntil(task.toUs + SAMPLER_LAG_US + DRAIN_CHECK_MS * 1000, signal);
    while (!signal.stopped && nowUs() < task.closeAtUs && !owesNothing()) {
      await sleepUntil(Math.min(task.closeAtUs, nowUs() + DRAIN_CHECK_MS * 1000), signal);
    }
    if (owesNothing()) return;
  }
  await sleepUntil(task.closeAtUs, signal);
}

/** The main thread's messages: stop, a fault's epoch end, a staircase's go (each wakes a waiting arrival). */
function listen(task: WorkerTask, recorder: Recorder, signal: { stopped: boolean }): (step: number) => Promise<void> {
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
  return async (step: number) => {
    while (goUpTo < step && !signal.stopped) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  };
}

/**
 * Arrival: clients start on an open schedule (id / arrival rate, or the staircase's), however slow
 * connecting is. Behind schedule, the loop would start every late client in one synchronous burst
 * and starve the deliveries (and their timestamps) of the clients already connected: it yields to
 * the event loop every ARRIVAL_BATCH late starts instead.
 */
async function arrive(task: WorkerTask, signal: { stopped: boolean }, awaitGo: (step: number) => Promise<void>, windows: SliceWindows, clients: SliceClients): Promise<void> {
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
    windows.closeDueSteps();
    clients.start(id);
  }
}

export default async function runSlice(task: WorkerTask | WorkerPing): Promise<WorkerResult | null> {
  if ('ping' in task) return null;
  startInPlace(); // diagnostic (npm run bench:in-place); nothing unless its variable is set
  const stopProfile = startWorkerProfile(task.workerIndex);
  // The run id is the profile target's epoch: the run's publishers are its only ones.
  const driver = task.profile ? profileDriver(task.transport, { profile: task.profile, run: task.run }) : driverFor(task.transport);
  const schedule = task.schedule ? { timetable: task.schedule, topicIndex: (id: number) => topicIndexOf(task.workload, id, task.topics) } : undefined;
  const shift = task.serverClockShiftUs;
  const recorder = new Recorder({ fromUs: task.fromUs, toUs: task.toUs, topicRatePerS: task.ratePerS, faultsAtUs: task.faultsAtUs, schedule, serverClockShiftUs: shift });
  // Slow consumers get a recorder of their own: the run's figures describe the fast clients, and
  // the slow ones are reported apart (how many were dropped, what they lost).
  const slowRecorder = task.slowClients ? new Recorder({ fromUs: task.fromUs, toUs: task.toUs, topicRatePerS: task.ratePerS, serverClockShiftUs: shift }) : undefined;
  // So do the large topic's subscribers (`--large-topic`), so the others' figures are measured
  // alone; topic t0 is on the publisher's timetable like every topic, so their books keep it.
  const largeRecorder = task.largeTopicBytes !== undefined ? new Recorder({ fromUs: task.fromUs, toUs: task.toUs, topicRatePerS: task.ratePerS, schedule, serverClockShiftUs: shift }) : undefined;
  const signal = { stopped: false };
  const awaitGo = listen(task, recorder, signal);
  const timers = new Set<NodeJS.Timeout>();
  const slice = new SliceClients(task, driver, recorder, slowRecorder, largeRecorder, signal, timers);
  const ticks = new ThreadTicks(task, recorder, slice.clients);
  const windows = new SliceWindows(task, recorder, slice.clients, signal, timers);

  await arrive(task, signal, awaitGo, windows, slice);
  await drain(task, largeRecorder ? [recorder, largeRecorder] : [recorder], signal);
  windows.closeDueSteps(windows.count - 1);
  windows.cutShort();

  ticks.stop();
  for (const t of timers) clearTimeout(t);
  timers.clear();
  await Promise.all(slice.clients.map((c) => c.close().catch(() => undefined)));
  ticks.close();
  task.port.close();
  await stopProfile();

  // The window still open (a staircase stopped mid-step), or the run's only window; its books
  // close at its end (the drain over), or now when the run was stopped.
  const { histograms, counters, backlogAgeMs } = recorder.finish(task.silenceUs, Math.min(nowUs(), windows.closeUs()));
  windows.finishOpen(counters);
  const measured = ticks.eluSamples.length > 2 ? ticks.eluSamples.slice(1, -1) : ticks.eluSamples;
  return {
    workerIndex: task.workerIndex,
    clients: slice.clients.length,
    histograms,
    counters,
    ...(backlogAgeMs !== undefined ? { backlogAgeMs } : {}),
    ...(task.schedule && recorder.offSchedule > 0 ? { offSchedule: recorder.offSchedule } : {}),
    eluMean: measured.length ? measured.reduce((a, b) => a + b, 0) / measured.length : 0,
    eluMax: measured.length ? Math.max(...measured) : 0,
    cpuUs: ticks.cpuUs(),
    stopped: signal.stopped,
    ...(task.steps ? { stepsPosted: windows.open } : {}),
    faults: recorder.faultTallies(),
    slow: slowRecorder ? { clients: slice.slowCount, ...slowRecorder.finish(task.silenceUs) } : undefined,
    ...(largeRecorder ? { large: { clients: slice.largeCount, ...largeRecorder.finish(task.silenceUs, Math.min(nowUs(), windows.closeUs())) } } : {}),
    totals: recorder.runTotals(),
    latencyBuckets: recorder.takeUnticked(),
    ...(task.tls ? { tls: recorder.tls.tally() } : {}),
    ...(task.wsCompression ? { wsExtensions: { ...recorder.wsExtensions } } : {}),
    ...(task.profile?.socketio ? { engine: recorder.engineTally() } : {}),
  };
}
