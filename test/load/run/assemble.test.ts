/**
 * A window's record from its parts (load/run/assemble.ts), on made-up inputs: what is summed
 * across workers, which seconds a window takes, the server's figures from the sampler's
 * readings, and what an interrupted window or a staircase step looks like.
 */
import { describe, expect, it } from 'vitest';
import { assembleRecord, timelineOf, type MeterReadings, type RunFacts, type WindowInput, type WindowPart } from '../../../load/run/assemble.ts';
import { emptyBucket, type SecondBucket } from '../../../load/run/buckets.ts';
import { zeroStatsDelta } from '../../../load/run/server-stats.ts';
import { settleRun, type RunSettings, type SettledRun } from '../../../load/run/settings.ts';
import type { WorkerTick } from '../../../load/worker-task.ts';
import { createHistogram, decodeHistogram, encodeHistogram, percentiles } from '../../../core/histogram.ts';
import { emptyCounters, finishRecord, type Counters, type Environment } from '../../../core/record.ts';
import type { StatsSnapshot } from '../../../core/wire.ts';

const T0 = 5_000_000_000;
const MB = 1024 * 1024;

function encoded(values: number[]): string {
  const h = createHistogram();
  for (const v of values) h.recordValue(v);
  return encodeHistogram(h);
}

function tick(workerIndex: number, k: Partial<WorkerTick> = {}): WorkerTick {
  return {
    type: 'tick', workerIndex, tUs: 0, interval: encoded([1000]), deliveries: 1, p50Us: 1000, p99Us: 1000, wallUs: 1e6, started: 10, open: 10,
    elu: 0.2, loopDelayP99Ms: 5, cpuUs: 100_000, gcMs: 1, gcMaxMs: 1, ...k,
  };
}

function part(counters: Partial<Counters>, delivery: number[], k: Partial<WindowPart> = {}): WindowPart {
  const h = encoded(delivery);
  return { clients: 10, counters: { ...emptyCounters(), ...counters }, histograms: { deliveryUs: h, connectUs: h, requestUs: h, requestRawUs: h }, ...k };
}

function settings(k: Partial<RunSettings> = {}): SettledRun {
  return settleRun({
    name: 'run', transport: 'ws', workload: 'broadcast', clients: 20, durationMs: 8000, warmupMs: 3000, ratePerS: 1, payloadBytes: 64,
    topics: 1, pollIntervalMs: 1000, longPollTimeoutMs: 30_000, arrivalRatePerS: 1000, network: 'loopback', target: null, serverDelayMs: 0,
    workers: 2, serverCpus: '0', loadCpus: '1', serverPid: null, ringSize: 1000, proxy: null, ...k,
  });
}

const environment = { node: 'v20', platform: 'linux', cpuModel: 'test', cores: 2, totalMemBytes: 1, hostname: 'h', serverCpus: '0', loadCpus: '1', network: 'loopback', pushbenchVersion: '0', generatorGc: 'single-threaded' } satisfies Environment;

function facts(k: Partial<RunFacts> = {}): RunFacts {
  return { settings: settings(), t0Us: T0, ownClients: 20, workers: 2, closedLoop: false, gcMode: 'single-threaded', loadCpuCount: 1, rssBaseline: 0, ...k };
}

const proc = (cpuUs: number, rssBytes: number) => ({ cpuUs, rssBytes, fds: null });

function stats(k: { cpuUs?: number; delivered?: number; open?: Record<string, number>; drops?: number } = {}): StatsSnapshot {
  return {
    cpuUs: { user: k.cpuUs ?? 0, system: 0 }, open: k.open ?? {}, bytesWritten: 0, bytesRead: 0, tcpAccepted: 0, httpRequests: 0,
    deliveredTotal: k.delivered ?? 0, slowConsumerDrops: k.drops ?? 0,
  } as unknown as StatsSnapshot;
}

function meter(k: Partial<MeterReadings> = {}): MeterReadings {
  return { procFrom: null, procTo: null, proxyFrom: null, proxyTo: null, statsFrom: null, statsTo: null, rssMax: 0, openMax: 0, ...k };
}

/** Seconds 0…10 of the run: worker w's ELU in second s is s / 100 + w / 1000 (which second a figure came from shows in it). */
function buckets(): Map<number, SecondBucket> {
  const m = new Map<number, SecondBucket>();
  for (let sec = 0; sec <= 10; sec++) {
    m.set(sec, { ...emptyBucket(), generatorCpuPct: sec, ticks: [0, 1].map((w) => tick(w, { elu: sec / 100 + w / 1000, cpuUs: 1000 * sec, deliveries: sec, open: 10 * sec })) });
  }
  return m;
}

function windowInput(k: Partial<WindowInput> = {}): WindowInput {
  return {
    window: { name: 'run', clients: 20, startUs: T0, fromUs: T0 + 3e6, toUs: T0 + 8e6, closeUs: T0 + 8.5e6, warmupMs: 3000, durationMs: 8000 },
    parts: [part({ delivered: 10 }, [1000]), part({ delivered: 10 }, [1000])],
    buckets: buckets(), meter: meter(), banked: { stats: zeroStatsDelta(), cpuUs: 0 }, cut: false, endedUs: T0 + 9e6,
    serverDied: null, extraReasons: [], environment, startedAt: 'start', endedAt: 'end', ...k,
  };
}

