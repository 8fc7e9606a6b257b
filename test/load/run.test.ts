/**
 * End-to-end runs: the real reference server as a pinned child process, real clients on worker
 * threads, real sockets. Small scale for CI; the full figures live in `npm run bench:generator`,
 * the latency comparisons in `npm run bench:delay` and the other bench scripts.
 *
 * This is the one place where every transport's plain run is held to "valid, 0 lost, every
 * message counted" (the profile tests hold the profile path to it, not the native one again).
 */
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { TransportName } from '../../core/wire.ts';
import { TRANSPORTS, traitsOf } from '../../load/drivers/index.ts';
import { runOnce, type RunSettings } from '../../load/runner.ts';
import { expectCleanRun, runSettings } from './settings.ts';
import { decodeHistogram, percentiles } from '../../core/histogram.ts';

// SSE over HTTP/2 runs over TLS only (test/load/sse-h2.test.ts); these servers speak plain HTTP
const PLAIN = TRANSPORTS.filter((t) => !traitsOf(t).tlsOnly);

/** CPUs in a taskset list such as "1" or "0-1,3"; null (not pinned): every CPU. */
function cpusIn(list: string | null | undefined): number {
  if (!list) return cpus().length;
  return list.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a + 1);
  }, 0);
}

function settings(transport: TransportName, argv: string[]): RunSettings {
  return runSettings(transport, argv, `${transport}-test`);
}

/**
 * Requests per delivered message of the transports whose count is known from how they work, at
 * 10 msg/s with the default Δ = 250 ms: a push transport makes none; a long poll is answered once
 * per message (the next poll is back ~1 ms after the answer, the next message 100 ms later);
 * a short poll makes 4 polls a second for 10 messages (0.4). The window's edges add or drop one
 * request per client (200 of ~2,800 short polls, ~7,000 long polls), so ±0.03 around each.
 */
const REQUESTS_PER_MESSAGE: Partial<Record<TransportName, number>> = { ws: 0, sse: 0, 'long-poll': 1, 'short-poll': 0.4 };

