import { describe, expect, it } from 'vitest';
import { Backoff, BACKOFF_JITTER } from '../../../load/drivers/backoff.ts';

describe('Backoff', () => {
  it('doubles from min to max and resets', () => {
    const b = new Backoff(100, 1000, () => 0.5); // 0.5 → no jitter
    expect([1, 2, 3, 4, 5, 6].map(() => b.nextDelayMs())).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.nextDelayMs()).toBe(100);
  });

  it('jitters each wait within ±20 %', () => {
    expect(new Backoff(100, 1000, () => 0).nextDelayMs()).toBeCloseTo(100 * (1 - BACKOFF_JITTER));
    expect(new Backoff(100, 1000, () => 0.999_999).nextDelayMs()).toBeCloseTo(100 * (1 + BACKOFF_JITTER), 3);
  });

  it('takes a new first wait (SSE retry) clamped to the cap', () => {
    const b = new Backoff(100, 1000, () => 0.5);
    b.setMinMs(300);
    expect(b.nextDelayMs()).toBe(300); // applies at once: no wait taken yet
    b.setMinMs(5000);
    expect(b.nextDelayMs()).toBe(600); // mid-sequence: from the next reset
    b.reset();
    expect(b.nextDelayMs()).toBe(1000);
  });
});