describe('assembleRecord', () => {
  it('sums the workers\' counters (errors by code) and adds their histograms', () => {
    const parts = [
      part({ delivered: 10, lost: 1, errors: { GAP: 1 } }, [100, 200]),
      part({ delivered: 5, duplicates: 2, errors: { GAP: 2, STALLED: 1 } }, [300_000]),
    ];
    const r = assembleRecord(facts(), windowInput({ parts }));
    expect(r.counters).toMatchObject({ delivered: 15, lost: 1, duplicates: 2, errors: { GAP: 3, STALLED: 1 } });
    const d = percentiles(decodeHistogram(r.histograms.deliveryUs));
    expect(d.count).toBe(3);
    // 3 significant digits: 300,000 µs is recorded within 0.1 %
    expect(d.max).toBeGreaterThanOrEqual(300_000);
    expect(d.max).toBeLessThanOrEqual(300_300);
    expect(d.min).toBe(100);
    expect(percentiles(decodeHistogram(r.histograms.requestRawUs)).count).toBe(3);
  });

  it('takes the seconds whose grid point is in (from, to] for the workers\' figures, and every second after t0 with ticks for the timeline', () => {
    const r = assembleRecord(facts(), windowInput());
    // warm-up 3 s, duration 8 s: seconds 4…8; worker 1's ELU in second s is s/100 + 0.001
    const [w0, w1] = r.generator.workers;
    expect(w1.eluMean).toBeCloseTo(0.061, 6);
    expect(w1.eluMax).toBeCloseTo(0.081, 6);
    expect(w0.cpuUs).toBe(1000 * (4 + 5 + 6 + 7 + 8));
    expect(r.generator.cpuUs).toBe(2 * 1000 * (4 + 5 + 6 + 7 + 8));
    expect(r.generator.eluMax).toBeCloseTo(0.081, 6);
    // the timeline: seconds 1…10 (0 is the start), counted from t0
    expect(r.timeline.map((p) => p.tS)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.timeline[4]).toMatchObject({ tS: 5, deliveriesPerS: 10, openConnections: 100, generatorCpuPct: 5 });
    expect(r.timeline[4].generatorElu).toBeCloseTo(0.051, 6);
    expect(r).toMatchObject({ name: 'run', complete: true, startedAt: 'start', endedAt: 'end', valid: true, invalidReasons: [] });
    expect(r.config).toMatchObject({ clients: 20, durationMs: 8000, warmupMs: 3000, workers: 2 });
  });

  it('puts the timeline in second order and leaves out seconds without ticks', () => {
    const m = new Map<number, SecondBucket>([
      [3, { ...emptyBucket(), ticks: [tick(0)] }],
      [1, { ...emptyBucket(), ticks: [tick(0)] }],
      [2, emptyBucket()],
    ]);
    expect(assembleRecord(facts(), windowInput({ buckets: m })).timeline.map((p) => p.tS)).toEqual([1, 3]);
  });

  it('an interrupted run is incomplete, its duration what it measured, its figures up to where it ended', () => {
    const r = assembleRecord(facts(), windowInput({ cut: true, endedUs: T0 + 5.5e6 }));
    expect(r.complete).toBe(false);
    // 2.5 s measured after a 3 s warm-up
    expect(r.config.durationMs).toBe(5500);
    expect(r.config.warmupMs).toBe(3000);
    expect(r.invalidReasons).toEqual(['interrupted after 5.5 s of 8 s; partial result']);
    // seconds 4 and 5 only
    expect(r.generator.workers[0].cpuUs).toBe(1000 * (4 + 5));
    expect(finishRecord(r).summary.durationS).toBe(5.5);
  });

  it('a run cut before any measured second keeps each worker\'s own figures', () => {
    const figures = { cpuUs: 7, eluMean: 0.5, eluMax: 0.6, clients: 10 };
    const parts = [part({}, [1], { figures }), part({}, [1], { figures: { ...figures, cpuUs: 8 } })];
    const r = assembleRecord(facts(), windowInput({ parts, cut: true, endedUs: T0 + 3.2e6 }));
    expect(r.generator.workers).toEqual([figures, { ...figures, cpuUs: 8 }]);
    expect(r.generator.cpuUs).toBe(15);
  });

  it('has no server figures without /proc readings at both edges', () => {
    expect(assembleRecord(facts(), windowInput({ meter: meter({ procFrom: proc(0, MB) }) })).server).toBeNull();
  });

  it('measures RSS per connection from the server\'s RSS before any client connected', () => {
    const m = meter({ procFrom: proc(0, 200 * MB), procTo: proc(0, 300 * MB), rssMax: 310 * MB, openMax: 1000 });
    const r = finishRecord(assembleRecord(facts({ rssBaseline: 100 * MB }), windowInput({ meter: m })));
    expect(r.server).toMatchObject({ rssBytesStart: 100 * MB, rssBytesMax: 310 * MB, openConnectionsMax: 1000 });
    expect(r.summary.serverRssBytesPerConnection).toBe((210 * MB) / 1000);
    // without a baseline, from the window's start; the end's reading when it is the highest
    const m2 = meter({ procFrom: proc(0, 200 * MB), procTo: proc(0, 320 * MB), rssMax: 310 * MB, openMax: 1000 });
    expect(assembleRecord(facts(), windowInput({ meter: m2 })).server).toMatchObject({ rssBytesStart: 200 * MB, rssBytesMax: 320 * MB });
  });

  it('openConnectionsMax is the larger of the sampled maximum and the connections /stats counted at the end', () => {
    const base = { procFrom: proc(0, MB), procTo: proc(0, MB) };
    const atEnd = stats({ open: { ws: 900, sse: 50 } });
    expect(assembleRecord(facts(), windowInput({ meter: meter({ ...base, openMax: 800, statsFrom: stats(), statsTo: atEnd }) })).server!.openConnectionsMax).toBe(950);
    expect(assembleRecord(facts(), windowInput({ meter: meter({ ...base, openMax: 990, statsFrom: stats(), statsTo: atEnd }) })).server!.openConnectionsMax).toBe(990);
  });

  it('server CPU from /stats when both edges have it, else from /proc; a restarted server\'s banked counts are added', () => {
    const procs = { procFrom: proc(1_000_000, MB), procTo: proc(4_000_000, MB) };
    const banked = { stats: { ...zeroStatsDelta(), cpuUs: 500, deliveredTotal: 100 }, cpuUs: 700 };
    const withStats = meter({ ...procs, statsFrom: stats({ cpuUs: 10_000, delivered: 5 }), statsTo: stats({ cpuUs: 12_345, delivered: 65 }) });
    expect(assembleRecord(facts(), windowInput({ meter: withStats, banked })).server).toMatchObject({ cpuUs: 500 + 2345, delivered: 160 });
    expect(assembleRecord(facts(), windowInput({ meter: meter(procs), banked })).server).toMatchObject({ cpuUs: 700 + 3_000_000, delivered: 100 });
  });

  it('a staircase step: its own clients and timeline from its start, its late start a reason', () => {
    const s = settings({ steps: [{ name: 'ws-10c', clients: 10, warmupMs: 1000, measureMs: 2000 }, { name: 'ws-20c', clients: 20, warmupMs: 1000, measureMs: 2000 }] });
    // the second step: starts at t0 + 4 s, measured (5 s, 7 s], closes at 7.5 s
    const window = { name: 'ws-20c', clients: 20, startUs: T0 + 4e6, fromUs: T0 + 5e6, toUs: T0 + 7e6, closeUs: T0 + 7.5e6, warmupMs: 1000, durationMs: 3000 };
    const parts = [part({ delivered: 40 }, [1], { startedByFromUs: 10 }), part({ delivered: 24 }, [1], { startedByFromUs: 6 })];
    const r = assembleRecord(facts({ settings: s }), windowInput({ window, parts }));
    expect(r.name).toBe('ws-20c');
    expect(r.config).toMatchObject({ clients: 20, warmupMs: 1000, durationMs: 3000 });
    // seconds 5…8 of the run (8 is the nearest grid point to the close at 7.5 s), as 1…4 of the step
    expect(r.timeline.map((p) => p.tS)).toEqual([1, 2, 3, 4]);
    expect(r.timeline[0].generatorCpuPct).toBe(5);
    expect(r.generator.workers[0].cpuUs).toBe(1000 * (6 + 7));
    expect(r.invalidReasons).toEqual(['generator fell behind: 16 of the step\'s 20 clients had started when its window opened']);
  });

  it('a closed-loop run says so, with its notes (none is still a list)', () => {
    const r = assembleRecord(facts({ closedLoop: true }), windowInput());
    expect(r.closedLoop).toBe(true);
    expect(r.notes).toEqual([]);
    expect('closedLoop' in assembleRecord(facts(), windowInput())).toBe(false);
    expect('notes' in assembleRecord(facts(), windowInput())).toBe(false);
  });
});

describe('timelineOf', () => {
  it('open connections: each worker\'s latest tick of the second, not the sum of a late tick and the next', () => {
    const b: SecondBucket = emptyBucket();
    // worker 0 was blocked: its late tick (3,000 open) and its on-time one (4,000) fall in one second
    b.ticks.push(tick(0, { tUs: T0 + 4_900_000, open: 3000 }), tick(1, { tUs: T0 + 5_000_000, open: 500 }), tick(0, { tUs: T0 + 5_010_000, open: 4000 }));
    const [p] = timelineOf(new Map([[5, b]]), 0, 5);
    expect(p.openConnections).toBe(4500);
    // deliveries are each tick's own: they add
    expect(p.deliveriesPerS).toBe(3);
  });
});
