/**
 * Whether a window's figures can be trusted, and what a reader must know about them: the
 * validity diagnosis of a run or staircase step. The harness must know its own error — a
 * generator worker that was saturated, fell behind, or was starved of CPU (and by whom: the
 * hypervisor, its own process, or other processes) makes the figures the generator's, not the
 * server's. A closed loop's full event loop is its design: noted, not judged. Pure: every figure
 * comes in through the input.
 */
import { GENERATOR_V8_FLAGS } from '../../core/tsx.ts';
import type { Counters } from '../../core/record.ts';
import { formatUs } from '../../core/units.ts';
import { SATURATED_ELU, STALLED_LOOP_DELAY_MS, STARVED_CPU_SHARE, cpuShareWhileBusy, judgeLoop } from '../starvation.ts';
import type { WorkerTick } from '../worker-task.ts';
import type { SecondBucket } from './buckets.ts';
import type { MeasureWindow } from './schedule.ts';

/** Said (logged and noted in the record) when the generator runs without GENERATOR_V8_FLAGS. */
export const DEFAULT_GC_NOTE = `the generator ran with V8's default GC (node without ${GENERATOR_V8_FLAGS.join(' ')}): GC helper threads compete with the workers for the load CPUs and mark-compact pauses are longer — run through the pushbench command or npm scripts, or add the flags to node`;

export interface DiagnosisInput {
  window: MeasureWindow;
  /** the window's measured seconds, in the order they were first written (SecondBuckets.bySec) */
  measuredSecs: readonly (readonly [number, SecondBucket])[];
  workers: number;
  /** short polls at --poll-interval 0: a full event loop is the expected state */
  closedLoop: boolean;
  /** the generator's CPUs as given (null: not pinned) and how many they are */
  loadCpus: string | null;
  loadCpuCount: number;
  /** other generator processes of this run (a multi-process share's), on the same load CPUs */
  siblings: number;
  gcMode: 'single-threaded' | 'default';
  /** why the reference server died during the run; null when it did not */
  serverDied: string | null;
  /** the run was interrupted inside this window, at endedUs */
  cut: boolean;
  endedUs: number;
  /** reasons found elsewhere (a profile's publisher), after the generator's own */
  extraReasons: readonly string[];
  ratePerS: number;
  delivered: number;
  /** a staircase step: how many of its clients had started when its window opened, of how many this process runs */
  step: { startedByFrom: number; clients: number } | null;
}

export interface Diagnosis {
  invalidReasons: string[];
  notes: string[];
}

export function diagnose(x: DiagnosisInput): Diagnosis {
  const out: Diagnosis = { invalidReasons: [], notes: [] };
  const { invalidReasons, notes } = out;
  const win = x.window;
  if (x.serverDied) invalidReasons.push(x.serverDied);
  else if (x.cut) invalidReasons.push(`interrupted after ${((x.endedUs - win.startUs) / 1e6).toFixed(1)} s of ${(win.durationMs / 1000).toFixed(0)} s; partial result`);
  for (let w = 0; w < x.workers; w++) judgeWorker(w, x, out);
  if (x.gcMode === 'default') notes.push(DEFAULT_GC_NOTE);
  invalidReasons.push(...x.extraReasons);
  if (x.ratePerS > 0 && x.delivered === 0 && !x.cut) invalidReasons.push('no message was delivered in the measured window');
  if (x.step && !x.cut && x.step.startedByFrom < x.step.clients) invalidReasons.push(`generator fell behind: ${x.step.startedByFrom} of the step's ${x.step.clients} clients had started when its window opened`);
  return out;
}

/** Worker `w`'s event loop over the measured seconds: saturated, stalled, and if so why. */
function judgeWorker(w: number, x: DiagnosisInput, { invalidReasons, notes }: Diagnosis): void {
  const ticks = x.measuredSecs.map(([, b]) => b.ticks.find((k) => k.workerIndex === w));
  const elus = ticks.map((k) => k?.elu ?? 0);
  const delays = ticks.map((k) => k?.loopDelayP99Ms ?? 0);
  const loop = judgeLoop(elus, delays, ticks.map((k) => (k ? k.wallUs / 1e6 : 1)));
  const worst = loop.saturatedSecs;
  if (loop.saturated && x.closedLoop) notes.push(`closed loop (--poll-interval 0): worker ${w} event-loop utilization above ${SATURATED_ELU * 100} % for ${worst} s, as intended — the request rate is the peak this generator and server reach together, and request latency includes the generator's own queueing`);
  else if (loop.saturated) invalidReasons.push(`generator saturated: worker ${w} event-loop utilization above ${SATURATED_ELU * 100} % for ${worst} s; the numbers measure the generator, not the server — use fewer clients or more --workers/--load-cpus`);
  if (loop.stalled) invalidReasons.push(`generator fell behind: worker ${w} event-loop delay p99 reached ${loop.worstDelayMs.toFixed(0)} ms; deliveries were timestamped late`);
  if (!((loop.saturated && !x.closedLoop) || loop.stalled)) return;
  const f = behindFigures(w, x.measuredSecs);
  const on = `${x.loadCpuCount} load CPU${x.loadCpuCount === 1 ? '' : 's'} (${x.loadCpus ?? 'not pinned'})`;
  if (f.share !== null && f.share < STARVED_CPU_SHARE) {
    invalidReasons.push(`generator starved: in the seconds worker ${w} fell behind, its thread was on a CPU only ${(f.share * 100).toFixed(0)} % of the time its event loop was busy${f.gcText}; ${whoTookTheCpu(f, on, x.loadCpuCount, x.siblings)}`);
  } else if (f.busyPct !== null && f.stealPct !== null) {
    notes.push(`in the seconds worker ${w} fell behind, its ${on} were ${f.busyPct.toFixed(0)} % busy (this process ${f.ownPct.toFixed(0)} %) and ${f.stealPct.toFixed(0)} % stolen by the hypervisor; its thread was on a CPU ${f.share === null ? 'an unknown share' : `${(f.share * 100).toFixed(0)} %`} of the time its event loop was busy${f.gcText}`);
  }
}

