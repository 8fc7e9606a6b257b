import { describe, expect, it } from 'vitest';
import { HistogramFeed, createHistogram, decodeHistogram, encodeHistogram, percentiles, type Histogram } from '../../core/histogram.ts';
import { seededRandom } from '../../reports/stats.ts';

/** Everything a report reads from a histogram. */
function figures(h: Histogram) {
  return {
    total: h.totalCount,
    min: h.minNonZeroValue,
    max: h.maxValue,
    mean: h.mean,
    stdDeviation: h.stdDeviation,
    percentiles: [0, 1, 10, 50, 90, 99, 99.9, 99.99, 100].map((p) => h.getValueAtPercentile(p)),
    decoded: percentiles(decodeHistogram(encodeHistogram(h))),
  };
}

describe('HistogramFeed', () => {
  it('gives the same histogram as recording every value directly, across bucket edges, repeated flushes and huge values', () => {
    const r = seededRandom(11);
    // bucket edges of the layout, values past 2^30 (recorded as they come) and past the initial
    // range (auto-resized), and the usual spread of latencies
    const edges = [1, 2, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 65_535, 65_536, 2 ** 29 - 1, 2 ** 29, 2 ** 30 - 1, 2 ** 30, 2 ** 31 + 5, 59_999_999, 60_000_001, 3e9];
    const direct = createHistogram();
    const fed = createHistogram();
    const feed = new HistogramFeed();
    for (let round = 0; round < 5; round++) {
      const values = [...edges];
      for (let k = 0; k < 20_000; k++) values.push(1 + Math.floor(r() ** 3 * 10 ** (1 + r() * 7)));
      for (const v of values) {
        direct.recordValue(v);
        feed.record(v);
      }
      feed.flushInto(fed);
      expect(figures(fed), `round ${round}`).toEqual(figures(direct));
      expect(encodeHistogram(fed)).toBe(encodeHistogram(direct));
    }
  });

  it('counts values below 1 as 1 and starts afresh after a flush', () => {
    const feed = new HistogramFeed();
    feed.record(0);
    feed.record(-5);
    feed.record(1);
    const h = createHistogram();
    feed.flushInto(h);
    expect([h.totalCount, h.minNonZeroValue, h.maxValue]).toEqual([3, 1, 1]);
    feed.flushInto(h);
    expect(h.totalCount).toBe(3);
    feed.record(700);
    feed.flushInto(h);
    expect([h.totalCount, h.maxValue]).toEqual([4, 700]);
  });
});
