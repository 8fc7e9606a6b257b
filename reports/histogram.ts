/**
 * HDR histograms as pushbench uses them: µs, 3 significant digits, auto-resizing. Only the
 * encoded form (compressed base64) crosses a thread or process boundary.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** A fresh histogram for µs values (1 µs … auto-resized), 3 significant digits. */
export function createHistogram(): Histogram {
  return hdr.build({
    // 32-bit buckets: 'packed' saves memory but costs ~2× per record and ~10× per decode.
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
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
