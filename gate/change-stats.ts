/**
 * The two-sample statistics behind `compare` and `ab`: the change from baseline to current with a
 * Student-t interval, valid at the handful of repeats a gate can afford, and the multiplicity step
 * that keeps one comparison of many metrics from crying wolf. Pure; no random numbers.
 *
 * **Scale.** A relative metric (latency, CPU, bytes…) is compared on log values: the change is the
 * ratio of the geometric means − 1, its interval exp(d ± t·se) − 1. Run-to-run spread of such
 * figures is multiplicative (a slower machine stretches them all), so logs make it symmetric and
 * closer to normal; an absolute metric (a loss rate) is compared on its raw values.
 *
 * **Tests.** Two independent sets of runs: Welch's t (unequal variances, Welch–Satterthwaite
 * degrees of freedom), whose coverage holds from 2 runs a side (test/gate/change-stats.test.ts
 * checks it by simulation). Runs taken in pairs, A and B back to back (`pushbench ab`): the
 * paired t on the per-pair differences, n − 1 degrees of freedom: the machine's drift between
 * pairs falls out of every difference. With both sides constant (a byte count, 0 lost) there is no
 * spread to test: the difference is exact. With fewer than 2 runs (pairs) there is no test.
 *
 * **Direction.** Every metric is lower-is-better. "Worse than the threshold t" is the one-sided
 * test of H0: change ≤ t; its p below α = (1 − level)/2 is the same statement as "the whole
 * two-sided interval at `level` lies above t", so a verdict never contradicts its interval.
 */
import { mean, sampleSd, tCdf, tQuantile } from '../reports/stats.ts';

export type TestName = 'welch-log' | 'welch' | 'paired-log' | 'paired' | 'exact';

/** What each test is called in the outputs. */
export const TEST_LABEL: Record<TestName, string> = {
  'welch-log': 'Welch t on log values',
  welch: 'Welch t',
  'paired-log': 'paired t on log ratios',
  paired: 'paired t on differences',
  exact: 'exact (no spread on either side)',
};

/** A difference on the test's scale (log ratio or raw difference), with its standard error. */
export interface Difference {
  test: TestName;
  /** mean log ratio (current over baseline), or mean(current) − mean(baseline) */
  d: number;
  /** standard error of d; 0 when exact */
  se: number;
  /** degrees of freedom of the t distribution of (d − Δ)/se; Infinity when exact */
  df: number;
}

const finite = (xs: readonly number[]) => xs.every((x) => Number.isFinite(x));

/** Degrees of freedom past which t is the normal distribution for every figure printed. */
const DF_CAP = 1e6;

function exactOr(test: TestName, d: number, variance: number, df: number): Difference {
  return variance > 0 ? { test, d, se: Math.sqrt(variance), df: Math.min(DF_CAP, df) } : { test: 'exact', d, se: 0, df: Infinity };
}

/**
 * Welch's t for current − baseline (on logs when `log`): null when a side has fewer than 2 values,
 * or, on logs, a value that is not above 0. `drift` (on the same scale) is the standard deviation
 * a whole set takes on from when it was measured (gate/metrics.ts setDrift): each side's mean
 * carries it on top of its runs' spread, so 2·drift² joins the variance as a known term.
 */
export function welchDifference(baseline: readonly number[], current: readonly number[], log: boolean, drift = 0): Difference | null {
  if (baseline.length < 2 || current.length < 2 || !finite(baseline) || !finite(current)) return null;
  if (log && [...baseline, ...current].some((x) => x <= 0)) return null;
  const a = log ? baseline.map(Math.log) : baseline;
  const b = log ? current.map(Math.log) : current;
  const va = sampleSd(a) ** 2 / a.length;
  const vb = sampleSd(b) ** 2 / b.length;
  const v = va + vb + 2 * drift * drift;
  // Welch–Satterthwaite; a side without spread contributes no term, the known drift none either
  const df = (v * v) / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  return exactOr(log ? 'welch-log' : 'welch', mean(b) - mean(a), v, df);
}

/**
 * The paired t for current − baseline over pairs (baseline[i], current[i]) taken back to back:
 * null with fewer than 2 pairs, or, on logs, a value that is not above 0.
 */
export function pairedDifference(baseline: readonly number[], current: readonly number[], log: boolean): Difference | null {
  const n = Math.min(baseline.length, current.length);
  if (n < 2 || !finite(baseline) || !finite(current)) return null;
  if (log && [...baseline.slice(0, n), ...current.slice(0, n)].some((x) => x <= 0)) return null;
  const diffs = Array.from({ length: n }, (_, i) => (log ? Math.log(current[i] / baseline[i]) : current[i] - baseline[i]));
  return exactOr(log ? 'paired-log' : 'paired', mean(diffs), sampleSd(diffs) ** 2 / n, n - 1);
}

/** The two-sided interval of d at `level` (exact: [d, d]). */
export function interval(x: Difference, level: number): [number, number] {
  if (x.se === 0) return [x.d, x.d];
  const half = tQuantile(1 - (1 - level) / 2, x.df) * x.se;
  return [x.d - half, x.d + half];
}

/**
 * One-sided p of H0: Δ ≤ bound against Δ > bound (a change worse than `bound`, on the test's
 * scale). Exact: 0 when d > bound, else 1. p < (1 − level)/2 ⟺ the interval at `level` lies above bound.
 */
export function pAbove(x: Difference, bound: number): number {
  if (x.se === 0) return x.d > bound ? 0 : 1;
  return 1 - tCdf((x.d - bound) / x.se, x.df);
}

/** Two-sided p of no change (Δ = 0). */
export function pTwoSided(x: Difference): number {
  if (x.se === 0) return x.d === 0 ? 1 : 0;
  return Math.min(1, 2 * (1 - tCdf(Math.abs(x.d) / x.se, x.df)));
}

/**
 * The smallest true change (on the test's scale) that this spread would still call worse than
 * `bound` when measured exactly: bound + t(1 − alpha, df)·se — the point estimate must get past
 * that for the one-sided test at `alpha` to reject. Exact: the bound itself (anything beyond it).
 */
export function detectableAbove(x: Difference, bound: number, alpha: number): number {
  return x.se === 0 ? bound : bound + tQuantile(1 - alpha, x.df) * x.se;
}

/**
 * Benjamini–Hochberg adjusted p-values, in the input's order: q_i = min over j ≥ rank(i) of
 * m·p_(j)/j, at most 1. Rejecting q < α keeps the false discovery rate at α for independent or
 * positively dependent tests; when every null holds (an A/A comparison) that is the chance of any
 * rejection at all, so a comparison of many metrics fails no more often than one test would.
 */
export function benjaminiHochberg(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const [p, i] = order[k];
    running = Math.min(running, (m * p) / (k + 1));
    out[i] = running;
  }
  return out;
}
