/**
 * The validity diagnosis of a window (load/run/diagnose.ts) on made-up seconds: which figures make
 * a reason, which only a note, and who a starved worker's CPU went to.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GC_NOTE, UNDELIVERED_LIMIT, backlogReasons, diagnose, type DiagnosisInput } from '../../../load/run/diagnose.ts';
import { emptyCounters } from '../../../core/record.ts';
import { emptyBucket, type SecondBucket } from '../../../load/run/buckets.ts';
import type { WorkerTick } from '../../../load/worker-task.ts';

const T0 = 1_000_000_000;

function tick(workerIndex: number, k: Partial<WorkerTick> = {}): WorkerTick {
  return {
    type: 'tick', workerIndex, tUs: 0, interval: '', deliveries: 0, p50Us: 0, p99Us: 0, wallUs: 1e6, started: 0, open: 0,
    elu: 0.2, loopDelayP99Ms: 5, cpuUs: 200_000, gcMs: 0, gcMaxMs: 0, ...k,
  };
}

/** Seconds 1…n, each with the given ticks and sampler readings. */
function seconds(n: number, make: (sec: number) => { ticks: WorkerTick[] } & Partial<SecondBucket>): [number, SecondBucket][] {
  return Array.from({ length: n }, (_, i) => [i + 1, { ...emptyBucket(), ...make(i + 1) }]);
}

function input(x: Partial<DiagnosisInput> = {}): DiagnosisInput {
  return {
    window: { name: 'w', clients: 100, startUs: T0, fromUs: T0 + 2e6, toUs: T0 + 10e6, closeUs: T0 + 10.5e6, warmupMs: 2000, durationMs: 10_000 },
    measuredSecs: seconds(5, () => ({ ticks: [tick(0)] })),
    workers: 1, closedLoop: false, loadCpus: '2-3', loadCpuCount: 2, siblings: 0, gcMode: 'single-threaded',
    serverDied: null, cut: false, endedUs: T0 + 10.6e6, extraReasons: [], ratePerS: 1, delivered: 500, step: null,
    ...x,
  };
}

/** A worker 0 whose loop was full (ELU 0.95) for `secs` seconds while on a CPU `cpuShare` of that time. */
const busy = (secs: number, cpuShare: number, bucket: Partial<SecondBucket> = {}) =>
  seconds(secs, () => ({ ticks: [tick(0, { elu: 0.95, cpuUs: 0.95 * cpuShare * 1e6, gcMs: 30, gcMaxMs: 12 })], ...bucket }));

