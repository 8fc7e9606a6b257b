/**
 * The comparison behind `pushbench compare BASELINE CURRENT`: match runs by transport, workload and
 * network; refuse different configurations (each difference named) unless forced; warn when the
 * environments differ; then, per matched group and metric, the change from baseline to current
 * with a 95 % interval from the repeats, and a verdict. Pure: records in, a result out.
 *
 * Every metric is lower-is-better. Two kinds of change:
 * - **relative** (latency, CPU, bytes, requests, connections, RSS): mean(current) / mean(baseline) − 1,
 *   interval = percentile bootstrap of the ratio of means (reports/stats.ts relativeChange);
 * - **absolute** (loss and error rates, fractions): mean(current) − mean(baseline), in percentage
 *   points, interval = percentile bootstrap of the difference of means.
 * The Mann-Whitney p of current against baseline is shown for context only: with 3 repeats a side
 * its smallest possible value is 0.1, so the decision rests on the interval.
 *
 * **The rule** (threshold t ≥ 0 for the metric, interval [lo, hi] at the confidence level):
 * - `regression` when lo > t: the change is above the threshold with 95 % confidence (so it is
 *   both beyond the threshold and significant). lo = t exactly is not a regression.
 * - `improvement` when hi < −t (the mirror image).
 * - `unclear` when the point estimate is beyond ±t but the interval reaches inside: a possible
 *   change that the repeats cannot confirm. Reported, never fails the gate.
 * - `ok` when the point estimate is within ±t (the threshold itself counts as within).
 * - with a single run on either side there is no interval: the significance is unknown and the
 *   verdict falls back to the threshold alone (change > t is a regression, change < −t an
 *   improvement), with a warning.
 * - `info` for a metric without a threshold (reported, not gated); `unknown` when a side did not
 *   measure the metric.
 * - `ungated` for a machine-dependent metric (latency, CPU: what a faster or slower machine moves)
 *   when the baseline was made on another machine (CPU model, cores or Node version differ): its
 *   change and the verdict it would have on one machine are reported, and nothing fails on it.
 *   Lost, errors, bytes and requests per message count what happened, not how fast, and are
 *   gated on any machine.
 */
import { formatBytes, formatUs, parseFraction } from '../core/units.ts';
import type { ResultRecord } from '../core/record.ts';
import { errorRate, lossRate, undeliveredRate } from '../reports/rates.ts';
import { formatSig3 } from '../reports/ranking.ts';
import { mannWhitney, mean, meanCi, quantileSorted, relativeChange, seededRandom } from '../reports/stats.ts';

export type ChangeKind = 'relative' | 'absolute';

export interface CompareMetric {
  /** the short name thresholds are keyed by (`p99`, `cpu`, …) */
  key: string;
  label: string;
  kind: ChangeKind;
  /** the figure of one run; null when that run did not measure it */
  value(r: ResultRecord): number | null;
  /** a value in the metric's unit, for people */
  format(v: number): string;
  /**
   * Default threshold as a fraction: 0.10 = 10 % for a relative metric, 0.001 = 0.1 percentage
   * point for an absolute one. null: reported, not gated (too noisy at small scale to gate by default).
   */
  defaultThreshold: number | null;
  /** moved by the machine's speed (latency, CPU): gated only against a baseline from the same machine */
  machineDependent: boolean;
}

const ifDelivered = (r: ResultRecord, v: number) => (r.summary.delivered > 0 ? v : null);
const percent = (v: number) => `${formatSig3(v * 100)} %`;

