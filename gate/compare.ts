/**
 * The comparison behind `pushbench compare BASELINE CURRENT` and `pushbench ab`: per matched group
 * (transport, workload, network) and metric, the change from baseline to current with a 95 %
 * interval, the test it came from, the smallest change the spread at hand could have caught, and
 * a verdict. Pure: a plan of matched runs in, a result out; no random numbers.
 *
 * **The tests** (gate/change-stats.ts): two sets measured apart in time, Welch's t on log values
 * (relative metrics) or on the rates (loss, errors), with the metric's set drift added to the
 * variance (gate/metrics.ts); runs taken in pairs back to back (a group with `paired`), the paired
 * t on the per-pair log ratios or differences. No test with fewer than 2 runs (pairs) a side.
 *
 * **The rule** (threshold t for the metric; α = (1 − level)/2 = 0.025):
 * - `regression`: the one-sided test of "worse than t" rejects at α after the Benjamini–Hochberg
 *   step over each metric's figures across the groups (`familyBy`; p < α, p as printed). Its 95 %
 *   interval then lies wholly above t; the step keeps "did this metric regress on any transport"
 *   from failing more often than one test would when nothing changed. Fails the gate.
 * - `improvement`: the mirror image (better than −t, adjusted the same way).
 * - `unclear`: the estimate is beyond ±t but not significantly so, or a side has fewer than 2 runs
 *   (no test: the verdict says how many it needs). Reported, never fails.
 * - `ok`: the estimate within ±t (the threshold itself counts as within).
 * - `info`: no threshold (reported, not gated); `unknown`: a side did not measure it.
 * - `ungated`: a machine-dependent metric (latency, CPU, connections, RSS) when the sides were
 *   made on different machines (CPU model, cores or Node differ; gate/match.ts): its change and
 *   the verdict it would have on one machine are reported, and nothing fails on it. Lost, errors,
 *   bytes and requests per message count what happened, not how fast, and are gated anywhere.
 */
import type { ResultRecord } from '../core/record.ts';
import { mean, meanCi } from '../reports/stats.ts';
import { benjaminiHochberg, detectableAbove, interval, pAbove, pairedDifference, welchDifference, type Difference, type TestName } from './change-stats.ts';
import { COMPARE_METRICS, defaultThresholds, type CompareMetric, type Thresholds } from './metrics.ts';
import { machinesOf, type ComparisonPlan, type RunGroup } from './match.ts';
import { explain } from './explain.ts';
import type { CompareStatus, ComparisonResult, GroupComparison, MetricComparison, SideEstimate } from './comparison.ts';

export { COMPARE_METRICS, defaultThresholds, pairedThresholds, parseThresholds, formatChange, formatThreshold, type ChangeKind, type CompareMetric, type Thresholds } from './metrics.ts';
export { planComparison, machinesOf, type ComparisonPlan, type Machines, type RunGroup } from './match.ts';
export type { CompareStatus, ComparisonResult, GroupComparison, MetricComparison, SideEstimate } from './comparison.ts';

export interface CompareOptions {
  thresholds?: Thresholds;
  /** 0.95 by default */
  level?: number;
  /** set drift per metric key over the metrics' own (gate/metrics.ts setDrift): bench:gate tries values with it */
  setDrift?: Record<string, number>;
  /** the Benjamini–Hochberg families ({@link FamilyBy}); {@link DEFAULT_FAMILY_BY} by default */
  familyBy?: FamilyBy;
}

/**
 * Which figures are adjusted together: `comparison`, every gated figure of the comparison;
 * `metric`, each metric's figures across the groups (transports, networks): "did CPU regress on
 * any transport" is one question with its own false-alarm rate, at most one α per metric.
 */
export type FamilyBy = 'comparison' | 'metric';
export const DEFAULT_FAMILY_BY: FamilyBy = 'metric';

/**
 * Runs a test needs on each side, or pairs. Two sets: 3, where Welch's t keeps its 95 % interval
 * within about a point of its level at any ratio of spreads (with 2 runs on the noisier side it
 * misses up to 8.5 % instead of 5: test/gate/change-stats.test.ts); pairs: 2, where the paired t
 * is exact for normal differences.
 */
export const MIN_RUNS = { sets: 3, pairs: 2 } as const;
const minRuns = (paired: boolean) => (paired ? MIN_RUNS.pairs : MIN_RUNS.sets);

const isLog = (m: CompareMetric, xs: readonly number[]) => m.kind === 'relative' && xs.every((x) => x > 0);

function sideEstimate(values: number[], metric: CompareMetric, level: number): SideEstimate {
  if (values.length === 0) return { n: 0, values, mean: null, lo: null, hi: null };
  const log = isLog(metric, values);
  const e = meanCi(log ? values.map(Math.log) : values, level);
  const back = (v: number | null) => (v === null ? null : log ? Math.exp(v) : v);
  return { n: values.length, values, mean: back(e.mean), lo: back(e.lo), hi: back(e.hi) };
}

