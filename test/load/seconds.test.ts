/**
 * Runs alone: each second's callback within 150 ms of its boundary.
 */
import { describe, expect, it } from 'vitest';
import { everySecond } from '../../load/seconds.ts';
import { nowUs } from '../../core/wire.ts';

/** Where in its second (µs after the grid's boundary) a call at `tUs` fell. */
const phase = (tUs: number, baseUs: number) => (((tUs - baseUs) % 1e6) + 1e6) % 1e6;

describe('everySecond', () => {
  it('calls on the shared grid, and after a blocked second goes on on the grid, skipping what passed', async () => {
    // A grid whose boundaries fall 100 ms from now, as t0 is a fraction of a second away from a
    // timer started at an arbitrary moment: the first call is due after 100 ms, not a whole second.
    const origin = nowUs() + 50_000;
    const offset = 50_000;
    const calls: number[] = [];
    await new Promise<void>((resolve) => {
      const timer = everySecond(origin, offset, () => {
        calls.push(nowUs());
        if (calls.length === 1) {
          // block the loop for 1.3 s: the boundary inside it passes and is not made up
          const until = nowUs() + 1_300_000;
          while (nowUs() < until);
        }
        if (calls.length === 3) {
          timer.stop();
          timer.stop();
          resolve();
        }
      });
    });
    const base = origin + offset;
    // each call just after a boundary (never before it; late by timer slack only). Three calls
    // take every path: the first boundary after the start, the next one after a blocked call
    // (skipping the one passed), and the next one after an unblocked call (one second on).
    for (const t of calls) expect(phase(t, base)).toBeLessThan(150_000);
    const seconds = calls.map((t) => Math.floor((t - base) / 1e6));
    expect(seconds[1]! - seconds[0]!).toBe(2); // the blocked second was skipped
    expect(seconds[2]! - seconds[1]!).toBe(1);
  }, 15_000);

  it('makes no call after stop()', async () => {
    let n = 0;
    // the first boundary 50 ms from now; the wait covers it and the 150 ms a call may be late
    const timer = everySecond(nowUs() + 50_000, 0, () => n++);
    timer.stop();
    await new Promise((r) => setTimeout(r, 250));
    expect(n).toBe(0);
  });
});