/** The compared metrics, in table order. */
export const COMPARE_METRICS: readonly CompareMetric[] = Object.freeze([
  { key: 'p50', label: 'delivery latency p50', kind: 'relative', value: (r) => ifDelivered(r, r.summary.latencyUs.p50), format: formatUs, defaultThreshold: 0.10, machineDependent: true },
  { key: 'p99', label: 'delivery latency p99', kind: 'relative', value: (r) => ifDelivered(r, r.summary.latencyUs.p99), format: formatUs, defaultThreshold: 0.10, machineDependent: true },
  { key: 'p999', label: 'delivery latency p99.9', kind: 'relative', value: (r) => ifDelivered(r, r.summary.latencyUs.p999), format: formatUs, defaultThreshold: null, machineDependent: true },
  { key: 'cpu', label: 'server CPU per message', kind: 'relative', value: (r) => r.summary.serverCpuUsPerMessage, format: (v) => `${formatSig3(v)}µs`, defaultThreshold: 0.15, machineDependent: true },
  { key: 'bytes', label: 'bytes on the wire per message', kind: 'relative', value: (r) => r.summary.bytesPerMessage, format: (v) => `${formatSig3(v)}B`, defaultThreshold: 0.05, machineDependent: false },
  { key: 'requests', label: 'requests per message', kind: 'relative', value: (r) => ifDelivered(r, r.summary.requestsPerMessage), format: formatSig3, defaultThreshold: 0.05, machineDependent: false },
  // connections opened count reconnects too, which a slow machine's timeouts can cause
  { key: 'connections', label: 'TCP connections opened', kind: 'relative', value: (r) => r.summary.connectionsOpened, format: formatSig3, defaultThreshold: 0.10, machineDependent: true },
  { key: 'rss', label: 'server RSS per connection', kind: 'relative', value: (r) => r.summary.serverRssBytesPerConnection, format: formatBytes, defaultThreshold: null, machineDependent: true },
  { key: 'lost', label: 'lost (of expected messages)', kind: 'absolute', value: lossRate, format: percent, defaultThreshold: 0.001, machineDependent: false },
  { key: 'undelivered', label: 'undelivered (of expected messages)', kind: 'absolute', value: undeliveredRate, format: percent, defaultThreshold: 0.001, machineDependent: false },
  { key: 'errors', label: 'errors (of requests + connections)', kind: 'absolute', value: errorRate, format: percent, defaultThreshold: 0.001, machineDependent: false },
] satisfies CompareMetric[]);

/** Threshold per metric key; null = not gated. */
export type Thresholds = Record<string, number | null>;

export function defaultThresholds(): Thresholds {
  return Object.fromEntries(COMPARE_METRICS.map((m) => [m.key, m.defaultThreshold]));
}

/**
 * Parse `--max-regression p99=10%,cpu=15%,lost=0,rss=off` over the defaults. A value is a
 * percentage (`10%`) or a fraction (`0.1`); for lost and errors it is in percentage points of the
 * rate; `off` reports the metric without gating it. Returns every problem at once. Pure.
 */
export function parseThresholds(text: string | undefined): { thresholds: Thresholds; problems: string[] } {
  const thresholds = defaultThresholds();
  const problems: string[] = [];
  if (text === undefined) return { thresholds, problems };
  const keys = COMPARE_METRICS.map((m) => m.key);
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0) { problems.push(`--max-regression: "${item}" is not METRIC=PERCENT (e.g. p99=10%)`); continue; }
    const key = item.slice(0, eq).trim();
    const raw = item.slice(eq + 1).trim();
    if (!keys.includes(key)) { problems.push(`--max-regression: unknown metric "${key}"; the metrics are ${keys.join(', ')}`); continue; }
    if (raw === 'off') { thresholds[key] = null; continue; }
    const v = parseFraction(raw);
    if (v === undefined) problems.push(`--max-regression: ${key}=${raw} is not a percentage like 10% (or off)`);
    else thresholds[key] = v;
  }
  return { thresholds, problems };
}

export { planComparison, machinesOf, type ComparisonPlan, type Machines, type RunGroup } from './match.ts';
import { machinesOf, type ComparisonPlan, type Machines, type RunGroup } from './match.ts';

// ---- the comparison ------------------------------------------------------------------------

/** One side's figure for one metric: the per-run values and the t interval of their mean. */
export interface SideEstimate {
  n: number;
  values: number[];
  /** null when no run measured it */
  mean: number | null;
  /** null when n < 2 */
  lo: number | null;
  hi: number | null;
}

export type CompareStatus = 'regression' | 'improvement' | 'unclear' | 'ok' | 'info' | 'unknown' | 'ungated';

export interface MetricComparison {
  metric: CompareMetric;
  /** null: not gated */
  threshold: number | null;
  baseline: SideEstimate;
  current: SideEstimate;
  /** relative: fraction (+0.1 = 10 % higher); absolute: difference of the rates; null when unknown */
  change: number | null;
  /** interval of the change; null without one (a side with one run) */
  lo: number | null;
  hi: number | null;
  /** two-sided Mann-Whitney p of current against baseline; null when unknown */
  p: number | null;
  status: CompareStatus;
  /** `ungated`: the verdict the change would have against a baseline from this machine */
  sameMachineStatus?: CompareStatus;
  /** one sentence with the numbers */
  explanation: string;
}

export interface GroupComparison {
  group: RunGroup;
  metrics: MetricComparison[];
}

