import { describe, expect, it } from 'vitest';
import {
  bootstrapCi, incompleteBeta, mannWhitney, mean, meanCi, normalCdf, quantileSorted, relativeChange, sampleSd,
  seededRandom, slopeCi, tCdf, tQuantile,
} from '../../reports/stats.ts';

describe('descriptive statistics', () => {
  it('mean and sample sd', () => {
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
    // the textbook set: population sd 2, sample sd sqrt(32/7)
    expect(sampleSd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(sampleSd([3])).toBeNaN();
    expect(mean([])).toBeNaN();
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
  });
});

describe('distributions', () => {
  it('matches the t table (two-sided 95 %: 0.975 quantiles) for df 1–30 and beyond', () => {
    const table: [number, number][] = [
      [1, 12.7062047], [2, 4.3026527], [3, 3.1824463], [4, 2.7764451], [5, 2.5705818], [9, 2.2621572],
      [10, 2.2281389], [20, 2.0859634], [29, 2.0452296], [30, 2.0422725], [100, 1.9839715], [1e6, 1.959966],
    ];
    for (const [df, t] of table) expect(tQuantile(0.975, df)).toBeCloseTo(t, 5);
    expect(tQuantile(0.95, 5)).toBeCloseTo(2.0150484, 6);
    expect(tQuantile(0.025, 3)).toBeCloseTo(-3.1824463, 6);
    expect(tQuantile(0.5, 7)).toBe(0);
    expect(tCdf(tQuantile(0.99, 4), 4)).toBeCloseTo(0.99, 10);
    // df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/π
    expect(tCdf(3, 1)).toBeCloseTo(0.5 + Math.atan(3) / Math.PI, 12);
  });

  it('incomplete beta and normal CDF agree with closed forms', () => {
    // I_x(1, b) = 1 − (1 − x)^b ; I_x(a, 1) = x^a
    expect(incompleteBeta(0.3, 1, 4)).toBeCloseTo(1 - 0.7 ** 4, 12);
    expect(incompleteBeta(0.6, 3, 1)).toBeCloseTo(0.6 ** 3, 12);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
  });
});

describe('confidence intervals', () => {
  it('gives mean ± t·sd/√n', () => {
    const e = meanCi([10, 12, 14]);
    // sd = 2, t(0.975, 2) = 4.3026527, half-width = 4.3026527 · 2 / √3 = 4.968275
    expect(e.mean).toBe(12);
    expect(e.lo!).toBeCloseTo(12 - 4.968275, 5);
    expect(e.hi!).toBeCloseTo(12 + 4.968275, 5);
  });

  it('gives no interval for a single value, never a fake one', () => {
    expect(meanCi([7])).toEqual({ n: 1, mean: 7, sd: null, lo: null, hi: null, level: 0.95 });
    expect(bootstrapCi([7]).lo).toBeNull();
  });

  it('bootstrap is deterministic for a seed and close to the t interval for a large sample', () => {
    const random = seededRandom(42);
    const xs = Array.from({ length: 200 }, () => 100 + 20 * (random() + random() + random() - 1.5));
    const a = bootstrapCi(xs, { seed: 7 });
    const b = bootstrapCi(xs, { seed: 7 });
    const c = bootstrapCi(xs, { seed: 8 });
    expect(a).toEqual(b);
    expect(c.lo).not.toBe(a.lo);
    const t = meanCi(xs);
    expect(a.lo!).toBeLessThan(a.mean);
    expect(a.hi!).toBeGreaterThan(a.mean);
    expect(Math.abs(a.lo! - t.lo!) / (t.hi! - t.lo!)).toBeLessThan(0.05);
    expect(Math.abs(a.hi! - t.hi!) / (t.hi! - t.lo!)).toBeLessThan(0.05);
    expect(bootstrapCi(xs, { seed: 7, statistic: (s) => Math.max(...s) }).hi).toBe(Math.max(...xs));
  });
});

describe('Mann-Whitney U', () => {
  it('exact p-values from the null distribution', () => {
    // completely separated 3 vs 3: 1 arrangement in C(6,3) = 20 per side
    expect(mannWhitney([1, 2, 3], [4, 5, 6])).toEqual({ u: 0, p: 0.1, exact: true });
    expect(mannWhitney([1, 2, 4], [3, 5, 6]).p).toBeCloseTo(0.2, 12);
    // 4 vs 4 separated: 2/70; 5 vs 5: 2/252
    expect(mannWhitney([5, 6, 7, 8], [1, 2, 3, 4]).p).toBeCloseTo(2 / 70, 12);
    expect(mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p).toBeCloseTo(2 / 252, 12);
  });

  it('matches the scipy documentation example, exact and asymptotic', () => {
    const males = [19, 22, 16, 29, 24];
    const females = [20, 11, 17, 12];
    const exact = mannWhitney(males, females);
    expect(exact.u).toBe(17);
    expect(exact.p).toBeCloseTo(0.1111111111, 9);
    expect(mannWhitney(males, females, 'normal').p).toBeCloseTo(0.11134688653314041, 6);
  });

  it('uses the tie-corrected normal approximation when values tie', () => {
    const a = [1, 2, 2, 3];
    const b = [2, 3, 4, 5];
    // U by hand (pairs a > b, ties ½): 1 → 0, 2 → ½, 2 → ½, 3 → 1 + ½; U = 2.5, mean 8
    // ties: {2,2,2} t=3 → 24, {3,3} t=2 → 6; var = 16/12 · (9 − 30/56) = 11.2857; z = (5.5 − 0.5)/3.3594
    const r = mannWhitney(a, b);
    expect(r.exact).toBe(false);
    expect(r.u).toBe(2.5);
    expect(r.p).toBeCloseTo(2 * (1 - normalCdf(5 / Math.sqrt((16 / 12) * (9 - 30 / 56)))), 10);
    expect(r.p).toBeCloseTo(0.1366, 3);
    expect(mannWhitney([3, 3], [3, 3]).p).toBe(1);
  });
});

describe('relative change', () => {
  it('reports the change of the mean with a bootstrap interval that is reproducible', () => {
    const base = [100, 102, 98, 101, 99];
    const cur = [125, 127, 123, 126, 124];
    const r = relativeChange(base, cur, { seed: 3 });
    expect(r.change).toBeCloseTo(0.25, 12);
    expect(r.lo!).toBeGreaterThan(0.2);
    expect(r.hi!).toBeLessThan(0.3);
    expect(r.lo!).toBeLessThan(0.25);
    expect(r.hi!).toBeGreaterThan(0.25);
    expect(r.p).toBeCloseTo(2 / 252, 12);
    expect(relativeChange(base, cur, { seed: 3 })).toEqual(r);
  });

  it('straddles zero for two samples of the same distribution, and has no interval from one value', () => {
    const r = relativeChange([100, 103, 97], [101, 98, 102]);
    expect(r.lo!).toBeLessThan(0);
    expect(r.hi!).toBeGreaterThan(0);
    expect(relativeChange([100], [120, 121])).toMatchObject({ lo: null, hi: null });
  });
});

describe('slopeCi', () => {
  it('recovers a known slope, and its interval covers it', () => {
    const rand = seededRandom(7);
    const xs = Array.from({ length: 200 }, (_, i) => i / 10);
    const ys = xs.map((x) => 3 + 2 * x + (rand() - 0.5));
    const e = slopeCi(xs, ys);
    expect(e.slope).toBeCloseTo(2, 1);
    expect(e.lo!).toBeLessThan(2);
    expect(e.hi!).toBeGreaterThan(2);
    expect(e.hi! - e.lo!).toBeLessThan(0.05);
  });

  it('widens the interval for autocorrelated noise (a sawtooth), not only for white noise', () => {
    const xs = Array.from({ length: 120 }, (_, i) => i);
    // a flat series with a slow sawtooth: consecutive residuals are strongly correlated
    const ys = xs.map((x) => (x % 30) * 10);
    const e = slopeCi(xs, ys);
    expect(e.residualAutocorrelation).toBeGreaterThan(0.8);
    expect(e.effectiveN).toBeLessThan(20);
    // the textbook interval (independent residuals), computed by hand
    const mx = mean(xs);
    const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    const ssr = xs.reduce((a, x, i) => a + (ys[i] - (e.intercept + e.slope * x)) ** 2, 0);
    const naiveHalf = tQuantile(0.975, xs.length - 2) * Math.sqrt(ssr / (xs.length - 2) / sxx);
    expect((e.hi! - e.lo!) / 2).toBeGreaterThan(2 * naiveHalf);
    expect(e.lo!).toBeLessThan(0);
    expect(e.hi!).toBeGreaterThan(0);
  });

  it('gives no interval below three points', () => {
    expect(slopeCi([1, 2], [1, 2]).lo).toBeNull();
  });
});
