/**
 * End-to-end runs: the real reference server as a pinned child process, real clients on worker
 * threads, real sockets. Small scale for CI; the full figures live in `npm run bench:generator`.
 */
import { describe, expect, it } from 'vitest';
import type { TransportName } from '../../core/wire.ts';
import { TRANSPORTS } from '../../load/drivers/index.ts';
import { runOnce, type RunSettings } from '../../load/runner.ts';
import { runSettings } from './settings.ts';
import { decodeHistogram, percentiles } from '../../core/histogram.ts';


function settings(transport: TransportName, argv: string[]): RunSettings {
  return runSettings(transport, argv, `${transport}-test`);
}

describe('pushbench run (end to end)', () => {
  it.each(TRANSPORTS)('%s: 1,000 clients, 10 s, broadcast at 1 msg/s — valid, 0 lost, 0 duplicates', async (transport) => {
    const s = settings(transport, ['--clients', '1000', '--duration', '10s', '--warmup', '3s', '--rate', '1', '--arrival-rate', '1000/s']);
    const r = await runOnce(s);
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.valid).toBe(true);
    expect(r.complete).toBe(true);
    expect(r.summary.lost).toBe(0);
    expect(r.summary.duplicates).toBe(0);
    // 7 measured seconds at 1 msg/s to 1,000 clients (± one message at the window's edges)
    expect(r.summary.delivered).toBeGreaterThanOrEqual(6000);
    expect(r.summary.delivered).toBeLessThanOrEqual(8000);
    expect(r.summary.expected).toBe(r.summary.delivered);
    expect(r.counters.connectionsOpened).toBeGreaterThanOrEqual(1000);
    expect(r.summary.serverCpuUsPerMessage).toBeGreaterThan(0);
    expect(r.summary.bytesPerMessage).toBeGreaterThan(r.config.payloadBytes);
    expect(r.timeline.length).toBeGreaterThanOrEqual(8);
    expect(r.timeline.some((p) => p.openConnections >= 1000)).toBe(true);
    // The generator's figures cover the measured window, with the stall figure the validity rule
    // judges (a valid run's worst second stayed under 100 ms) in the record and every second.
    const [worker] = r.generator.workers;
    expect(worker.cpuUs).toBeGreaterThan(0);
    expect(worker.loopDelayP99MaxMs).toBeGreaterThan(0);
    expect(worker.loopDelayP99MaxMs).toBeLessThanOrEqual(100);
    expect(r.generator.loopDelayP99MaxMs).toBe(worker.loopDelayP99MaxMs);
    expect(Math.max(...r.timeline.map((p) => p.generatorLoopDelayP99Ms ?? -1))).toBeGreaterThanOrEqual(worker.loopDelayP99MaxMs!);
    // its own GC: opening a thousand connections makes garbage, so the run's seconds show pauses
    // (the measured window at 1 msg/s may have none); the longest is one of those summed
    expect(Math.max(...r.timeline.map((p) => p.generatorGcMaxMs ?? -1))).toBeGreaterThan(0);
    expect(worker.gcMs).toBeGreaterThanOrEqual(0);
    expect(worker.gcMaxMs).toBeGreaterThanOrEqual(0);
    expect(worker.gcMaxMs).toBeLessThanOrEqual(worker.gcMs!);
    expect(r.generator.gcMaxMs).toBe(worker.gcMaxMs);
    expect(Math.max(...r.timeline.map((p) => p.generatorGcMaxMs ?? -1))).toBeGreaterThanOrEqual(worker.gcMaxMs!);
    // and what its CPUs did: about what this process used of them, at least. Not exactly: /proc/stat
    // books each CPU's time by sampling what runs at each scheduler tick (this kernel:
    // TICK_CPU_ACCOUNTING), while a process's utime + stime are scaled to its exact runtime, so a
    // generator whose bursts fall between ticks shows more CPU than its CPUs' busy time (CI on
    // 2026-12-04: busy 184 %-seconds against a bound of 185 at 0.9 ×). What this checks: the load
    // CPUs' busy time is read each second and holds this process's work, give or take the ticks.
    const busy = r.timeline.map((p) => p.loadCpusBusyPct ?? -1);
    expect(Math.max(...busy)).toBeGreaterThan(0);
    expect(busy.reduce((a, x) => a + x, 0)).toBeGreaterThanOrEqual(0.75 * r.timeline.reduce((a, p) => a + p.generatorCpuPct, 0) - 2 * r.timeline.length);
    // every second but the sampler's edges carries the steal share, and it is a share
    const steal = r.timeline.map((p) => p.loadCpusStealPct).filter((x) => typeof x === 'number');
    expect(steal.length).toBeGreaterThanOrEqual(r.timeline.length - 2);
    for (const x of steal) expect(x).toBeGreaterThanOrEqual(0);
    for (const x of steal) expect(x).toBeLessThanOrEqual(101);
  }, 60_000);

  it('short polling at Δ = 250 ms delivers with median staleness near Δ/2', async () => {
    const s = settings('short-poll', ['--clients', '100', '--duration', '8s', '--warmup', '2s', '--rate', '20', '--poll-interval', '250ms']);
    const r = await runOnce(s);
    expect(r.invalidReasons.join('; ')).toBe('');
    const p50 = r.summary.latencyUs.p50;
    expect(p50).toBeGreaterThan(125_000 * 0.9);
    expect(p50).toBeLessThan(125_000 * 1.1);
    expect(r.summary.requestsPerMessage).toBeGreaterThan(0);
  }, 60_000);

  it.each(['sse', 'ws'] as const)('%s: the server\'s --delay 20 comes out as itself (p50 grows by 20 ms ± 1 ms)', async (transport) => {
    // The injected delay must come out as itself; what is left is the transport's own latency
    // on this machine (its floor, measured by the same run without the delay).
    const argv = ['--clients', '50', '--duration', '6s', '--warmup', '2s', '--rate', '20'];
    const base = await runOnce(settings(transport, argv));
    const delayed = await runOnce(settings(transport, [...argv, '--delay', '20']));
    expect(base.invalidReasons.join('; ')).toBe('');
    expect(delayed.invalidReasons.join('; ')).toBe('');
    expect(Math.abs(delayed.summary.latencyUs.p50 - base.summary.latencyUs.p50 - 20_000)).toBeLessThan(1000);
    expect(delayed.summary.latencyUs.p50).toBeGreaterThanOrEqual(20_000 - 500);
  }, 90_000);

  it('short polls at --poll-interval 0 are a closed-loop run: a full event loop is noted, not invalid', async () => {
    const s = settings('short-poll', ['--clients', '20', '--duration', '4s', '--warmup', '1s', '--rate', '10', '--poll-interval', '0']);
    const r = await runOnce(s);
    expect(r.closedLoop).toBe(true);
    expect(r.counters.requests).toBeGreaterThan(1000);
    expect(r.invalidReasons.filter((x) => x.includes('saturated'))).toEqual([]);
    // Back-to-back polls keep the one worker's loop busy; when it was full, a note says so.
    for (const note of r.notes ?? []) expect(note).toMatch(/^closed loop/);
    expect(r.summary.lost).toBe(0);
  }, 60_000);

  it('long polling records request latency, corrected and raw', async () => {
    const s = settings('long-poll', ['--clients', '50', '--duration', '5s', '--warmup', '1s', '--rate', '10']);
    const r = await runOnce(s);
    expect(r.invalidReasons.join('; ')).toBe('');
    const corrected = percentiles(decodeHistogram(r.histograms.requestUs));
    const raw = percentiles(decodeHistogram(r.histograms.requestRawUs));
    expect(corrected.count).toBeGreaterThan(100);
    expect(raw.count).toBe(corrected.count);
    expect(r.summary.requestsPerMessage).toBeGreaterThan(0.9);
  }, 60_000);
});