/** What the seconds worker `w` fell behind in say about its CPU. */
interface BehindFigures {
  /** its CPU time over its busy wall time (null: no busy time) */
  share: number | null;
  /** `; its GC paused it …` */
  gcText: string;
  /** this process's CPU, the load CPUs' busy and stolen time: % of one CPU, means over those seconds */
  ownPct: number;
  busyPct: number | null;
  stealPct: number | null;
}

function behindFigures(w: number, measuredSecs: DiagnosisInput['measuredSecs']): BehindFigures {
  const isBehind = (k: WorkerTick) => k.workerIndex === w && (k.elu > SATURATED_ELU || k.loopDelayP99Ms > STALLED_LOOP_DELAY_MS);
  const behind = measuredSecs.flatMap(([, b]) => b.ticks.filter(isBehind));
  // How much of it was the worker's own garbage collector (load/gc-meter.ts).
  const gcMs = behind.reduce((n, k) => n + k.gcMs, 0);
  const gcText = `; its GC paused it ${gcMs.toFixed(0)} ms in those ${behind.length} s (longest pause ${Math.max(0, ...behind.map((k) => k.gcMaxMs)).toFixed(0)} ms)`;
  // What the load CPUs did in those seconds (the sampler files its reading of a second with the
  // workers' ticks of that second: load/seconds.ts): this process, everything else, the hypervisor.
  const behindSecs = measuredSecs.filter(([, b]) => b.ticks.some(isBehind)).map(([, b]) => b);
  const mean = (f: (b: SecondBucket) => number | null) => {
    const xs = behindSecs.map(f).filter((v) => v !== null);
    return xs.length ? xs.reduce((a, v) => a + v, 0) / xs.length : null;
  };
  return { share: cpuShareWhileBusy(behind), gcText, ownPct: mean((b) => b.generatorCpuPct) ?? 0, busyPct: mean((b) => b.loadCpusBusyPct), stealPct: mean((b) => b.loadCpusStealPct) };
}

/**
 * Who took the CPU from a starved worker: the hypervisor (steal), this process's own other threads
 * (the main thread's sampling and IPC, GC helpers, other workers) when the process itself filled its
 * load CPUs, or other processes when it did not.
 */
function whoTookTheCpu(f: BehindFigures, on: string, cpus: number, siblings: number): string {
  const othersAdvice = siblings > 0
    ? `among them this run's ${siblings} other generator process${siblings > 1 ? 'es' : ''}, on the same load CPUs and bursting on the same schedule: give the generator more --load-cpus or use fewer clients`
    : 'measure on a quieter machine or give the generator CPUs of its own';
  if (f.stealPct !== null && f.stealPct >= 10 * cpus) return `the hypervisor took ${f.stealPct.toFixed(0)} % of its ${on} then (steal: this VM waited for real CPUs) — measure on a quieter host or a dedicated machine`;
  if (f.ownPct >= 85 * cpus) return `this generator process itself used ${f.ownPct.toFixed(0)} % of its ${on} then (its main thread, GC and other workers took the rest) — give the generator more --load-cpus or use fewer clients`;
  return `other processes on its ${on} took the rest (this process used ${f.ownPct.toFixed(0)} % then${f.busyPct !== null ? `, everything together ${f.busyPct.toFixed(0)} %` : ''}) — ${othersAdvice}`;
}

/**
 * Undelivered messages above this share of the expected make a run invalid. An undelivered
 * message's latency is unknown and at least the drain, so it belongs in the distribution's top;
 * the record reports percentiles up to p99.9, which past 0.1 % undelivered describe only what
 * arrived. The same bar `compare` gates loss at by default (0.1 percentage point).
 */
export const UNDELIVERED_LIMIT = 0.001;

/**
 * What a window's counts say about its backlog and another run's messages: the invalid reason
 * when more than {@link UNDELIVERED_LIMIT} of the expected had not arrived by the end of the
 * drain; a note (pushed to `notes`) when some had not, or when foreign messages were ignored.
 */
export function backlogReasons(c: Counters, backlogAgeMs: number | null | undefined, notes: string[]): string[] {
  if (c.foreign) notes.push(`${c.foreign} message(s) of other runs arrived (their tokens name another run: the server replayed retained history) and were ignored — not counted delivered, lost or duplicated`);
  const n = c.undelivered ?? 0;
  if (n === 0) return [];
  const share = c.expected > 0 ? n / c.expected : 1;
  const age = backlogAgeMs == null ? '' : `; the oldest had waited ${formatUs(backlogAgeMs * 1000)} since its scheduled time`;
  const what = `${n} of ${c.expected} expected messages (${(share * 100).toFixed(share < 0.01 ? 2 : 1)} %) had not arrived by the end of the drain${age}: the server fell behind its publisher`;
  if (share <= UNDELIVERED_LIMIT) {
    notes.push(`${what} (within the ${UNDELIVERED_LIMIT * 100} % limit)`);
    return [];
  }
  return [`${what}; the latency figures describe only the messages that arrived (limit ${UNDELIVERED_LIMIT * 100} % of expected)`];
}
