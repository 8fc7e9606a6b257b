/**
 * The gate's statistics at the sample sizes it is run with, checked by simulation: seeded draws
 * from known distributions, so every figure is deterministic. An A/A draw (both sides from one
 * distribution) must have its 95 % interval miss the true change of 0 about 5 % of the time, no
 * more; a paired design must keep that under a drift far larger than the spread; the
 * Benjamini–Hochberg step must keep a whole comparison of many figures near one test's rate.
 *
 * Bounds: with N draws at a true rate of 5 %, the observed rate has sd √(0.05·0.95/N); a bound of
 * 5 % + 3 sd fails a correct method about once in 700 runs, never for a seed fixed here. Welch's t
 * is an approximation: at equal spreads (what an A/A comparison has) it is conservative, and at
 * very unequal spreads with 3 runs a side it misses a little more than 5 % (the last case below).
 *
 * Heavy: thousands of simulated comparisons, each with its own t quantiles.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapCi, seededRandom } from '../../reports/stats.ts';
import { benjaminiHochberg, detectableAbove, interval, pAbove, pairedDifference, pTwoSided, welchDifference } from '../../gate/change-stats.ts';

function normals(seed: number): () => number {
  const rnd = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

const logNormal = (z: () => number, n: number, sd: number, shift = 0) => Array.from({ length: n }, () => Math.exp(3 + shift + sd * z()));
const bound = (draws: number) => 0.05 + 3 * Math.sqrt((0.05 * 0.95) / draws);

/** The share of `draws` A/A comparisons whose 95 % interval misses 0. */
function missRate(draws: number, seed: number, make: (z: () => number) => [number[], number[]], paired = false): number {
  const z = normals(seed);
  let miss = 0;
  for (let i = 0; i < draws; i++) {
    const [b, c] = make(z);
    const x = paired ? pairedDifference(b, c, true)! : welchDifference(b, c, true)!;
    const [lo, hi] = interval(x, 0.95);
    if (lo > 0 || hi < 0) miss++;
  }
  return miss / draws;
}

describe('Welch t on log values: coverage at the gate\'s sample sizes', () => {
  it('A/A, 3 runs a side, equal spread: misses ~5 % (a little less: Welch is conservative here)', () => {
    const rate = missRate(2000, 1, (z) => [logNormal(z, 3, 0.1), logNormal(z, 3, 0.1)]);
    expect(rate).toBeLessThan(bound(2000));
    // not a vacuous interval either: the exact t test with 4 df would miss 5 %; Welch's df lie in [2, 4]
    expect(rate).toBeGreaterThan(0.02);
  });

  it('A/A, 5 runs a side: misses ~5 %', () => {
    const rate = missRate(2000, 2, (z) => [logNormal(z, 5, 0.3), logNormal(z, 5, 0.3)]);
    expect(rate).toBeLessThan(bound(2000));
    expect(rate).toBeGreaterThan(0.03);
  });

  it('spreads 8:1 apart with 3 runs a side: within 1.5 points of 5 % (the approximation\'s known excess)', () => {
    const rate = missRate(4000, 3, (z) => [logNormal(z, 3, 0.05), logNormal(z, 3, 0.4)]);
    expect(rate).toBeLessThan(0.065 + 3 * Math.sqrt((0.065 * 0.935) / 4000));
  });

  it('the percentile bootstrap it replaces misses 5 times as often at 3 runs (why it went)', () => {
    const z = normals(4);
    let miss = 0;
    for (let i = 0; i < 1000; i++) {
      const e = bootstrapCi([z(), z(), z()], { seed: i + 1, resamples: 2000 });
      if (e.lo! > 0 || e.hi! < 0) miss++;
    }
    // 3 values have 10 distinct resamples: the interval is about the sample's range
    expect(miss / 1000).toBeGreaterThan(0.2);
  });

  it('a set drift known from calibration is added to the variance: A/A sets with a drift between them keep ~5 %', () => {
    // each set's mean moves by a drift of sd 0.2 that its 3 repeats (sd 0.05) never see
    const z = normals(5);
    let plain = 0;
    let withDrift = 0;
    const draws = 2000;
    for (let i = 0; i < draws; i++) {
      const b = logNormal(z, 3, 0.05, 0.2 * z());
      const c = logNormal(z, 3, 0.05, 0.2 * z());
      const [lo, hi] = interval(welchDifference(b, c, true)!, 0.95);
      if (lo > 0 || hi < 0) plain++;
      const [lo2, hi2] = interval(welchDifference(b, c, true, 0.2)!, 0.95);
      if (lo2 > 0 || hi2 < 0) withDrift++;
    }
    expect(plain / draws).toBeGreaterThan(0.5);
    expect(withDrift / draws).toBeLessThan(bound(draws));
  });
});

