/**
 * HDR histograms as pushbench uses them: µs, 3 significant digits, auto-resizing. Only the
 * encoded form (compressed base64) crosses a thread or process boundary.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/**
 * The one histogram configuration of every record: values in µs, 1 µs … 60 s (auto-resized
 * beyond), 3 significant digits. A scale-out plan pins it, so every shard's histograms add exactly.
 */
export const HISTOGRAM_CONFIG = Object.freeze({ unit: 'us', lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, significantDigits: 3 } as const);

/** A fresh histogram for µs values ({@link HISTOGRAM_CONFIG}). */
export function createHistogram(): Histogram {
  return hdr.build({
    // 32-bit buckets: 'packed' saves memory but costs ~2× per record and ~10× per decode.
    bitBucketSize: 32,
    lowestDiscernibleValue: HISTOGRAM_CONFIG.lowestDiscernibleValue,
    highestTrackableValue: HISTOGRAM_CONFIG.highestTrackableValue,
    numberOfSignificantValueDigits: HISTOGRAM_CONFIG.significantDigits,
    autoResize: true,
    useWebAssembly: false,
  });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/**
 * How many values of `h` lie at or below each bound (µs, ascending), and their count and sum (µs):
 * one pass over its recorded values (a few hundred a second's histogram holds), at the histogram's
 * resolution (a value within its 3 significant digits of a bound counts as at it).
 */
export function countsAtOrBelow(h: Histogram, boundsUs: readonly number[]): { atOrBelow: number[]; count: number; sumUs: number } {
  const atOrBelow = boundsUs.map(() => 0);
  let count = 0;
  let sumUs = 0;
  const js = h as unknown as hdr.JsHistogram;
  const it = js.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    const n = v.countAtValueIteratedTo;
    const value = js.lowestEquivalentValue(v.valueIteratedTo);
    count += n;
    sumUs += js.medianEquivalentValue(v.valueIteratedTo) * n;
    for (let i = boundsUs.length - 1; i >= 0 && value <= boundsUs[i]; i--) atOrBelow[i] += n;
  }
  return { atOrBelow, count, sumUs };
}

export function decodeHistogram(encoded: string): Histogram {
  const h = createHistogram();
  if (encoded) h.add(hdr.decodeFromCompressedBase64(encoded, 32, false));
  return h;
}

/** Sum of encoded histograms, encoded again (the merge of the result record). */
export function addEncoded(encoded: string[]): string {
  const h = createHistogram();
  for (const e of encoded) if (e) h.add(hdr.decodeFromCompressedBase64(e, 32, false));
  return encodeHistogram(h);
}

export interface Percentiles {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function percentiles(h: Histogram): Percentiles {
  const n = h.totalCount;
  if (n === 0) return { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: n,
    min: h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
    mean: h.mean,
  };
}

/** sub-buckets per bucket at 3 significant digits (2048) as a power of two, halved: HDR's subBucketHalfCountMagnitude */
const HALF_MAGNITUDE = 10;
const HALF_COUNT = 1 << HALF_MAGNITUDE;
/** values from here on go to the histogram itself (its range and auto-resizing) */
const FEED_LIMIT = 2 ** 30;
/** buckets below {@link FEED_LIMIT}: bucket b holds values up to 2^(b + 11) */
const FEED_LIMIT_BUCKETS = 30 - HALF_MAGNITUDE;

/**
 * A front for {@link createHistogram}'s histograms on a hot path: `record(v)` counts an integer
 * value in HDR's own bucket layout (1 µs lowest, 3 significant digits) with integer arithmetic
 * only, and `flushInto(h)` adds the counts to `h` once, at each touched bucket's lowest value —
 * the same counts at the same indices as recording every value into `h`, so every percentile,
 * the max and the encoded histogram come out identical (test/reports/histogram.test.ts).
 *
 * Why: hdr-histogram-js's `recordValue` finds a value's bucket with Math.log2, Math.pow and a
 * division, once per delivery in every worker; this is integer arithmetic and an array store.
 *
 * Values below 1 are counted as 1 (as the recorder clamps them); values of 2^30 and more go to
 * `h` as they come (at flush, in order).
 */
export class HistogramFeed {
  private readonly counts = new Int32Array((FEED_LIMIT_BUCKETS + 1) * HALF_COUNT);
  /** indices whose count went from 0, in the order they did */
  private touched = new Int32Array(1024);
  private touchedCount = 0;
  private big: number[] = [];

  record(value: number): void {
    if (!(value < FEED_LIMIT)) {
      this.big.push(value);
      return;
    }
    const v = value >= 1 ? value | 0 : 1;
    const bucket = Math.max(0, 21 - Math.clz32(v));
    const i = ((bucket + 1) << HALF_MAGNITUDE) + (v >>> bucket) - HALF_COUNT;
    if (this.counts[i]++ === 0) {
      if (this.touchedCount === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2);
        grown.set(this.touched);
        this.touched = grown;
      }
      this.touched[this.touchedCount++] = i;
    }
  }

  /** Adds every value recorded since the last flush to `h` and starts afresh. */
  flushInto(h: Histogram): void {
    const counts = this.counts;
    for (let k = 0; k < this.touchedCount; k++) {
      const i = this.touched[k]!;
      let bucket = (i >> HALF_MAGNITUDE) - 1;
      let sub = (i & (HALF_COUNT - 1)) + HALF_COUNT;
      if (bucket < 0) {
        sub -= HALF_COUNT;
        bucket = 0;
      }
      h.recordValueWithCount(sub * 2 ** bucket, counts[i]!);
      counts[i] = 0;
    }
    this.touchedCount = 0;
    for (const v of this.big) h.recordValue(v);
    this.big = [];
  }
}
