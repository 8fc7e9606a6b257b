/**
 * The counters' arithmetic: every counter of a result record sums under merge (threads,
 * processes, shards), and error tallies add by code.
 */
import type { Counters } from './record-schema.ts';

export function emptyCounters(): Counters {
  return {
    expected: 0, delivered: 0, lost: 0, duplicates: 0, outOfOrder: 0, resets: 0, requests: 0,
    emptyResponses: 0, connectionsOpened: 0, reconnects: 0, published: 0, bytesRead: 0,
    bytesWritten: 0, payloadBytesDelivered: 0, foreign: 0, errors: {},
  };
}

/**
 * a + b, field by field (errors by code); an optional counter absent from both stays absent, one
 * absent from one side counts 0 there. Pure.
 */
export function addCounters(a: Counters, b: Counters): Counters {
  const out = emptyCounters();
  for (const k of Object.keys(out) as (keyof Counters)[]) {
    if (k === 'errors') continue;
    (out[k] as number) = ((a[k] as number | undefined) ?? 0) + ((b[k] as number | undefined) ?? 0);
  }
  if (a.undelivered !== undefined || b.undelivered !== undefined) out.undelivered = (a.undelivered ?? 0) + (b.undelivered ?? 0);
  for (const src of [a.errors, b.errors]) {
    for (const [code, n] of Object.entries(src)) out.errors[code] = (out.errors[code] ?? 0) + n;
  }
  return out;
}

export function totalErrors(c: Counters): number {
  return Object.values(c.errors).reduce((s, n) => s + n, 0);
}

/** Counts by key (`errors`-like tallies), added up. Pure. */
export function addCounts(parts: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts) for (const [k, n] of Object.entries(p)) out[k] = (out[k] ?? 0) + n;
  return out;
}