export interface ComparisonResult {
  level: number;
  groups: GroupComparison[];
  warnings: string[];
  regressions: number;
  improvements: number;
  /** changes beyond their threshold that the repeats cannot confirm */
  unclear: number;
  /** the machines of each side; machine-dependent metrics are gated only when they are the same */
  machines: Machines;
  /** machine-dependent changes that would be regressions on one machine, not gated across two */
  ungatedRegressions: number;
}

export interface CompareOptions {
  thresholds?: Thresholds;
  /** 0.95 by default */
  level?: number;
  /** bootstrap resamples, 10,000 by default */
  resamples?: number;
  /** bootstrap seed, 1 by default (the same inputs always give the same intervals) */
  seed?: number;
}

function sideEstimate(runs: readonly ResultRecord[], metric: CompareMetric, level: number): SideEstimate {
  const values = runs.map((r) => metric.value(r)).filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return { n: 0, values, mean: null, lo: null, hi: null };
  const e = meanCi(values, level);
  return { n: e.n, values, mean: e.mean, lo: e.lo, hi: e.hi };
}

/**
 * mean(current) − mean(baseline) with a percentile bootstrap interval (each sample resampled
 * independently; deterministic for a seed). lo = hi = null when either sample has fewer than 2.
 */
export function absoluteChange(baseline: readonly number[], current: readonly number[], opts: { resamples?: number; level?: number; seed?: number } = {}): { change: number; lo: number | null; hi: number | null; p: number } {
  const { resamples = 10_000, level = 0.95, seed = 1 } = opts;
  const change = mean(current) - mean(baseline);
  const p = mannWhitney(current, baseline).p;
  if (baseline.length < 2 || current.length < 2) return { change, lo: null, hi: null, p };
  const random = seededRandom(seed);
  const draw = (xs: readonly number[]) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[Math.floor(random() * xs.length)];
    return s / xs.length;
  };
  const diffs: number[] = new Array(resamples);
  for (let r = 0; r < resamples; r++) diffs[r] = draw(current) - draw(baseline);
  diffs.sort((x, y) => x - y);
  const alpha = (1 - level) / 2;
  return { change, lo: quantileSorted(diffs, alpha), hi: quantileSorted(diffs, 1 - alpha), p };
}

/**
 * The verdict on one change (see the rule at the top of this file). `lo`/`hi` null: no interval,
 * threshold only. `threshold` null: `info`. Pure.
 */
export function judgeChange(change: number, lo: number | null, hi: number | null, threshold: number | null): CompareStatus {
  if (threshold === null) return 'info';
  const interval = lo !== null && hi !== null && !Number.isNaN(lo) && !Number.isNaN(hi);
  if (interval) {
    if (lo > threshold) return 'regression';
    if (hi < -threshold) return 'improvement';
    return change > threshold || change < -threshold ? 'unclear' : 'ok';
  }
  if (change > threshold) return 'regression';
  if (change < -threshold) return 'improvement';
  return 'ok';
}

