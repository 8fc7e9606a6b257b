/**
 * Small-sample statistics for rank and compare: mean, sample standard deviation, Student-t
 * confidence intervals, a seeded percentile bootstrap, the Mann-Whitney U test and the relative
 * change between two samples. Pure functions; nothing here reads a clock or Math.random.
 *
 * Across repeats pushbench has few values (3 by default), so the t quantiles are exact (inverse of
 * the t CDF through the regularized incomplete beta function), not the normal 1.96.
 */

/** Arithmetic mean; NaN for an empty sample. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n − 1 in the denominator); NaN when n < 2. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  return Math.sqrt(ss / (xs.length - 1));
}

// ---- distributions -------------------------------------------------------------------------

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b), 0 ≤ x ≤ 1. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Student-t CDF with `df` degrees of freedom (df > 0, need not be an integer). */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Inverse Student-t CDF: the t with P(T ≤ t) = p, 0 < p < 1. Exact to ~1e-10 (bisection on tCdf). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Standard normal CDF (absolute error < 1e-7, enough for p-values). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Complementary error function, Numerical Recipes' Chebyshev fit (relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

// ---- confidence intervals ------------------------------------------------------------------

/** A value with its confidence interval; `lo`/`hi` are null when the sample cannot give one (n < 2). */
export interface Estimate {
  n: number;
  mean: number;
  /** sample sd; null when n < 2 */
  sd: number | null;
  lo: number | null;
  hi: number | null;
  /** confidence level of [lo, hi], e.g. 0.95 */
  level: number;
}

/**
 * Mean with the Student-t confidence interval mean ± t(1 − (1 − level)/2, n − 1) · sd / √n.
 * n = 1 gives the mean with lo = hi = null (one run says nothing about its spread); n = 0 gives
 * mean NaN.
 */
export function meanCi(xs: readonly number[], level = 0.95): Estimate {
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { n, mean: m, sd: null, lo: null, hi: null, level };
  const sd = sampleSd(xs);
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean: m, sd, lo: m - half, hi: m + half, level };
}

/** A ratio with its interval; `lo`/`hi` null when either side has fewer than 2 values. */
export interface RatioEstimate {
  ratio: number;
  lo: number | null;
  hi: number | null;
}

/**
 * The ratio of two means, `top.mean / bottom.mean`, with its interval by the delta method on the
 * log: var = sd₁²/(n₁m₁²) + sd₂²/(n₂m₂²), Welch–Satterthwaite degrees of freedom; both sides
 * without spread give [ratio, ratio]. Null when either mean is not above 0 (no ratio to take).
 */
export function ratioOfMeansCi(top: Pick<Estimate, 'n' | 'mean' | 'sd'>, bottom: Pick<Estimate, 'n' | 'mean' | 'sd'>, level = 0.95): RatioEstimate | null {
  if (!(top.mean > 0) || !(bottom.mean > 0)) return null;
  const ratio = top.mean / bottom.mean;
  if (top.sd === null || bottom.sd === null || top.n < 2 || bottom.n < 2) return { ratio, lo: null, hi: null };
  const vt = top.sd ** 2 / (top.n * top.mean ** 2);
  const vb = bottom.sd ** 2 / (bottom.n * bottom.mean ** 2);
  const v = vt + vb;
  if (v === 0) return { ratio, lo: ratio, hi: ratio };
  const df = (v * v) / ((vt * vt) / (top.n - 1) + (vb * vb) / (bottom.n - 1));
  const half = tQuantile(1 - (1 - level) / 2, df) * Math.sqrt(v);
  return { ratio, lo: ratio * Math.exp(-half), hi: ratio * Math.exp(half) };
}

/** A least-squares slope with its confidence interval (see {@link slopeCi}). */
export interface SlopeEstimate {
  n: number;
  /** dy/dx */
  slope: number;
  /** y at the mean x minus slope·mean x */
  intercept: number;
  /** confidence interval of the slope; null when n < 3 */
  lo: number | null;
  hi: number | null;
  level: number;
  /** lag-1 autocorrelation of the residuals (clamped to [0, 0.99]) */
  residualAutocorrelation: number;
  /** samples the interval counts as independent: n (1 − r) / (1 + r) */
  effectiveN: number;
}