describe('paired t on log ratios: the drift falls out', () => {
  it('A/A pairs under a drift 6× the spread: misses ~5 % at 3 and at 5 pairs', () => {
    for (const [n, seed] of [[3, 6], [5, 7]] as const) {
      const rate = missRate(2000, seed, (z) => {
        const drift = Array.from({ length: n }, () => 0.3 * z());
        return [drift.map((d) => Math.exp(3 + d + 0.05 * z())), drift.map((d) => Math.exp(3 + d + 0.05 * z()))];
      }, true);
      expect(rate).toBeLessThan(bound(2000));
      expect(rate).toBeGreaterThan(0.03);
    }
  });

  it('catches +30 % at 5 pairs of a 5 % spread with a 15 % threshold where Welch over the drifting sets cannot', () => {
    const z = normals(8);
    let paired = 0;
    let welch = 0;
    const t = Math.log1p(0.15);
    for (let i = 0; i < 500; i++) {
      const drift = Array.from({ length: 5 }, () => 0.3 * z());
      const b = drift.map((d) => Math.exp(3 + d + 0.05 * z()));
      const c = drift.map((d) => Math.exp(3 + Math.log(1.3) + d + 0.05 * z()));
      if (pAbove(pairedDifference(b, c, true)!, t) < 0.025) paired++;
      if (pAbove(welchDifference(b, c, true)!, t) < 0.025) welch++;
    }
    // the pair differences have sd 0.05·√2 ≈ 0.071: (ln 1.3 − ln 1.15)/(0.071/√5) ≈ 3.9 against t(0.975, 4) = 2.78
    expect(paired / 500).toBeGreaterThan(0.6);
    expect(welch / 500).toBeLessThan(0.1);
  });
});

describe('p-values and the detectable change agree with the interval', () => {
  it('one-sided p < 0.025 exactly when the 95 % interval lies above the bound; two-sided p of no change', () => {
    const z = normals(9);
    for (let i = 0; i < 300; i++) {
      const x = welchDifference(logNormal(z, 3, 0.1), logNormal(z, 4, 0.1, 0.1), true)!;
      const [lo, hi] = interval(x, 0.95);
      expect(pAbove(x, 0.05) < 0.025).toBe(lo > 0.05);
      expect(pTwoSided(x) < 0.05).toBe(lo > 0 || hi < 0);
      // at the detectable change a single test (α = 0.025) just rejects
      expect(pAbove({ ...x, d: detectableAbove(x, 0.05, 0.025) + 1e-9 }, 0.05)).toBeLessThan(0.025);
      expect(pAbove({ ...x, d: detectableAbove(x, 0.05, 0.025) - 1e-6 }, 0.05)).toBeGreaterThan(0.025);
    }
  });

  it('both sides constant: exact, p 0 or 1; fewer than 2 values or a value ≤ 0 on logs: no test', () => {
    expect(welchDifference([136, 136, 136], [136, 136, 136], true)).toEqual({ test: 'exact', d: 0, se: 0, df: Infinity });
    const x = welchDifference([0, 0, 0], [0.01, 0.01, 0.01], false)!;
    expect(x).toMatchObject({ test: 'exact', d: 0.01 });
    expect(pAbove(x, 0.001)).toBe(0);
    expect(pAbove(x, 0.02)).toBe(1);
    expect(welchDifference([1], [2, 3], true)).toBeNull();
    expect(welchDifference([0, 1], [2, 3], true)).toBeNull();
    expect(pairedDifference([1], [2], true)).toBeNull();
  });
});

describe('Benjamini–Hochberg: one comparison of many figures fails about as often as one test', () => {
  it('matches the textbook adjustment', () => {
    const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.005]);
    expect(q).toEqual([0.02, 0.04, 0.04, 0.02]);
  });

  it('A/A over 16 figures (4 transports × p50, p99, CPU, bytes) at α = 0.025: any rejection in ≤ 2.5 % + 3 sd of comparisons', () => {
    const z = normals(10);
    const draws = 1000;
    let anyAdjusted = 0;
    let anyRaw = 0;
    for (let i = 0; i < draws; i++) {
      const ps = Array.from({ length: 16 }, () => pAbove(welchDifference(logNormal(z, 3, 0.1), logNormal(z, 3, 0.1), true)!, Math.log1p(0.0)));
      if (benjaminiHochberg(ps).some((q) => q < 0.025)) anyAdjusted++;
      if (ps.some((p) => p < 0.025)) anyRaw++;
    }
    // even with a threshold of 0, the worst case for false alarms
    expect(anyAdjusted / draws).toBeLessThan(0.025 + 3 * Math.sqrt((0.025 * 0.975) / draws));
    // without the step, 16 tests at 2.5 % each fail a third of the comparisons or so
    expect(anyRaw / draws).toBeGreaterThan(0.2);
  });
});