describe('diagnose', () => {
  it('finds nothing wrong in a quiet window', () => {
    expect(diagnose(input())).toEqual({ invalidReasons: [], notes: [] });
  });

  it('a worker saturated 2 s in a row or longer makes a reason naming it and the seconds', () => {
    const secs = seconds(5, (sec) => ({ ticks: [tick(0), tick(1, { elu: sec >= 2 && sec <= 4 ? 0.95 : 0.5, cpuUs: 950_000 })] }));
    const { invalidReasons, notes } = diagnose(input({ workers: 2, measuredSecs: secs }));
    expect(invalidReasons).toEqual([expect.stringMatching(/^generator saturated: worker 1 event-loop utilization above 90 % for 3 s; /)]);
    // it had its CPU (share 1), and the load CPUs' figures are unknown here: no note either
    expect(notes).toEqual([]);
  });

  it('in a closed loop a saturated worker is a note, not a reason', () => {
    const { invalidReasons, notes } = diagnose(input({ closedLoop: true, measuredSecs: busy(4, 1) }));
    expect(invalidReasons).toEqual([]);
    expect(notes).toEqual([expect.stringMatching(/^closed loop \(--poll-interval 0\): worker 0 event-loop utilization above 90 % for 4 s, as intended/)]);
  });

  it('…but a stalled loop is a reason even in a closed loop', () => {
    const secs = seconds(3, (sec) => ({ ticks: [tick(0, { loopDelayP99Ms: sec === 2 ? 150 : 5 })] }));
    const { invalidReasons } = diagnose(input({ closedLoop: true, measuredSecs: secs }));
    expect(invalidReasons).toEqual(['generator fell behind: worker 0 event-loop delay p99 reached 150 ms; deliveries were timestamped late']);
  });

  it('a closed loop\'s full loop is not looked into for starvation', () => {
    const { invalidReasons, notes } = diagnose(input({ closedLoop: true, measuredSecs: busy(3, 0.3, { generatorCpuPct: 60, loadCpusBusyPct: 150, loadCpusStealPct: 25 }) }));
    expect(invalidReasons).toEqual([]);
    expect(notes).toHaveLength(1);
  });

  it('a stalled worker that was not saturated is looked into too (starved: its delay seconds were mostly off-CPU)', () => {
    // ELU 0.5 (not saturated), delay p99 150 ms, on a CPU 20 % of its busy time
    const secs = seconds(3, () => ({ ticks: [tick(0, { elu: 0.5, cpuUs: 100_000, loopDelayP99Ms: 150 })], generatorCpuPct: 30, loadCpusBusyPct: 100, loadCpusStealPct: 0 }));
    const { invalidReasons } = diagnose(input({ measuredSecs: secs }));
    expect(invalidReasons).toEqual([
      'generator fell behind: worker 0 event-loop delay p99 reached 150 ms; deliveries were timestamped late',
      expect.stringMatching(/^generator starved: in the seconds worker 0 fell behind, its thread was on a CPU only 20 % of the time/),
    ]);
  });

  it('a starved worker whose CPUs the hypervisor took (steal ≥ 10 % per load CPU) gets the hypervisor sentence', () => {
    // 2 load CPUs: 20 % of one CPU summed is the bar; 25 % is over it
    const { invalidReasons } = diagnose(input({ measuredSecs: busy(3, 0.3, { generatorCpuPct: 60, loadCpusBusyPct: 150, loadCpusStealPct: 25 }) }));
    expect(invalidReasons).toHaveLength(2);
    expect(invalidReasons[0]).toMatch(/^generator saturated: worker 0 /);
    expect(invalidReasons[1]).toBe('generator starved: in the seconds worker 0 fell behind, its thread was on a CPU only 30 % of the time its event loop was busy; '
      + 'its GC paused it 90 ms in those 3 s (longest pause 12 ms); the hypervisor took 25 % of its 2 load CPUs (2-3) then (steal: this VM waited for real CPUs) — measure on a quieter host or a dedicated machine');
  });

  it('steal under 10 % per load CPU is not the hypervisor\'s: other processes took the rest', () => {
    const { invalidReasons } = diagnose(input({ measuredSecs: busy(3, 0.3, { generatorCpuPct: 60, loadCpusBusyPct: 190, loadCpusStealPct: 15 }) }));
    expect(invalidReasons[1]).toMatch(/; other processes on its 2 load CPUs \(2-3\) took the rest \(this process used 60 % then, everything together 190 %\) — measure on a quieter machine or give the generator CPUs of its own$/);
  });

  it('a starved worker in a process that filled its load CPUs itself (≥ 85 % per CPU) is told to get more CPUs', () => {
    const { invalidReasons } = diagnose(input({ measuredSecs: busy(3, 0.3, { generatorCpuPct: 180, loadCpusBusyPct: 195, loadCpusStealPct: 0 }) }));
    expect(invalidReasons[1]).toMatch(/; this generator process itself used 180 % of its 2 load CPUs \(2-3\) then \(its main thread, GC and other workers took the rest\)/);
  });

  it('other generator processes of the run are named among the others', () => {
    const { invalidReasons } = diagnose(input({ siblings: 2, loadCpus: null, loadCpuCount: 1, measuredSecs: busy(3, 0.3, { generatorCpuPct: 40, loadCpusBusyPct: null, loadCpusStealPct: null }) }));
    expect(invalidReasons[1]).toMatch(/; other processes on its 1 load CPU \(not pinned\) took the rest \(this process used 40 % then\) — among them this run's 2 other generator processes, /);
  });

  it('a worker behind but on its CPU (share ≥ 60 %) is not starved: a note with the load CPUs\' figures', () => {
    const { invalidReasons, notes } = diagnose(input({ measuredSecs: busy(3, 0.9, { generatorCpuPct: 95, loadCpusBusyPct: 120, loadCpusStealPct: 1 }) }));
    expect(invalidReasons).toEqual([expect.stringMatching(/^generator saturated: worker 0 /)]);
    expect(notes).toEqual(['in the seconds worker 0 fell behind, its 2 load CPUs (2-3) were 120 % busy (this process 95 %) and 1 % stolen by the hypervisor; '
      + 'its thread was on a CPU 90 % of the time its event loop was busy; its GC paused it 90 ms in those 3 s (longest pause 12 ms)']);
  });

  it('reads the load CPUs only in the seconds the worker fell behind', () => {
    const secs = seconds(5, (sec) => sec <= 3
      ? { ticks: [tick(0, { elu: 0.95, cpuUs: 0.95 * 0.3e6 })], generatorCpuPct: 60, loadCpusBusyPct: 150, loadCpusStealPct: 30 }
      : { ticks: [tick(0)], generatorCpuPct: 10, loadCpusBusyPct: 20, loadCpusStealPct: 0 });
    expect(diagnose(input({ measuredSecs: secs })).invalidReasons[1]).toMatch(/the hypervisor took 30 % of its/);
  });

  it('the server\'s death comes first and stands for the interruption it caused', () => {
    const died = 'the reference server (pid 7) exited during the run (SIGKILL); partial result';
    const { invalidReasons } = diagnose(input({ serverDied: died, cut: true, delivered: 0 }));
    expect(invalidReasons).toEqual([died]);
  });

  it('an interrupted window says how far it got; no deliveries is then not a reason of its own', () => {
    const { invalidReasons } = diagnose(input({ cut: true, endedUs: T0 + 4.25e6, delivered: 0 }));
    expect(invalidReasons).toEqual(['interrupted after 4.3 s of 10 s; partial result']);
  });

  it('no delivery in a window with a publish rate is a reason, after the reasons found elsewhere', () => {
    const { invalidReasons } = diagnose(input({ delivered: 0, extraReasons: ['publisher fell behind'] }));
    expect(invalidReasons).toEqual(['publisher fell behind', 'no message was delivered in the measured window']);
    expect(diagnose(input({ delivered: 0, ratePerS: 0 })).invalidReasons).toEqual([]);
  });

  it('a staircase step whose clients had not all started when its window opened', () => {
    expect(diagnose(input({ step: { startedByFrom: 80, clients: 100 } })).invalidReasons).toEqual(['generator fell behind: 80 of the step\'s 100 clients had started when its window opened']);
    expect(diagnose(input({ step: { startedByFrom: 100, clients: 100 } })).invalidReasons).toEqual([]);
  });

  it('V8\'s default GC is a note', () => {
    expect(diagnose(input({ gcMode: 'default' })).notes).toEqual([DEFAULT_GC_NOTE]);
  });
});

describe('the backlog and another run\'s messages', () => {
  const counters = (undelivered: number | undefined, foreign = 0) => ({ ...emptyCounters(), expected: 10_000, delivered: 10_000 - (undelivered ?? 0), undelivered, foreign });

  it('undelivered above 0.1 % of expected is a reason with the count and the backlog\'s age; at or below, a note', () => {
    expect(UNDELIVERED_LIMIT).toBe(0.001);
    const notes: string[] = [];
    const over = backlogReasons(counters(11), 1420, notes);
    expect(over).toEqual(['11 of 10000 expected messages (0.11 %) had not arrived by the end of the drain; the oldest had waited 1.42s since its scheduled time: the server fell behind its publisher; the latency figures describe only the messages that arrived (limit 0.1 % of expected)']);
    expect(notes).toEqual([]);
    expect(backlogReasons(counters(10), 800, notes)).toEqual([]);
    expect(notes).toEqual(['10 of 10000 expected messages (0.10 %) had not arrived by the end of the drain; the oldest had waited 800.0ms since its scheduled time: the server fell behind its publisher (within the 0.1 % limit)']);
  });

  it('says nothing when all arrived or undelivered is unknown; notes foreign messages', () => {
    const notes: string[] = [];
    expect(backlogReasons(counters(0), null, notes)).toEqual([]);
    expect(backlogReasons(counters(undefined), undefined, notes)).toEqual([]);
    expect(notes).toEqual([]);
    backlogReasons(counters(0, 7), null, notes);
    expect(notes).toEqual([expect.stringMatching(/^7 message\(s\) of other runs arrived .* and were ignored/)]);
  });
});
