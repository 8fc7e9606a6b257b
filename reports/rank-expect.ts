/**
 * What requests per delivered message should be, from the workload alone, beside what each cell
 * measured (docs/ranking.md derives the formulas). The reference server publishes each topic on a
 * fixed period T = 1/rate; Δ is the short-poll period, R the network's round trip.
 *
 * - A transport polling on a fixed schedule makes 1/Δ requests a second for `rate` messages:
 *   1/(rate·Δ) requests per message, whatever the round trip.
 * - A held (long) poll is answered by the next message and sent again one round trip later. While
 *   R < T the new poll is waiting before the next message: 1 request per message. Once R ≥ T the
 *   messages published during the round trip wait and go out together, one response every R:
 *   1/(rate·R). So min(1, 1/(rate·R)).
 * - A stream (no per-message request) makes none: 0.
 *
 * The short/long-poll crossover follows: with R < Δ long polling makes fewer requests per message
 * exactly when rate < 1/Δ. Pure.
 */
import type { TransportName } from '../core/wire.ts';
import { traitsOf } from '../load/drivers/index.ts';
import type { CellRanking, GridCell, GridRanking } from './rank-grid.ts';
import type { StepMap } from './rank-map.ts';

/** The expected requests per message of `transport` in a cell, and the formula with its numbers. */
export function expectedRequestsPerMessage(transport: TransportName, ratePerS: number, pollIntervalMs: number, rttMs: number): { value: number; model: string } | null {
  if (!(ratePerS > 0)) return null;
  const traits = traitsOf(transport);
  if (traits.pollInterval) {
    if (!(pollIntervalMs > 0)) return null;
    return { value: 1000 / (ratePerS * pollIntervalMs), model: `1/(rate·Δ) = 1/(${ratePerS}/s · ${pollIntervalMs} ms)` };
  }
  if (traits.longPollTimeout) {
    const batch = (ratePerS * rttMs) / 1000;
    return batch > 1
      ? { value: 1 / batch, model: `1/(rate·RTT) = 1/(${ratePerS}/s · ${rttMs} ms)` }
      : { value: 1, model: `1 (rate·RTT = ${Number(batch.toFixed(3))} < 1)` };
  }
  return { value: 0, model: '0 (one stream, no request per message)' };
}

/** One transport's measured requests per message in one cell against the expectation. */
export interface RequestExpectation extends GridCell {
  transport: TransportName;
  expected: number;
  model: string;
  measured: number | null;
  lo: number | null;
  hi: number | null;
  /** the expectation lies within the measured 95 % interval; null without an interval */
  within: boolean | null;
  /** measured / expected − 1; null when expected is 0 or nothing was measured */
  deviation: number | null;
}

function cellExpectations(cell: CellRanking): RequestExpectation[] {
  const m = cell.ranking.metrics.find((x) => x.metric.key === 'requestsPerMessage');
  if (!m) return [];
  const { network, ratePerS, clients, rttMs } = cell;
  const order = (t: TransportName) => { const i = cell.ranking.claimedOrder.indexOf(t); return i < 0 ? Infinity : i; };
  return [...m.ranked].sort((a, b) => order(a.transport) - order(b.transport)).flatMap((e) => {
    const x = expectedRequestsPerMessage(e.transport, ratePerS, cell.pollIntervalMs, rttMs);
    if (x === null) return [];
    const within = e.lo === null || e.hi === null ? null : e.lo <= x.value && x.value <= e.hi;
    const deviation = e.mean === null || x.value === 0 ? null : e.mean / x.value - 1;
    return [{ network, ratePerS, clients, rttMs, transport: e.transport, expected: x.value, model: x.model, measured: e.mean, lo: e.lo, hi: e.hi, within, deviation }];
  });
}

/** Measured against expected for every polling transport of every cell (streams, expected 0, are left out). */
export function requestExpectations(grid: GridRanking): RequestExpectation[] {
  return grid.cells.flatMap(cellExpectations).filter((x) => x.expected > 0);
}

/**
 * The rate at which the periodic poll and the held poll make as many requests per message: 1/Δ
 * when the round trip is shorter than Δ; null when it is not (the held poll then makes no more at
 * any rate) or without a period.
 */
export function expectedRequestCrossover(pollIntervalMs: number, rttMs: number): number | null {
  return pollIntervalMs > 0 && rttMs < pollIntervalMs ? 1000 / pollIntervalMs : null;
}

/** A measured flip of the polls' requests-per-message step along the rate axis, against the formula's crossover. */
export interface CrossoverCheck {
  along: string;
  /** the rates of the two grid points the flip lies between, ascending */
  between: [number, number];
  /** the formula's crossover rate; null when none is expected */
  expected: number | null;
  /** the expected rate lies between the two measured points */
  consistent: boolean;
}

/**
 * Each rate-axis flip of the requests-per-message step from a held poll to a periodic one (the
 * step the claim orders long polling > short polling), checked against {@link expectedRequestCrossover}.
 */
export function crossoverChecks(map: readonly StepMap[], grid: GridRanking): CrossoverCheck[] {
  const step = map.find((s) => s.metric === 'requestsPerMessage' && traitsOf(s.better).longPollTimeout && traitsOf(s.worse).pollInterval);
  if (!step) return [];
  return step.crossovers.filter((c) => c.axis === 'rate').map((c) => {
    const lo = Math.min(c.fromCell.ratePerS, c.toCell.ratePerS);
    const hi = Math.max(c.fromCell.ratePerS, c.toCell.ratePerS);
    const cell = grid.cells.find((x) => x.network === c.fromCell.network && x.clients === c.fromCell.clients && x.pollIntervalMs > 0);
    const expected = cell ? expectedRequestCrossover(cell.pollIntervalMs, cell.rttMs) : null;
    return { along: c.along, between: [lo, hi], expected, consistent: expected !== null && lo < expected && expected < hi };
  });
}
