/**
 * The rates `compare` and `--assert` judge, defined once. Each is a fraction (0.001 = 0.1 %) of a
 * stated denominator, or null when the denominator is 0 (nothing was attempted). Pure.
 */
import type { ResultRecord } from '../core/record.ts';

type Counted = Pick<ResultRecord, 'summary' | 'counters'>;

const fraction = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

/** Lost messages ÷ expected messages. */
export function lossRate(r: Counted): number | null {
  return fraction(r.summary.lost, r.summary.expected);
}

/**
 * Undelivered messages (published in the window, not arrived by the end of the drain) ÷ expected
 * messages; null when expected did not come from the schedule (undelivered unknown).
 */
export function undeliveredRate(r: Counted): number | null {
  const n = r.summary.undelivered;
  return n === undefined || n === null ? null : fraction(n, r.summary.expected);
}

/** Duplicated messages ÷ delivered messages. */
export function duplicateRate(r: Counted): number | null {
  return fraction(r.summary.duplicates, r.summary.delivered);
}

/** Delivered messages ÷ expected messages. */
export function deliveredRate(r: Counted): number | null {
  return fraction(r.summary.delivered, r.summary.expected);
}

/** Operations that can fail: HTTP requests plus TCP connections opened. */
export function operations(r: Counted): number {
  return r.counters.requests + r.counters.connectionsOpened;
}

/** Errors (every code) ÷ operations (HTTP requests + connections opened). */
export function errorRate(r: Counted): number | null {
  return fraction(r.summary.errors, operations(r));
}
