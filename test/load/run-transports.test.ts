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

const CLIENTS = 200;
const RATE = 10;
/** the cut, s from the run's start: the rate-back's baseline is the whole second before it after warm-up + 1 s (1.5 … 2 s) */
const CUT_S = 2;

/**
 * Requests per delivered message of the transports whose count is known from how they work, at
 * 10 msg/s with the default Δ = 250 ms: a push transport makes none; a long poll is answered once
 * per message (the next poll is back ~1 ms after the answer, the next message 100 ms later);
 * a short poll makes 4 polls a second for 10 messages (0.4). The window's edges add or drop one
 * request per client against RATE × measured s messages a client, so ±1 / (RATE × measured s)
 * around each (±0.04 over 2.5 s: 200 of 2,000 short polls at 0.4, of 5,000 long polls at 1).
 */
const REQUESTS_PER_MESSAGE: Partial<Record<TransportName, number>> = { ws: 0, sse: 0, 'long-poll': 1, 'short-poll': 0.4 };

/**
 * Whole seconds after the cut until a second at full rate: a cut client is back within its first
 * reconnect wait — the generator's backoff, 100 ms ± 20 %, or an SSE client's server retry, 1 s
 * ± 20 % — and resumes from the replay ring, which hands it what it missed at once. So the first
 * whole second after the cut is at full rate again, or for SSE the second after it (in the first,
 * the cut half is away 0.8–1.2 s). The run ends with that second: its window is no longer.
 */
const RATE_BACK_S: Partial<Record<TransportName, number>> = { sse: 2 };

describe('pushbench run, every transport (end to end)', () => {
  it.each(PLAIN)('%s: 200 clients — valid, 0 lost, 0 duplicates, every message counted; back at full rate after half its connections are cut', async (transport) => {
    const backS = RATE_BACK_S[transport] ?? 1;
    const durationS = CUT_S + backS;
    const s = runSettings(transport, ['--clients', String(CLIENTS), '--duration', `${durationS}s`, '--warmup', '500ms', '--rate', String(RATE), '--fault', `cut-connections@${CUT_S}s:50%`], `${transport}-test`);
    const r = await runOnce(s);
    expect(r.complete).toBe(true);
    // the measured seconds (all but the 0.5 s warm-up) at 10 msg/s to 200 clients
    const measuredS = durationS - 0.5;
    expectCleanRun(r, measuredS, RATE, CLIENTS);
    expect(r.summary.serverCpuUsPerMessage).toBeGreaterThan(0);
    expect(r.summary.bytesPerMessage).toBeGreaterThan(r.config.payloadBytes);
    expect(r.timeline.some((p) => p.openConnections === CLIENTS)).toBe(true);
    const known = REQUESTS_PER_MESSAGE[transport];
    if (known !== undefined) {
      const edge = 1 / (RATE * measuredS);
      expect(r.summary.requestsPerMessage).toBeGreaterThanOrEqual(known - edge);
      expect(r.summary.requestsPerMessage).toBeLessThanOrEqual(known + edge);
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
    // back at full rate by the whole second RATE_BACK_S says, the window's last (rate-back is read
    // from the whole seconds after the cut: 1 s at the least)
    expect(f.rateBackAfterS).not.toBeNull();
    expect(f.rateBackAfterS!).toBeGreaterThanOrEqual(1);
    expect(f.rateBackAfterS!).toBeLessThanOrEqual(backS);
  }, 30_000);
});