describe('pushbench run (end to end)', () => {
  it.each(PLAIN)('%s: 200 clients — valid, 0 lost, 0 duplicates, every message counted; back at full rate after half its connections are cut', async (transport) => {
    const CLIENTS = 200;
    const s = settings(transport, ['--clients', String(CLIENTS), '--duration', '4s', '--warmup', '500ms', '--rate', '10', '--fault', 'cut-connections@2s:50%']);
    const r = await runOnce(s);
    expect(r.complete).toBe(true);
    // 3.5 measured seconds at 10 msg/s to 200 clients
    expectCleanRun(r, 3.5, 10, CLIENTS);
    expect(r.summary.serverCpuUsPerMessage).toBeGreaterThan(0);
    expect(r.summary.bytesPerMessage).toBeGreaterThan(r.config.payloadBytes);
    expect(r.timeline.some((p) => p.openConnections === CLIENTS)).toBe(true);
    const known = REQUESTS_PER_MESSAGE[transport];
    if (known !== undefined) {
      expect(r.summary.requestsPerMessage).toBeGreaterThanOrEqual(known - 0.03);
      expect(r.summary.requestsPerMessage).toBeLessThanOrEqual(known + 0.03);
    }
    // request latency, corrected and raw, one of each per request
    const corrected = percentiles(decodeHistogram(r.histograms.requestUs));
    const raw = percentiles(decodeHistogram(r.histograms.requestRawUs));
    expect(raw.count).toBe(corrected.count);
    if (r.summary.requestsPerMessage > 0) expect(corrected.count).toBeGreaterThan(r.summary.delivered * r.summary.requestsPerMessage * 0.9);

    // The cut: half the connections dropped by the server, nothing lost on resume.
    const [f] = r.faults!;
    expect(f.injected).toMatch(/cut \d+ connections/);
    expect(f.lost).toBe(0);
    if (traitsOf(transport).pollInterval) {
      // A short poll's idle keep-alive socket dies unnoticed: the next poll just opens a new one.
      expect(r.counters.connectionsOpened).toBeGreaterThanOrEqual(CLIENTS + CLIENTS / 4);
    } else {
      expect(f.disconnects).toBeGreaterThanOrEqual(CLIENTS / 4);
      expect(f.reconnectUs.count).toBeGreaterThanOrEqual(f.disconnects);
    }
    // Every cut client is back within its first reconnect wait (the generator's backoff starts at
    // 100 ms; an SSE client waits the server's retry: 1 s) and resumes from the replay ring, so
    // the first whole second after that runs at full rate again: 2 s after the cut at most.
    expect(f.rateBackAfterS).not.toBeNull();
    expect(f.rateBackAfterS!).toBeGreaterThanOrEqual(1);
    expect(f.rateBackAfterS!).toBeLessThanOrEqual(2);
  }, 30_000);

  it('ws, 1,000 clients: the generator\'s own figures (CPU, stalls, GC, its CPUs\' busy and steal time) cover the measured window', async () => {
    const s = settings('ws', ['--clients', '1000', '--duration', '3s', '--warmup', '1500ms', '--rate', '10', '--arrival-rate', '1000/s']);
    const r = await runOnce(s);
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.summary.lost).toBe(0);
    expect(r.counters.connectionsOpened).toBe(1000);
    expect(r.timeline.some((p) => p.openConnections === 1000)).toBe(true);
    // The record's generator figures are the measured window's seconds (tS in (1.5, 3]), taken
    // from the same per-second ticks as the timeline: the worst second's stall and the longest GC
    // pause must be exactly the timeline's over those seconds.
    const [worker] = r.generator.workers;
    const window = r.timeline.filter((p) => p.tS > 1.5 && p.tS <= 3);
    expect(window.length).toBe(2);
    expect(worker.cpuUs).toBeGreaterThan(0);
    expect(worker.loopDelayP99MaxMs).toBeGreaterThan(0);
    expect(worker.loopDelayP99MaxMs).toBeLessThanOrEqual(100); // a valid run's worst second
    expect(worker.loopDelayP99MaxMs).toBe(Math.max(...window.map((p) => p.generatorLoopDelayP99Ms!)));
    expect(r.generator.loopDelayP99MaxMs).toBe(worker.loopDelayP99MaxMs);
    expect(worker.gcMaxMs).toBe(Math.max(0, ...window.map((p) => p.generatorGcMaxMs!)));
    expect(worker.gcMs).toBeGreaterThanOrEqual(worker.gcMaxMs!);
    expect(r.generator.gcMaxMs).toBe(worker.gcMaxMs);
    // Opening a thousand connections makes garbage: the run's seconds show GC pauses (the
    // measured window may have none).
    expect(Math.max(...r.timeline.map((p) => p.generatorGcMaxMs ?? -1))).toBeGreaterThan(0);
    // What its CPUs did: about what this process used of them, at least. Not exactly: /proc/stat
    // books each CPU's time by the scheduler tick (this kernel: TICK_CPU_ACCOUNTING), while a
    // process's utime + stime are scaled to its exact runtime, so a generator whose bursts fall
    // between ticks shows more CPU than its CPUs' busy time.
    const busy = r.timeline.map((p) => p.loadCpusBusyPct ?? -1);
    expect(Math.max(...busy)).toBeGreaterThan(0);
    expect(busy.reduce((a, x) => a + x, 0)).toBeGreaterThanOrEqual(0.75 * r.timeline.reduce((a, p) => a + p.generatorCpuPct, 0) - 2 * r.timeline.length);
    // Every second but the sampler's edges carries busy and steal shares of the load CPUs, and
    // together they fit in those CPUs: 100 % each, plus one 10 ms tick (USER_HZ) at each edge of
    // a 1 s sample. Counting another CPU's time, or a counter's total instead of its change,
    // breaks this.
    const loadCpus = cpusIn(r.environment.loadCpus);
    const sampled = r.timeline.filter((p) => typeof p.loadCpusStealPct === 'number' && typeof p.loadCpusBusyPct === 'number');
    expect(sampled.length).toBeGreaterThanOrEqual(r.timeline.length - 2);
    for (const p of sampled) {
      expect(p.loadCpusStealPct!).toBeGreaterThanOrEqual(0);
      expect(p.loadCpusBusyPct! + p.loadCpusStealPct!).toBeLessThanOrEqual(loadCpus * 102);
    }
  }, 30_000);

  it('short polling at Δ = 250 ms and 20 msg/s: median staleness near Δ/2, 0.2 requests per message', async () => {
    const s = settings('short-poll', ['--clients', '100', '--duration', '3500ms', '--warmup', '1s', '--rate', '20', '--poll-interval', '250ms']);
    const r = await runOnce(s);
    expect(r.invalidReasons.join('; ')).toBe('');
    // Each client's polls fall at a random phase of the 50 ms publish grid, so a message waits a
    // uniform [0, Δ) for the next poll: median Δ/2 = 125 ms (± 10 %: 100 clients' phases).
    const p50 = r.summary.latencyUs.p50;
    expect(p50).toBeGreaterThan(125_000 * 0.9);
    expect(p50).toBeLessThan(125_000 * 1.1);
    // 4 polls a second for 20 messages; the window's edges add or drop one of a client's 10 polls.
    expect(r.summary.requestsPerMessage).toBeGreaterThanOrEqual(0.18);
    expect(r.summary.requestsPerMessage).toBeLessThanOrEqual(0.22);
  }, 30_000);

  it('the server\'s --delay 20 holds every delivery 20 ms (sse, against the same run without it)', async () => {
    // Coarse on purpose (the ±1 ms accuracy is `npm run bench:delay`): no delivery can come
    // sooner than its 20 ms hold, and a hold applied twice or per batch would add another 20 ms;
    // 10 ms of margin is half that, where the idle server's timers are late by well under 1 ms.
    const argv = ['--clients', '50', '--duration', '1500ms', '--warmup', '500ms', '--rate', '20'];
    const base = await runOnce(settings('sse', argv));
    const delayed = await runOnce(settings('sse', [...argv, '--delay', '20']));
    expect(base.invalidReasons.join('; ')).toBe('');
    expect(delayed.invalidReasons.join('; ')).toBe('');
    expect(delayed.summary.latencyUs.p50).toBeGreaterThanOrEqual(20_000);
    expect(delayed.summary.latencyUs.p50).toBeLessThanOrEqual(base.summary.latencyUs.p50 + 20_000 + 10_000);
  }, 30_000);

  it('short polls at --poll-interval 0 are a closed-loop run: a full event loop is noted, not invalid', async () => {
    const s = settings('short-poll', ['--clients', '20', '--duration', '1500ms', '--warmup', '500ms', '--rate', '10', '--poll-interval', '0']);
    const r = await runOnce(s);
    expect(r.closedLoop).toBe(true);
    // back to back on loopback: a poll takes well under a millisecond, so 20 clients make
    // thousands a second (a fixed schedule at the default Δ would make 80)
    expect(r.counters.requests).toBeGreaterThan(1000);
    expect(r.invalidReasons.filter((x) => x.includes('saturated'))).toEqual([]);
    // Back-to-back polls keep the one worker's loop busy; when it was full, a note says so.
    for (const note of r.notes ?? []) expect(note).toMatch(/^closed loop/);
    expect(r.summary.lost).toBe(0);
  }, 30_000);
});
