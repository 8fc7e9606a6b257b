/**
 * load/gc-meter.ts: a worker's GC pauses per second, from perf_hooks' `gc` entries. Garbage made
 * here must show up as pauses; a meter that stopped counts nothing more.
 *
 * Heavy: it makes garbage on purpose, for several scavenges in a row.
 */
import { describe, expect, it } from 'vitest';
import { gcMeter } from '../../load/gc-meter.ts';

/** Enough short-lived objects for several scavenges (V8's young generation is a few MB). */
function makeGarbage(): number {
  let keep = 0;
  for (let round = 0; round < 50; round++) {
    const xs = Array.from({ length: 50_000 }, (_, i) => ({ i, s: `x${i}` }));
    keep += xs.length;
  }
  return keep;
}

const entriesDelivered = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('gcMeter', () => {
  it('sums the pauses since the last take, with the longest, and starts afresh', async () => {
    const meter = gcMeter();
    try {
      meter.take();
      expect(makeGarbage()).toBe(2_500_000);
      await entriesDelivered();
      const a = meter.take();
      expect(a.gcMs).toBeGreaterThan(0);
      expect(a.gcMaxMs).toBeGreaterThan(0);
      expect(a.gcMaxMs).toBeLessThanOrEqual(a.gcMs);
      // well under the wall time the garbage took to make: pauses, not the whole loop
      expect(a.gcMs).toBeLessThan(10_000);
    } finally {
      meter.stop();
    }
  });

  it('counts nothing once stopped', async () => {
    const meter = gcMeter();
    meter.stop();
    makeGarbage();
    await entriesDelivered();
    expect(meter.take()).toEqual({ gcMs: 0, gcMaxMs: 0 });
  });
});
