/**
 * A Prometheus histogram fed a worker's whole second of deliveries at a time, already counted into
 * its buckets (load/latency-buckets.ts), instead of one observation at a time: prom-client's
 * Histogram counts one value per observe(), which would make the main thread pay per delivery.
 * This one keeps cumulative bucket counts per label set and hands prom-client's registry the same
 * values its own Histogram hands it (`_bucket` per bound and `+Inf`, `_sum`, `_count`), so the
 * registry writes the text.
 *
 * The workers count from their HDR histograms, at their resolution (3 significant digits: a
 * delivery within 0.1 % of a bound may land on either side of it).
 */
import { Histogram, type Registry } from 'prom-client';
import type { LatencyBuckets } from './latency-buckets.ts';

interface Series<T extends string> {
  labels: Record<T, string>;
  /** deliveries at or below each bound, cumulative over the run */
  atOrBelow: Float64Array;
  count: number;
  sumS: number;
}

type Value = { value: number; labels: Record<string, string | number>; metricName: string };

export class BucketHistogram<T extends string> extends Histogram<T> {
  private readonly series = new Map<string, Series<T>>();
  private readonly boundsS: readonly number[];
  private readonly boundsUs: readonly number[];
  private readonly family: { name: string; help: string };

  /** `buckets`: upper bounds in seconds, ascending (without +Inf) */
  constructor(cfg: { name: string; help: string; labelNames: readonly T[]; buckets: readonly number[]; registers: Registry[] }) {
    super({ ...cfg, labelNames: [...cfg.labelNames], buckets: [...cfg.buckets] });
    this.family = { name: cfg.name, help: cfg.help };
    this.boundsS = [...cfg.buckets];
    this.boundsUs = cfg.buckets.map((b) => b * 1e6);
  }

  /** Add a second's bucket counts (over this histogram's bounds) to `labels`' series; returns how many. */
  add(labels: Record<T, string>, { atOrBelow, count, sumUs }: LatencyBuckets): number {
    if (count === 0) return 0;
    if (atOrBelow.length !== this.boundsUs.length) throw new Error(`${this.family.name}: ${atOrBelow.length} bucket counts for ${this.boundsUs.length} bounds`);
    const s = this.seriesOf(labels);
    for (let i = 0; i < atOrBelow.length; i++) s.atOrBelow[i] += atOrBelow[i];
    s.count += count;
    s.sumS += sumUs / 1e6;
    return count;
  }

  /** Make `labels`' series exist (all zero) before any delivery, so rate() has a start. */
  touch(labels: Record<T, string>): void {
    this.seriesOf(labels);
  }

  override async get(): Promise<Awaited<ReturnType<Histogram<T>['get']>>> {
    const { name, help } = this.family;
    const values: Value[] = [];
    for (const s of this.series.values()) {
      const bucket = `${name}_bucket`;
      this.boundsS.forEach((le, i) => values.push({ value: s.atOrBelow[i], labels: { ...s.labels, le }, metricName: bucket }));
      values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: bucket });
      values.push({ value: s.sumS, labels: { ...s.labels }, metricName: `${name}_sum` });
      values.push({ value: s.count, labels: { ...s.labels }, metricName: `${name}_count` });
    }
    return { name, help, type: 'histogram', aggregator: 'sum', values } as unknown as Awaited<ReturnType<Histogram<T>['get']>>;
  }

  /** What the registry reads when it writes the text (prom-client prefers it to get()). */
  getForPromString(): ReturnType<BucketHistogram<T>['get']> {
    return this.get();
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist
    this.series?.clear();
  }

  private seriesOf(labels: Record<T, string>): Series<T> {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels: { ...labels }, atOrBelow: new Float64Array(this.boundsUs.length), count: 0, sumS: 0 }));
    return s;
  }
}
