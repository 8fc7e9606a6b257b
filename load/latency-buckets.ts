/**
 * The delivery-latency buckets of the live metrics (load/metrics.ts): each worker counts its
 * second's deliveries into them when it ticks (load/recorder.ts takeInterval), so the main thread
 * adds numbers instead of decoding a histogram every second.
 */

/** Upper bounds, seconds: sub-millisecond loopback to multi-second stalls (+Inf is implied). */
export const LATENCY_BUCKETS_S: readonly number[] = Object.freeze([0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

export const LATENCY_BUCKETS_US: readonly number[] = Object.freeze(LATENCY_BUCKETS_S.map((s) => Math.round(s * 1e6)));

/** A second's deliveries in the buckets: at or below each bound, their count and latency sum (µs). */
export interface LatencyBuckets {
  atOrBelow: number[];
  count: number;
  sumUs: number;
}
