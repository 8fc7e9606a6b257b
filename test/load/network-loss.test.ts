/**
 * `--network …,loss=P` end to end: a real sse run through the latency proxy at 10 % loss is valid
 * (a loss's retransmission delay is the proxy's due time, not its lateness), loses no message (TCP
 * loses nothing; the model only delays), shows the held messages in its p99, and counts the lost
 * chunks in the record and its environment line.
 *
 * Runs alone: a delivery latency held between bounds set by the proxy's delay and retransmission delay.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../load/runner.ts';
import { rackDelayMs, retransmitDelayMs } from '../../netem/loss.ts';
import { expectCleanRun, runSettings } from './settings.ts';

// 25 ms, not a LAN's few: the proxy's lateness limit is half the delay (at least 5 ms), and a run
// of ~150 chunks has the 2nd-latest as its p99, so at 5 ms one scheduling gap of a busy VM (5.5 ms
// seen in CI) would make the run invalid
const DELAY_MS = 25;

describe('network loss=', () => {
  it('20 sse clients at 10 % loss: valid, nothing lost, the held messages in p99, the lost chunks counted', async () => {
    const r = await runOnce(runSettings('sse', ['--clients', '20', '--workers', '1', '--network', `delay=${DELAY_MS}ms,loss=10%`,
      '--rate', '5', '--duration', '2s', '--warmup', '500ms', '--no-report']));
    expectCleanRun(r, 1.5, 5, 20);
    expect(r.config.network).toBe(`delay=${DELAY_MS}ms,loss=10%`);
    // ~150 message chunks go down in the 1.5 s window (20 clients × 5 msg/s, one read each): at 10 %
    // none lost has probability 0.9^150 ≈ 1e-7; their count is ~15 ± 4
    expect(r.proxy?.lostChunks).toBeGreaterThan(0);
    expect(r.proxy!.lostChunks!).toBeLessThan(60);
    expect(r.environment.network).toMatch(/ \d+ pieces lost \(held for a retransmission\)/);
    // p99 of ~150 messages is the 2nd slowest: two or more held a retransmission delay (fewer than
    // two of ~150 lost has probability ~3e-6); the other ~90 % come after the delay plus a few ms.
    // A message (~100 B with its SSE framing) is one segment: recovered by the RTO, or sooner by the
    // next message's acknowledgement, which leaves ~200 ms later (5 msg/s; 20 ms allowed for timers)
    const held = Math.min(retransmitDelayMs(100, DELAY_MS), rackDelayMs(200 - 20, DELAY_MS));
    expect(r.summary.latencyUs.p99).toBeGreaterThan((DELAY_MS + held - 1) * 1000);
    expect(r.summary.latencyUs.p50).toBeLessThan((DELAY_MS + 30) * 1000);
  }, 15_000);
});