/** A metric before the family step: its estimate and unadjusted one-sided p-values. */
interface Draft {
  m: Omit<MetricComparison, 'p' | 'status' | 'explanation' | 'detectable'>;
  diff: Difference | null;
  /** the threshold on the test's scale; for a relative metric without logs, per unit of the baseline mean */
  bound: number | null;
  /** how the test's scale maps back to the change */
  back: (v: number) => number;
  worse: number | null;
  better: number | null;
}

function valuesOf(runs: readonly ResultRecord[], metric: CompareMetric): (number | null)[] {
  return runs.map((r) => {
    const v = metric.value(r);
    return v !== null && Number.isFinite(v) ? v : null;
  });
}

/** The difference and its test for one metric of one group (paired: index i of each side is a pair). */
function difference(metric: CompareMetric, b: readonly (number | null)[], c: readonly (number | null)[], paired: boolean, setDrift: number): { diff: Difference | null; log: boolean; scale: number; bv: number[]; cv: number[] } {
  let bv: number[];
  let cv: number[];
  if (paired) {
    // a pair counts when both of its runs measured the figure
    const both = b.flatMap((x, i) => (x !== null && c[i] !== null && c[i] !== undefined ? [[x, c[i]!] as const] : []));
    bv = both.map((p) => p[0]);
    cv = both.map((p) => p[1]);
  } else {
    bv = b.filter((x): x is number => x !== null);
    cv = c.filter((x): x is number => x !== null);
  }
  const log = isLog(metric, [...bv, ...cv]);
  // the same constant on both sides (0 requests per message on a push transport): nothing to test
  const all = [...bv, ...cv];
  if (bv.length > 0 && cv.length > 0 && all.every((x) => x === all[0])) return { diff: { test: 'exact', d: 0, se: 0, df: Infinity }, log, scale: 1, bv, cv };
  // a relative metric with a value of 0: compared on raw values, per unit of the baseline's mean
  const scale = metric.kind === 'relative' && !log ? Math.abs(mean(bv)) : 1;
  if (!(scale > 0)) return { diff: null, log, scale, bv, cv };
  const drift = paired ? 0 : setDrift;
  const raw = paired ? pairedDifference(bv, cv, log) : welchDifference(bv, cv, log, log ? drift : drift * scale);
  const diff = raw && scale !== 1 ? { ...raw, d: raw.d / scale, se: raw.se / scale } : raw;
  return { diff, log, scale, bv, cv };
}

function draftMetric(metric: CompareMetric, group: RunGroup, threshold: number | null, level: number, setDrift: number): Draft {
  const paired = group.paired === true;
  const b = valuesOf(group.baseline, metric);
  const c = valuesOf(group.current, metric);
  const found = difference(metric, b, c, paired, setDrift);
  const { log, bv, cv } = found;
  // fewer runs than the test needs: no test (Welch's t exists from 2, but its coverage does not hold there)
  const diff = Math.min(bv.length, cv.length) < minRuns(paired) ? null : found.diff;
  const baseline = sideEstimate(b.filter((x): x is number => x !== null), metric, level);
  const current = sideEstimate(c.filter((x): x is number => x !== null), metric, level);
  const back = (v: number) => (log ? Math.expm1(v) : v);
  let change: number | null = null;
  if (baseline.mean !== null && current.mean !== null) {
    if (diff) change = back(diff.d);
    else if (metric.kind === 'absolute') change = current.mean - baseline.mean;
    else change = baseline.mean === 0 ? (current.mean === 0 ? 0 : Infinity) : current.mean / baseline.mean - 1;
  }
  const [lo, hi] = diff ? interval(diff, level).map(back) : [null, null];
  const bound = threshold === null ? null : log ? Math.log1p(threshold) : threshold;
  const worse = diff && bound !== null ? pAbove(diff, bound) : null;
  const better = diff && bound !== null ? pAbove({ ...diff, d: -diff.d }, bound) : null;
  const n = { baseline: bv.length, current: cv.length };
  const short = Math.min(n.baseline, n.current) < minRuns(paired);
  return {
    m: { metric, threshold, baseline, current, change, lo, hi, test: short ? null : diff?.test ?? null, n, paired, ...(short ? { needsRuns: minRuns(paired) } : {}) },
    diff, bound, back, worse, better,
  };
}

/** Nothing to test: both sides the same constant (a byte count, 0 lost). Not counted in the family. */
const identical = (d: Draft) => d.diff?.test === 'exact' && d.diff.d === 0;

