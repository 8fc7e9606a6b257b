/**
 * The rate searches of `npm run bench:generator` part 2 ("deliveries per second one generator core
 * absorbs"), kept apart from the script so they can be tested: a doubling-then-bisecting search,
 * a memo that runs each rate once, a turn-taker that interleaves two searches step by step, and
 * the figures read from the steps — per round, and the median over rounds.
 *
 * Why rounds: one search per side gives a max-rate ratio that moved by ±0.15 between runs on this
 * project's VM (docs/generator-bench.md, "How steady one search is"): the keep-up rule is a threshold, and near
 * it a step's verdict turns on a few percent of the machine's speed, which drifts by up to 25 %
 * over minutes. Independent rounds, each interleaving the two sides, give a ratio per round
 * (drift within a round falls on both sides) and the median over rounds is the headline, printed
 * with its range so a reader sees how far one round can be from it.
 */
import { quantileSorted } from '../reports/stats.ts';

export type Side = 'pushbench' | 'bare';

/** What a search needs to know of one measurement. */
export interface Measured {
  side: Side;
  ratePerS: number;
  offeredPerS: number;
  achievedPerS: number;
  /** the headline rule: delivered enough, lost nothing, and the thread's loop was not full */
  keepsUp: boolean;
  /** generator CPU over the window, % of one core (null when unknown) */
  genCpuPct: number | null;
}

/**
 * The highest rate at which `measure` passes `ok`: from `startRate`, double while it passes (halve
 * while it does not), then bisect (geometrically) `refine` times between the best passing and the
 * lowest failing rate, never above `maxRate`. `measure` is memoized by the caller ({@link memo}),
 * which also keeps every step taken, so a rate is run once however many searches ask for it.
 */
export async function search<S>(startRate: number, maxRate: number, refine: number, measure: (ratePerS: number) => Promise<S>, ok: (x: S) => boolean): Promise<void> {
  const round = (r: number) => Math.max(1, Math.round(r));
  let pass: number | undefined;
  let fail: number | undefined;
  let rate = Math.min(maxRate, round(startRate));
  for (;;) {
    const passed = ok(await measure(rate));
    if (passed) pass = Math.max(pass ?? 0, rate);
    else fail = Math.min(fail ?? Infinity, rate);
    if (pass !== undefined && fail !== undefined) break;
    if (passed && rate >= maxRate) return;
    if (!passed && rate <= 1) return;
    rate = passed ? Math.min(maxRate, rate * 2) : round(rate / 2);
  }
  for (let i = 0; i < refine; i++) {
    const mid = round(Math.sqrt(pass! * fail!));
    if (mid <= pass! || mid >= fail!) break;
    if (ok(await measure(mid))) pass = mid;
    else fail = mid;
  }
}

/**
 * `measure` run at most once per rate; every step taken is appended to `steps`. Steps already in
 * `steps` count as taken (a search that continues another's is not run again at its rates).
 */
export function memo<S extends { ratePerS: number }>(steps: S[], measure: (ratePerS: number) => Promise<S>): (ratePerS: number) => Promise<S> {
  const seen = new Map<number, Promise<S>>(steps.map((x) => [x.ratePerS, Promise.resolve(x)]));
  return (rate) => {
    let st = seen.get(rate);
    if (!st) {
      st = measure(rate).then((x) => {
        steps.push(x);
        return x;
      });
      seen.set(rate, st);
    }
    return st;
  };
}

/**
 * Runs the tasks it is given one at a time, in the order they were given. Two searches sharing one
 * then take turns step by step: on a machine whose speed drifts over minutes (a VM's neighbours),
 * the drift falls on both sides of a ratio alike instead of on whichever side ran second.
 */
export function oneAtATime(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>) => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** The best figure of a side under `ok`; `failedAt` is the lowest offered rate it failed at, if any. */
export function best<S extends Measured>(steps: readonly S[], side: Side, ok: (x: S) => boolean = (x) => x.keepsUp): { perS: number; failedAt: S | undefined } {
  const mine = steps.filter((x) => x.side === side);
  const perS = Math.max(0, ...mine.filter(ok).map((x) => x.achievedPerS));
  const failed = mine.filter((x) => !ok(x)).sort((a, b) => a.offeredPerS - b.offeredPerS);
  return { perS, failedAt: failed[0] };
}

/**
 * At each offered rate both sides ran and kept up at: the bare client's generator CPU per delivery
 * over pushbench's (1.0: pushbench spends what the bare client does). The max-rate ratio moves
 * with the machine's speed during each search step; these pairs are measured back to back.
 */
export function costRatios(steps: readonly Measured[]): { offeredPerS: number; ratio: number }[] {
  const perDelivery = (x: Measured | undefined) => (x && x.keepsUp && x.genCpuPct !== null && x.achievedPerS > 0 ? x.genCpuPct / x.achievedPerS : null);
  const at = (side: Side, offered: number) => steps.find((x) => x.side === side && x.offeredPerS === offered);
  const offers = [...new Set(steps.map((x) => x.offeredPerS))].sort((a, b) => a - b);
  const pairs: { offeredPerS: number; ratio: number }[] = [];
  for (const offered of offers) {
    const pb = perDelivery(at('pushbench', offered));
    const bare = perDelivery(at('bare', offered));
    if (pb !== null && bare !== null) pairs.push({ offeredPerS: offered, ratio: bare / pb });
  }
  return pairs;
}

/** Median and range of some figures; null median when there are none. */
export interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  n: number;
}

export function spread(xs: readonly number[]): Spread {
  const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: null, min: null, max: null, n: 0 };
  return { median: quantileSorted(sorted, 0.5), min: sorted[0]!, max: sorted.at(-1)!, n: sorted.length };
}

/** One round's headline: each side's best rate under the keep-up rule and their ratio. */
export interface RoundFigure {
  pb: number;
  bare: number;
  /** pb ÷ bare; null when the bare client kept up at no rate */
  ratio: number | null;
}

export function roundFigure(steps: readonly Measured[]): RoundFigure {
  const pb = best(steps, 'pushbench').perS;
  const bare = best(steps, 'bare').perS;
  return { pb, bare, ratio: bare > 0 ? pb / bare : null };
}

/**
 * The figures over rounds: the median of the per-round ratios (each round's two searches ran
 * interleaved, so each ratio is a paired figure), the sides' median rates, and the work per
 * delivery over every offer both sides kept up at in any round.
 */
export function overRounds(rounds: readonly (readonly Measured[])[]): { figures: RoundFigure[]; ratio: Spread; pb: Spread; bare: Spread; cost: Spread } {
  const figures = rounds.map(roundFigure);
  return {
    figures,
    ratio: spread(figures.flatMap((f) => (f.ratio === null ? [] : [f.ratio]))),
    pb: spread(figures.map((f) => f.pb)),
    bare: spread(figures.map((f) => f.bare)),
    cost: spread(rounds.flatMap((steps) => costRatios(steps).map((c) => c.ratio))),
  };
}
