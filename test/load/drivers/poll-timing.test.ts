/**
 * The poll drivers' timing against the real reference server on port 0: a short poll plans its
 * requests on a fixed grid Δ apart and sees messages Δ/2 stale on average; polls at Δ = 0 and long
 * polls are re-issued at once.
 *
 * Runs alone: planned send times held to ±1 ms, and re-issue within 20 ms.
 */
import { describe, expect, it } from 'vitest';
import { driverFor } from '../../../load/drivers/index.ts';
import type { ClientSpec } from '../../../load/drivers/types.ts';
import { nowUs } from '../../../core/wire.ts';
import { contractSpec, EventLog, serverWithProxy, waitFor } from './helpers.ts';

const env = serverWithProxy({ ratePerS: 20, topics: 4, payloadBytes: 16, ringSize: 1000, heartbeatMs: 500, sseRetryMs: 150 });

function spec(overrides: Partial<ClientSpec> = {}): ClientSpec {
  return contractSpec(env.server.url, overrides);
}

describe('short-poll schedule', () => {
  it('polls on a fixed grid Δ apart and sees messages Δ/2 stale on average', async () => {
    // Δ shares no factor with the publisher's 50 ms period, so staleness samples spread over [0, Δ).
    const intervalMs = 73;
    const log = new EventLog();
    const client = driverFor('short-poll').create(spec({ topic: 't0', pollIntervalMs: intervalMs, pollOffsetMs: 30 }), log);
    const startUs = nowUs();
    client.start();
    await waitFor(() => log.requests.length >= 20, '20 polls');
    await client.close();
    const planned = log.requests.map((r) => r.plannedUs);
    expect(planned[0] - startUs).toBeGreaterThanOrEqual(30_000 - 1000);
    expect(planned[0] - startUs).toBeLessThan(30_000 + 1000);
    for (let i = 1; i < planned.length; i++) expect(planned[i] - planned[i - 1]).toBeCloseTo(intervalMs * 1000, 3);
    for (const r of log.requests) {
      expect(r.doneUs).toBeGreaterThan(r.sentUs);
      expect(r.sentUs - r.plannedUs).toBeLessThan(50_000); // timer slack on a shared 2-core box
    }
    const staleUs = log.messages.map((m) => m.recvUs - m.msg.ts).sort((a, b) => a - b);
    expect(staleUs.length).toBeGreaterThanOrEqual(20);
    const medianUs = staleUs[staleUs.length >> 1];
    expect(medianUs).toBeGreaterThan(0.3 * intervalMs * 1000);
    expect(medianUs).toBeLessThan(0.7 * intervalMs * 1000);
  });

  it('polls back to back when Δ = 0 (planned = sent)', async () => {
    const log = new EventLog();
    const client = driverFor('short-poll').create(spec({ topic: 't0', pollIntervalMs: 0 }), log);
    client.start();
    await waitFor(() => log.requests.length >= 50, '50 polls');
    await client.close();
    for (const r of log.requests) expect(r.plannedUs).toBe(r.sentUs);
    for (let i = 1; i < log.requests.length; i++) expect(log.requests[i].sentUs).toBeGreaterThanOrEqual(log.requests[i - 1].doneUs);
  });
});

describe('long-poll requests', () => {
  it('reports planned = sent and re-issues at once', async () => {
    const log = new EventLog();
    const client = driverFor('long-poll').create(spec({ topic: 't0' }), log);
    client.start();
    await waitFor(() => log.requests.length >= 4, '4 long polls');
    await client.close();
    for (const r of log.requests) expect(r.plannedUs).toBe(r.sentUs);
    for (let i = 1; i < log.requests.length; i++) expect(log.requests[i].sentUs - log.requests[i - 1].doneUs).toBeLessThan(20_000);
  });
});