/** `+12.3 %` (relative) or `+0.05 pp` (absolute); `+∞ %` when the baseline was 0. */
export function formatChange(kind: ChangeKind, v: number): string {
  const unit = kind === 'relative' ? ' %' : ' pp';
  if (v === Infinity) return `+∞${unit}`;
  if (v === -Infinity) return `−∞${unit}`;
  const s = formatSig3(Math.abs(v * 100));
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${s}${unit}`;
}

/** `10 %` or `0.1 pp`; `none` when not gated. */
export function formatThreshold(kind: ChangeKind, t: number | null): string {
  if (t === null) return 'none';
  return `${formatSig3(t * 100)}${kind === 'relative' ? ' %' : ' pp'}`;
}

/** `+12.3 % [+8.1 %, +16.0 %]`, or `+12.3 % (no interval)`, or `unknown`. */
export function changeCell(m: Pick<MetricComparison, 'metric' | 'change' | 'lo' | 'hi'>): string {
  if (m.change === null) return 'unknown';
  const f = (v: number) => formatChange(m.metric.kind, v);
  return m.lo === null || m.hi === null ? `${f(m.change)} (no interval)` : `${f(m.change)} [${f(m.lo)}, ${f(m.hi)}]`;
}

function explain(m: Omit<MetricComparison, 'explanation'>, level: number): string {
  const name = m.metric.key;
  const kind = m.metric.kind;
  const t = formatThreshold(kind, m.threshold);
  const conf = `${Math.round(level * 100)} %`;
  const change = changeCell(m);
  switch (m.status) {
    case 'unknown':
      return `${name}: not measured in the ${m.baseline.n === 0 ? 'baseline' : 'current'} runs`;
    case 'info':
      return `${name} ${change}: reported, not gated`;
    case 'regression':
      return m.lo === null
        ? `${name} ${change} is worse than the ${t} threshold (one run on a side: significance unknown, threshold only)`
        : `${name} ${change} is worse than the ${t} threshold with ${conf} confidence`;
    case 'improvement':
      return m.lo === null
        ? `${name} ${change} is better by more than ${t} (one run on a side: significance unknown)`
        : `${name} ${change} is better by more than ${t} with ${conf} confidence`;
    case 'unclear':
      return `${name} ${change} is beyond the ${t} threshold, but the interval reaches inside it: not significant (more repeats would tell)`;
    case 'ok':
      return `${name} ${change} is within the ${t} threshold`;
    case 'ungated': {
      const would = m.sameMachineStatus === 'regression' ? `worse than the ${t} threshold: a regression against a baseline from this machine`
        : m.sameMachineStatus === 'improvement' ? `better by more than ${t}` : m.sameMachineStatus === 'unclear' ? `beyond the ${t} threshold, not significant` : `within the ${t} threshold`;
      return `${name} ${change} is ${would}; not gated: the baseline was made on another machine`;
    }
  }
}

function compareMetric(metric: CompareMetric, group: RunGroup, threshold: number | null, sameMachine: boolean, opts: Required<Omit<CompareOptions, 'thresholds'>>): MetricComparison {
  const baseline = sideEstimate(group.baseline, metric, opts.level);
  const current = sideEstimate(group.current, metric, opts.level);
  let change: number | null = null;
  let lo: number | null = null;
  let hi: number | null = null;
  let p: number | null = null;
  let status: CompareStatus = 'unknown';
  if (baseline.n > 0 && current.n > 0) {
    const stats = { level: opts.level, resamples: opts.resamples, seed: opts.seed };
    const c = metric.kind === 'relative' ? relativeChange(baseline.values, current.values, stats) : absoluteChange(baseline.values, current.values, stats);
    change = c.change;
    const sane = (v: number | null) => (v === null || Number.isNaN(v) ? null : v);
    lo = sane(c.lo);
    hi = sane(c.hi);
    if (lo === null || hi === null) lo = hi = null;
    p = c.p;
    status = judgeChange(change, lo, hi, threshold);
  }
  const ungated = metric.machineDependent && !sameMachine && status !== 'info' && status !== 'unknown';
  const m = { metric, threshold, baseline, current, change, lo, hi, p, status: ungated ? 'ungated' as const : status, ...(ungated ? { sameMachineStatus: status } : {}) };
  return { ...m, explanation: explain(m, opts.level) };
}

/** Compare every matched group on every metric. Pure and deterministic (seeded bootstrap). */
export function compareRuns(plan: Pick<ComparisonPlan, 'groups' | 'warnings'>, opts: CompareOptions = {}): ComparisonResult {
  const thresholds = { ...defaultThresholds(), ...opts.thresholds };
  const o = { level: opts.level ?? 0.95, resamples: opts.resamples ?? 10_000, seed: opts.seed ?? 1 };
  const warnings = [...plan.warnings];
  const machines = machinesOf(plan.groups.flatMap((g) => g.baseline), plan.groups.flatMap((g) => g.current));
  const groups = plan.groups.map((group) => {
    if (group.baseline.length < 2 || group.current.length < 2) {
      warnings.push(`${group.label}: ${group.baseline.length} baseline and ${group.current.length} current run(s); with a single run on a side the significance is unknown, so a change is judged on its threshold alone (2 or more runs a side give a ${Math.round(o.level * 100)} % interval)`);
    }
    return { group, metrics: COMPARE_METRICS.map((metric) => compareMetric(metric, group, thresholds[metric.key] ?? null, machines.same, o)) };
  });
  const count = (s: CompareStatus) => groups.reduce((n, g) => n + g.metrics.filter((m) => m.status === s).length, 0);
  const ungatedRegressions = groups.reduce((n, g) => n + g.metrics.filter((m) => m.sameMachineStatus === 'regression').length, 0);
  return { level: o.level, groups, warnings, regressions: count('regression'), improvements: count('improvement'), unclear: count('unclear'), machines, ungatedRegressions };
}