function status(d: Draft, worse: number | null, better: number | null, alpha: number): CompareStatus {
  const { change, threshold } = d.m;
  if (change === null) return 'unknown';
  if (threshold === null) return 'info';
  if (worse !== null && worse < alpha) return 'regression';
  if (better !== null && better < alpha) return 'improvement';
  return change > threshold || change < -threshold ? 'unclear' : 'ok';
}

/** A draft's adjusted p-values and the size m of the family they were adjusted in. */
type Family = Map<Draft, { worse: number; better: number; m: number }>;

/** Benjamini–Hochberg over `members` (their worse and better p each), by family; the adjusted pairs by draft. */
function adjust(members: readonly Draft[], by: FamilyBy): Family {
  const tested = members.filter((d) => d.worse !== null && !identical(d));
  const families = new Map<string, Draft[]>();
  for (const d of tested) {
    const key = by === 'metric' ? d.m.metric.key : '';
    families.set(key, [...(families.get(key) ?? []), d]);
  }
  const out: Family = new Map();
  for (const members of families.values()) {
    const worse = benjaminiHochberg(members.map((d) => d.worse!));
    const better = benjaminiHochberg(members.map((d) => d.better!));
    members.forEach((d, i) => out.set(d, { worse: worse[i], better: better[i], m: members.length }));
  }
  return out;
}

/** Compare every matched group on every metric. Pure and deterministic. */
export function compareRuns(plan: Pick<ComparisonPlan, 'groups' | 'warnings'>, opts: CompareOptions = {}): ComparisonResult {
  const thresholds = { ...defaultThresholds(), ...opts.thresholds };
  const level = opts.level ?? 0.95;
  const alpha = Number(((1 - level) / 2).toFixed(6));
  const warnings = [...plan.warnings];
  const machines = machinesOf(plan.groups.flatMap((g) => g.baseline), plan.groups.flatMap((g) => g.current));
  const drafts = plan.groups.map((group) => {
    const runs = group.paired ? `${group.baseline.length} pair(s)` : `${group.baseline.length} baseline and ${group.current.length} current run(s)`;
    if (Math.min(group.baseline.length, group.current.length) < minRuns(group.paired === true)) {
      warnings.push(`${group.label}: ${runs}; a test needs ${group.paired ? `${MIN_RUNS.pairs} or more pairs` : `${MIN_RUNS.sets} or more runs a side`}, so a change beyond its threshold is only "unclear" here`);
    }
    return { group, drafts: COMPARE_METRICS.map((metric) => draftMetric(metric, group, thresholds[metric.key] ?? null, level, opts.setDrift?.[metric.key] ?? metric.setDrift)) };
  });
  const all = drafts.flatMap((g) => g.drafts);
  const gatedHere = (d: Draft) => d.m.threshold !== null && !(d.m.metric.machineDependent && !machines.same);
  const familyBy = opts.familyBy ?? DEFAULT_FAMILY_BY;
  const family = adjust(all.filter(gatedHere), familyBy);
  // the family it would be on one machine, for the verdicts of the metrics not gated across two
  const sameMachineFamily = machines.same ? family : adjust(all.filter((d) => d.m.threshold !== null), familyBy);
  const familySize = Math.max(0, ...[...family.values()].map((f) => f.m));
  const groups: GroupComparison[] = drafts.map(({ group, drafts: ds }) => ({
    group,
    metrics: ds.map((d) => finish(d, gatedHere(d) ? family : sameMachineFamily, gatedHere(d) || d.m.threshold === null, alpha)),
  }));
  const count = (s: CompareStatus) => groups.reduce((n, g) => n + g.metrics.filter((m) => m.status === s).length, 0);
  const ungatedRegressions = groups.reduce((n, g) => n + g.metrics.filter((m) => m.sameMachineStatus === 'regression').length, 0);
  return { level, alpha, family: familySize, familyBy, groups, warnings, regressions: count('regression'), improvements: count('improvement'), unclear: count('unclear'), machines, ungatedRegressions };
}

function finish(d: Draft, family: Family, gated: boolean, alpha: number): MetricComparison {
  const adj = family.get(d);
  const m = adj?.m ?? 1;
  const worse = adj?.worse ?? (identical(d) ? 1 : null);
  const better = adj?.better ?? (identical(d) ? 1 : null);
  const s = status(d, worse, better, alpha);
  // the smallest change that fails on its own: one figure in a family of m must reach p < α/m
  const detectable = d.diff && d.bound !== null ? d.back(detectableAbove(d.diff, d.bound, alpha / m)) : null;
  const out = {
    ...d.m, p: d.m.threshold === null ? null : worse, detectable,
    status: gated || s === 'info' || s === 'unknown' ? s : 'ungated' as const,
    ...(!gated && s !== 'info' && s !== 'unknown' ? { sameMachineStatus: s } : {}),
  };
  return { ...out, explanation: explain(out, alpha) };
}
