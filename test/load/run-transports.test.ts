/**
 * Every transport end to end: the real reference server as a pinned child process, real clients
 * on worker threads, real sockets. This is the one place where every transport's plain run is held
 * to "valid, 0 lost, every message counted", and to its reconnect after a cut. Its bounds are
 * counts and whole seconds, which another file's small load beside it does not move
 * (test/lanes.ts); the timing checks of a run are in run.test.ts.
 *
 * Heavy: every transport at 200 clients, half of them cut and reconnecting at once.
 */
import { describe, expect, it } from 'vitest';
import type { TransportName } from '../../core/wire.ts';
import { TRANSPORTS, traitsOf } from '../../load/drivers/index.ts';
import { runOnce } from '../../load/runner.ts';
import { expectCleanRun, runSettings } from './settings.ts';
import { decodeHistogram, percentiles } from '../../core/histogram.ts';

// SSE over HTTP/2 runs over TLS only (test/load/sse-h2.test.ts); these servers speak plain HTTP
const PLAIN = TRANSPORTS.filter((t) => !traitsOf(t).tlsOnly);

/**
 * Requests per delivered message of the transports whose count is known from how they work, at
 * 10 msg/s with the default Δ = 250 ms: a push transport makes none; a long poll is answered once
 * per message (the next poll is back ~1 ms after the answer, the next message 100 ms later);
 * a short poll makes 4 polls a second for 10 messages (0.4). The window's edges add or drop one
 * request per client (200 of ~2,800 short polls, ~7,000 long polls), so ±0.03 around each.
 */
const REQUESTS_PER_MESSAGE: Partial<Record<TransportName, number>> = { ws: 0, sse: 0, 'long-poll': 1, 'short-poll': 0.4 };

describe('pushbench run, every transport (end to end)', () => {
  it.each(PLAIN)('%s: 200 clients — valid, 0 lost, 0 duplicates, every message counted; back at full rate after half its connections are cut', async (transport) => {
    const CLIENTS = 200;
    const s = runSettings(transport, ['--clients', String(CLIENTS), '--duration', '4s', '--warmup', '500ms', '--rate', '10', '--fault', 'cut-connections@2s:50%'], `${transport}-test`);
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
});