/**
 * Ordinary least-squares slope of y on x with a Student-t confidence interval. Samples of a
 * process over time (memory between garbage collections, say) are autocorrelated, which makes the
 * textbook interval far too narrow; so the residuals' lag-1 autocorrelation r shrinks the sample
 * to an effective n (1 − r)/(1 + r) independent points, which widens the standard error by
 * √(n / n_eff) and sets the degrees of freedom to n_eff − 2 (the usual AR(1) correction).
 */
export function slopeCi(xs: readonly number[], ys: readonly number[], level = 0.95): SlopeEstimate {
  const n = Math.min(xs.length, ys.length);
  const mx = mean(xs.slice(0, n));
  const my = mean(ys.slice(0, n));
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = my - slope * mx;
  if (n < 3 || sxx === 0) return { n, slope, intercept, lo: null, hi: null, level, residualAutocorrelation: 0, effectiveN: n };
  const res = Array.from({ length: n }, (_, i) => ys[i] - (intercept + slope * xs[i]));
  let ssr = 0;
  let lag = 0;
  for (let i = 0; i < n; i++) {
    ssr += res[i] ** 2;
    if (i > 0) lag += res[i] * res[i - 1];
  }
  const r = ssr > 0 ? Math.min(0.99, Math.max(0, lag / ssr)) : 0;
  const effectiveN = Math.max(3, (n * (1 - r)) / (1 + r));
  const se = Math.sqrt(ssr / (n - 2) / sxx) * Math.sqrt(n / effectiveN);
  const half = tQuantile(1 - (1 - level) / 2, effectiveN - 2) * se;
  return { n, slope, intercept, lo: slope - half, hi: slope + half, level, residualAutocorrelation: r, effectiveN };
}

/** Deterministic PRNG (mulberry32): uniform [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapOptions {
  /** number of resamples; 10,000 by default */
  resamples?: number;
  level?: number;
  /** PRNG seed; the same seed and data give the same interval. 1 by default */
  seed?: number;
}

/** The q-quantile (0…1) of sorted values, linear interpolation between order statistics. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

function resample(xs: readonly number[], random: () => number, out: number[]): number[] {
  for (let i = 0; i < xs.length; i++) out[i] = xs[Math.floor(random() * xs.length)];
  return out;
}

/**
 * Percentile bootstrap confidence interval of `statistic` (the mean by default): the
 * (1 − level)/2 and 1 − (1 − level)/2 quantiles of the statistic over resamples drawn with
 * replacement. Deterministic for a given seed. n < 2: lo = hi = null.
 */
export function bootstrapCi(
  xs: readonly number[],
  opts: BootstrapOptions & { statistic?: (sample: readonly number[]) => number } = {},
): Estimate {
  const { resamples = 10_000, level = 0.95, seed = 1, statistic = mean } = opts;
  const n = xs.length;
  const point = statistic(xs);
  const sd = n >= 2 ? sampleSd(xs) : null;
  if (n < 2) return { n, mean: point, sd, lo: null, hi: null, level };
  const random = seededRandom(seed);
  const stats: number[] = new Array(resamples);
  const buf: number[] = new Array(n);
  for (let r = 0; r < resamples; r++) stats[r] = statistic(resample(xs, random, buf));
  stats.sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return { n, mean: point, sd, lo: quantileSorted(stats, alpha), hi: quantileSorted(stats, 1 - alpha), level };
}

// ---- Mann-Whitney U ------------------------------------------------------------------------

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (a, b) with a > b, ties counting ½ */
  u: number;
  /** two-sided p-value */
  p: number;
  /** true: exact null distribution (no ties, n1 + n2 ≤ 40); false: normal approximation with tie and continuity correction */
  exact: boolean;
}

/** `auto` (default): exact when possible. `normal`: always the approximation. */
export type MannWhitneyMethod = 'auto' | 'normal';

