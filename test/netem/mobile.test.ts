/**
 * `--network mobile` end to end: 75 ms ± 15 ms each way and 1.5 Mbit/s per direction per
 * connection through the latency proxy (its own process), with 8 KB messages so the bandwidth
 * cap shows in every delivery. The bounds are the link's: a message cannot arrive sooner than the
 * shortest delay plus the time its bytes take at 1.5 Mbit/s.
 *
 * Runs alone: a p50 within the link's delay bounds and the proxy's lateness limit.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../load/runner.ts';
import { runSettings } from '../load/settings.ts';

describe('--network mobile', () => {
  it('ws through the mobile profile: valid, 0 lost, every delivery delayed and paced by the link', async () => {
    // 20 clients arrive in 20 ms (1,000/s) and each upgrade takes one round trip through the link
    // (at most 2 × 90 ms): 500 ms of warm-up covers both. 1.5 measured seconds give 150 deliveries
    // for the p50, and some 900 segment releases (6 a delivery) for the proxy's lateness p99.
    const r = await runOnce(runSettings('ws', ['--network', 'mobile', '--clients', '20', '--rate', '5', '--payload', '8KB', '--duration', '2s', '--warmup', '500ms'], 'ws-mobile'));
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.summary.lost).toBe(0);
    expect(r.summary.duplicates).toBe(0);
    // 1.5 measured seconds at 5 msg/s to 20 clients, ± one message per client at each edge
    expect(Math.abs(r.summary.delivered - 1.5 * 5 * 20)).toBeLessThanOrEqual(2 * 20);
    expect(r.environment.network).toMatch(/^mobile \(proxy CPU \d+ %/);
    expect(r.proxy!.latenessMs!.p99).toBeLessThanOrEqual(r.proxy!.latenessP99LimitMs);
    // An 8 KB message and its framing (~8.3 KB) take 44 ms at 1.5 Mbit/s (187.5 KB/s); its chunks
    // are held 75 ms ± 15 ms (the proxy releases at most ~1 ms early): no delivery under
    // 60 − 1 + 44 ms. The median chunk is held 75 ms: a p50 above 75 + 15 + 44 ms (+10 ms of
    // scheduling) would mean a cap or delay applied twice.
    const serializationMs = (8192 + 100) / 187_500 * 1000;
    expect(r.summary.latencyUs.p50).toBeGreaterThanOrEqual((60 - 1 + serializationMs) * 1000);
    expect(r.summary.latencyUs.p50).toBeLessThanOrEqual((75 + 15 + serializationMs + 10) * 1000);
    console.log(`mobile: p50 ${(r.summary.latencyUs.p50 / 1000).toFixed(1)} ms, p99 ${(r.summary.latencyUs.p99 / 1000).toFixed(1)} ms (link floor ${(60 - 1 + serializationMs).toFixed(1)} ms)`);
  }, 20_000);
});
