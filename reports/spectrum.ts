/**
 * The delivery latency percentile spectrum (HDR style): the latency at percentiles spaced evenly on
 * a log axis of 1/(1−p), from p0 to p99.999, computed in one pass over the histogram's counts.
 */
import type { JsHistogram } from 'hdr-histogram-js';
import { decodeHistogram, type Histogram } from '../core/histogram.ts';
import { variantOf, type ReportRun } from './runs.ts';

/** The percentiles the spectrum plots, as 1/(1−p): 10 steps per decade from p0 (1) to p99.999 (1e5). */
export const SPECTRUM_STEPS: readonly number[] = Array.from({ length: 51 }, (_, i) => 10 ** (i / 10));

export interface SpectrumPoint {
  run: string;
  transport: string;
  /** plain, tls, … (runs.ts variantOf) */
  variant: string;
  /** 1/(1−p): 1 is p0, 10 is p90, 100 is p99 … */
  inverse: number;
  /** percentile, 0…100 */
  percentile: number;
  latencyMs: number;
}

/** Unit in the last place of a positive double. */
function ulp(x: number): number {
  return x > 0 ? 2 ** (Math.floor(Math.log2(x)) - 52) : Number.MIN_VALUE;
}

/**
 * The values at ascending percentiles (0…100), exactly as `getValueAtPercentile` gives each, but in
 * one pass over the counts instead of one pass per percentile. µs in, µs out.
 */
export function valuesAtPercentiles(histogram: Histogram, ascending: readonly number[]): number[] {
  const h = histogram as unknown as JsHistogram;
  if (typeof h.getCountAtIndex !== 'function') return ascending.map((p) => histogram.getValueAtPercentile(p));
  const total = h.totalCount;
  const out: number[] = [];
  let k = 0;
  let cumulative = 0;
  for (let i = 0; i < h.countsArrayLength && k < ascending.length; i++) {
    cumulative += h.getCountAtIndex(i);
    for (;;) {
      const p = Math.min(ascending[k], 100);
      const fp = (p / 100) * total;
      if (cumulative < Math.max(Math.ceil(fp - ulp(fp)), 1)) break;
      const v = h.valueFromIndex(i);
      out.push(p === 0 ? h.lowestEquivalentValue(v) : h.highestEquivalentValue(v));
      if (++k === ascending.length) break;
    }
  }
  while (out.length < ascending.length) out.push(0);
  return out;
}

/** Points of one run's delivery latency spectrum (none when it delivered nothing). Pure. */
export function spectrumPoints(run: ReportRun): SpectrumPoint[] {
  const h = decodeHistogram(run.record.histograms.deliveryUs);
  if (h.totalCount === 0) return [];
  const percentiles = SPECTRUM_STEPS.map((inverse) => 100 * (1 - 1 / inverse));
  const values = valuesAtPercentiles(h, percentiles);
  return SPECTRUM_STEPS.map((inverse, i) => ({
    run: run.label, transport: run.record.config.transport, variant: variantOf(run.record), inverse, percentile: percentiles[i], latencyMs: values[i] / 1000,
  }));
}