/** Number of arrangements giving each U, for sizes n1, n2 without ties: counts[u], u = 0…n1·n2. */
function exactUCounts(n1: number, n2: number): number[] {
  // f[j][u] for the current i: arrangements of i values of sample 1 and j of sample 2 with U = u
  let prev: number[][] = Array.from({ length: n2 + 1 }, () => [1]);
  for (let i = 1; i <= n1; i++) {
    const cur: number[][] = [];
    for (let j = 0; j <= n2; j++) {
      const size = i * j + 1;
      const row = new Array<number>(size).fill(0);
      // the largest value is from sample 1 (beats all j of sample 2) or from sample 2
      const a = prev[j];
      for (let u = j; u < size; u++) row[u] += a[u - j] ?? 0;
      if (j > 0) {
        const b = cur[j - 1];
        for (let u = 0; u < b.length; u++) row[u] += b[u];
      }
      cur.push(row);
    }
    prev = cur;
  }
  return prev[n2];
}

/**
 * Two-sided Mann-Whitney U (Wilcoxon rank-sum) test of `a` against `b`. Exact when there are no
 * ties and n1 + n2 ≤ 40; otherwise the normal approximation with the tie-corrected variance and a
 * continuity correction of ½. p = 1 when either sample is empty.
 */
export function mannWhitney(a: readonly number[], b: readonly number[], method: MannWhitneyMethod = 'auto'): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: 0, p: 1, exact: true };
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  const all = [...a, ...b].sort((x, y) => x - y);
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j] === all[i]) j++;
    const t = j - i;
    tieTerm += t * t * t - t;
    i = j;
  }
  const n = n1 + n2;
  if (method === 'auto' && tieTerm === 0 && n <= 40) {
    const counts = exactUCounts(n1, n2);
    const total = counts.reduce((s, c) => s + c, 0);
    let le = 0;
    let ge = 0;
    for (let k = 0; k < counts.length; k++) {
      if (k <= u) le += counts[k];
      if (k >= u) ge += counts[k];
    }
    return { u, p: Math.min(1, (2 * Math.min(le, ge)) / total), exact: true };
  }
  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, p: 1, exact: false };
  const z = Math.max(0, Math.abs(u - mu) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * (1 - normalCdf(z))), exact: false };
}

// ---- relative change -----------------------------------------------------------------------

export interface RelativeChange {
  /** mean(current) / mean(baseline) − 1: +0.10 is 10 % higher */
  change: number;
  /** bootstrap interval of the change; null when either sample has fewer than 2 values */
  lo: number | null;
  hi: number | null;
  level: number;
  /** two-sided Mann-Whitney p-value of current against baseline */
  p: number;
}

/**
 * Relative change of the mean from `baseline` to `current`, with a percentile bootstrap interval
 * of the ratio of means (each sample resampled independently; deterministic for a seed) and the
 * Mann-Whitney p-value. A baseline mean of 0 gives change ±Infinity (or 0 when both are 0).
 * Note: with 3 repeats each the smallest exact two-sided Mann-Whitney p is 0.1, so significance
 * at 0.05 then rests on the interval.
 */
export function relativeChange(baseline: readonly number[], current: readonly number[], opts: BootstrapOptions = {}): RelativeChange {
  const { resamples = 10_000, level = 0.95, seed = 1 } = opts;
  const ratio = (b: number, c: number) => (b === 0 ? (c === 0 ? 0 : c > 0 ? Infinity : -Infinity) : c / b - 1);
  const change = ratio(mean(baseline), mean(current));
  const p = mannWhitney(current, baseline).p;
  if (baseline.length < 2 || current.length < 2) return { change, lo: null, hi: null, level, p };
  const random = seededRandom(seed);
  const bufB: number[] = new Array(baseline.length);
  const bufC: number[] = new Array(current.length);
  const changes: number[] = new Array(resamples);
  for (let r = 0; r < resamples; r++) {
    changes[r] = ratio(mean(resample(baseline, random, bufB)), mean(resample(current, random, bufC)));
  }
  changes.sort((x, y) => x - y);
  const alpha = (1 - level) / 2;
  return { change, lo: quantileSorted(changes, alpha), hi: quantileSorted(changes, 1 - alpha), level, p };
}
