/**
 * bench:generator's rate searches (bench/ladder.ts): where a search ends, that a rate is measured
 * once, that two searches take turns, and the figures read over rounds. The measurements here are
 * a threshold function of the rate — the searches' logic, not a network, is under test (the real
 * runs are bench:generator's own, too long for CI).
 */
import { describe, expect, it } from 'vitest';
import { costRatios, memo, oneAtATime, overRounds, roundFigure, search, spread, type Measured, type Side } from '../../bench/ladder.ts';

/** A step of `side` at `rate` for 1,000 subscribers that keeps up below `limit` msg/s per topic. */
function step(side: Side, rate: number, limit: number, usPerDelivery = 10): Measured {
  const offeredPerS = 1000 * rate;
  return { side, ratePerS: rate, offeredPerS, achievedPerS: offeredPerS, keepsUp: rate < limit, genCpuPct: (offeredPerS * usPerDelivery) / 1e4 };
}

async function searchFor(limit: number, start = 50, refine = 4, maxRate = 100_000): Promise<{ best: number; rates: number[] }> {
  const steps: Measured[] = [];
  await search(start, maxRate, refine, memo(steps, async (r) => step('pushbench', r, limit)), (x) => x.keepsUp);
  return { best: Math.max(0, ...steps.filter((x) => x.keepsUp).map((x) => x.ratePerS)), rates: steps.map((x) => x.ratePerS) };
}

describe('bench:generator rate search', () => {
  it('doubles from the start, then bisects geometrically towards the threshold', async () => {
    const { best, rates } = await searchFor(130);
    expect(rates.slice(0, 3)).toEqual([50, 100, 200]);
    expect(rates).toHaveLength(3 + 4);
    // four bisections of [100, 200] leave the answer within a factor 2^(1/16) of the threshold
    expect(best).toBeLessThan(130);
    expect(best).toBeGreaterThanOrEqual(130 / 2 ** (1 / 16) - 1);
  });

  it('halves when the start already fails, and stops at the cap or at 1 msg/s', async () => {
    expect((await searchFor(30)).rates.slice(0, 2)).toEqual([50, 25]);
    const capped = await searchFor(Infinity, 50, 4, 300);
    expect(capped.rates).toEqual([50, 100, 200, 300]);
    expect(capped.best).toBe(300);
    const never = await searchFor(0);
    expect(never.best).toBe(0);
    expect(never.rates.at(-1)).toBe(1);
  });

  it('measures a rate once however often it is asked for, and counts steps given to it as taken', async () => {
    let runs = 0;
    const steps: Measured[] = [step('bare', 80, 100)];
    const at = memo(steps, async (r) => {
      runs++;
      return step('bare', r, 100);
    });
    await Promise.all([at(50), at(50), at(80)]);
    expect(runs).toBe(1);
    expect(steps.map((x) => x.ratePerS)).toEqual([80, 50]);
  });

  it('interleaves two searches step by step', async () => {
    const order: string[] = [];
    const turn = oneAtATime();
    const measure = (side: Side, limit: number) => async (r: number) =>
      turn(async () => {
        order.push(`${side}@${r}`);
        await new Promise((resolve) => setTimeout(resolve, side === 'pushbench' ? 5 : 1));
        return step(side, r, limit);
      });
    await Promise.all([
      search(50, 1000, 1, measure('pushbench', 90), (x) => x.keepsUp),
      search(50, 1000, 1, measure('bare', 150), (x) => x.keepsUp),
    ]);
    expect(order.slice(0, 6)).toEqual(['pushbench@50', 'bare@50', 'pushbench@100', 'bare@100', 'pushbench@71', 'bare@200']);
  });

  it('reads a ratio per round and the median over rounds, with the range', () => {
    const round = (pbLimit: number, bareLimit: number) => [
      step('pushbench', pbLimit - 1, pbLimit, 12), step('pushbench', pbLimit + 1, pbLimit),
      step('bare', pbLimit - 1, bareLimit, 10), step('bare', bareLimit - 1, bareLimit), step('bare', bareLimit + 1, bareLimit),
    ];
    expect(roundFigure(round(80, 100))).toEqual({ pb: 79_000, bare: 99_000, ratio: 79 / 99 });
    const o = overRounds([round(80, 100), round(100, 100), round(60, 100)]);
    expect(o.ratio.median).toBeCloseTo(79 / 99, 12);
    expect(o.ratio.min).toBeCloseTo(59 / 99, 12);
    expect(o.ratio.max).toBeCloseTo(1, 12);
    expect(o.ratio.n).toBe(3);
    expect(o.pb.median).toBe(79_000);
    // work per delivery only where both sides kept up at the same offer: 10 µs bare vs 12 µs pushbench
    expect(costRatios(round(80, 100))).toEqual([{ offeredPerS: 79_000, ratio: 10 / 12 }]);
    expect(o.cost.median).toBeCloseTo(10 / 12, 12);
    expect(o.cost.n).toBe(3);
    // a round where the bare client never kept up has no ratio; no rounds, no median
    expect(roundFigure([step('bare', 50, 0)]).ratio).toBeNull();
    expect(spread([])).toEqual({ median: null, min: null, max: null, n: 0 });
    expect(spread([3, 1, 2, 4]).median).toBe(2.5);
  });
});
