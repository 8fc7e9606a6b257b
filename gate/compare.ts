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
 */
import type { TransportName } from '../core/wire.ts';
import { DRIVERS } from '../load/drivers/index.ts';
import type { TransportTraits } from '../load/drivers/types.ts';
import { formatBytes, formatUs, parseFraction } from '../core/units.ts';
import type { Environment, ResultRecord, RunConfig } from '../core/record.ts';
import { errorRate, lossRate } from '../reports/rates.ts';
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
}

const ifDelivered = (r: ResultRecord, v: number) => (r.summary.delivered > 0 ? v : null);
const percent = (v: number) => `${formatSig3(v * 100)} %`;

/** The compared metrics, in table order. */
export const COMPARE_METRICS: readonly CompareMetric[] = Object.freeze([
  { key: 'p50', label: 'delivery latency p50', kind: 'relative', value: (r) => ifDelivered(r, r.summary.latencyUs.p50), format: formatUs, defaultThreshold: 0.10 },
  { key: 'p99', label: 'delivery latency p99', kind: 'relative', value: (r) => ifDelivered(r, r.summary.latencyUs.p99), format: formatUs, defaultThreshold: 0.10 },
  { key: 'p999', label: 'delivery latency p99.9', kind: 'relative', value: (r) => ifDelivered(r, r.summary.latencyUs.p999), format: formatUs, defaultThreshold: null },
  { key: 'cpu', label: 'server CPU per message', kind: 'relative', value: (r) => r.summary.serverCpuUsPerMessage, format: (v) => `${formatSig3(v)}µs`, defaultThreshold: 0.15 },
  { key: 'bytes', label: 'bytes on the wire per message', kind: 'relative', value: (r) => r.summary.bytesPerMessage, format: (v) => `${formatSig3(v)}B`, defaultThreshold: 0.05 },
  { key: 'requests', label: 'requests per message', kind: 'relative', value: (r) => ifDelivered(r, r.summary.requestsPerMessage), format: formatSig3, defaultThreshold: 0.05 },
  { key: 'connections', label: 'TCP connections opened', kind: 'relative', value: (r) => r.summary.connectionsOpened, format: formatSig3, defaultThreshold: 0.10 },
  { key: 'rss', label: 'server RSS per connection', kind: 'relative', value: (r) => r.summary.serverRssBytesPerConnection, format: formatBytes, defaultThreshold: null },
  { key: 'lost', label: 'lost (of expected messages)', kind: 'absolute', value: lossRate, format: percent, defaultThreshold: 0.001 },
  { key: 'errors', label: 'errors (of requests + connections)', kind: 'absolute', value: errorRate, format: percent, defaultThreshold: 0.001 },
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

// ---- matching ------------------------------------------------------------------------------

/** Runs of one transport, workload and network, from both sides (valid, complete runs only). */
export interface RunGroup {
  transport: TransportName;
  workload: string;
  network: string;
  /** `ws broadcast on loopback` */
  label: string;
  baseline: ResultRecord[];
  current: ResultRecord[];
}

export interface ComparisonPlan {
  groups: RunGroup[];
  /** reasons the sides cannot be compared, one sentence each (exit 2) */
  problems: string[];
  /** things the reader should know, one sentence each */
  warnings: string[];
}

interface Field<T> {
  key: keyof T;
  label: string;
  format?: (v: unknown) => string;
  /** compared only for these transports (default all) */
  appliesTo?: (transport: TransportName) => boolean;
}

const ms = (v: unknown) => `${v} ms`;
/** A field that applies only to transports with `trait` (and to a name this version does not know). */
const having = (trait: keyof TransportTraits) => (t: TransportName) => DRIVERS[t]?.traits[trait] ?? true;

/** Configuration that makes runs incomparable: a difference refuses the comparison (unless forced). */
const CONFIG_FIELDS: readonly Field<RunConfig>[] = [
  { key: 'clients', label: 'clients' },
  { key: 'durationMs', label: 'duration', format: ms },
  { key: 'warmupMs', label: 'warm-up', format: ms },
  { key: 'ratePerS', label: 'rate (msg/s per topic)' },
  { key: 'payloadBytes', label: 'payload', format: (v) => `${v} B` },
  { key: 'topics', label: 'topics' },
  { key: 'pollIntervalMs', label: 'poll interval', format: ms, appliesTo: having('pollInterval') },
  { key: 'longPollTimeoutMs', label: 'long-poll timeout', format: ms, appliesTo: having('longPollTimeout') },
  { key: 'arrivalRatePerS', label: 'arrival rate (clients/s)' },
];

/**
 * Settings of the server and generator side that are part of what is compared (a server change),
 * so a difference is a warning: the reference server's injected delay, the target, the workers.
 */
const SERVER_FIELDS: readonly Field<RunConfig>[] = [
  { key: 'serverDelayMs', label: 'the reference server\'s --delay', format: ms },
  { key: 'target', label: 'target', format: (v) => (v === null ? 'reference server' : String(v)) },
  { key: 'profile', label: 'target profile', format: (v) => (v === undefined ? 'none (native clients)' : String(v)) },
  { key: 'workers', label: 'generator workers' },
];

const ENVIRONMENT_FIELDS: readonly Field<Environment>[] = [
  { key: 'cpuModel', label: 'CPU model' },
  { key: 'cores', label: 'cores' },
  { key: 'node', label: 'Node version' },
  { key: 'platform', label: 'platform' },
  { key: 'serverCpus', label: 'server pinning', format: (v) => (v === null ? 'none' : `CPU ${v}`) },
  { key: 'loadCpus', label: 'generator pinning', format: (v) => (v === null ? 'none' : `CPU ${v}`) },
  { key: 'pushbenchVersion', label: 'pushbench version' },
];

/** `clients: baseline 50, current 100` when the sides (or the runs within a side) differ; else null. */
function difference<T>(field: Field<T>, baseline: readonly T[], current: readonly T[]): string | null {
  const show = (v: unknown) => (field.format ? field.format(v) : String(v));
  const values = (xs: readonly T[]) => [...new Set(xs.map((x) => show(x[field.key])))];
  const b = values(baseline);
  const c = values(current);
  if (b.length === 1 && c.length === 1 && b[0] === c[0]) return null;
  return `${field.label}: baseline ${b.join(' / ')}, current ${c.join(' / ')}`;
}

const groupKey = (r: ResultRecord) => `${r.config.transport}\u0000${r.config.workload}\u0000${r.config.network}`;
const groupLabel = (r: ResultRecord) => `${r.config.transport} ${r.config.workload} on ${r.config.network}`;
const usable = (r: ResultRecord) => r.complete && r.valid && r.summary.valid;

function byGroup(records: readonly ResultRecord[]): Map<string, ResultRecord[]> {
  const out = new Map<string, ResultRecord[]>();
  for (const r of records) {
    const k = groupKey(r);
    if (!out.has(k)) out.set(k, []);
    out.get(k)!.push(r);
  }
  return out;
}

/**
 * Match the baseline's runs with the current ones and check that they may be compared. Invalid or
 * incomplete runs are left out (a warning each); a group left without a valid run on a side, no
 * group in common, or a configuration difference (unless `force`) is a problem. Pure.
 */
export function planComparison(baseline: readonly ResultRecord[], current: readonly ResultRecord[], opts: { force?: boolean } = {}): ComparisonPlan {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (baseline.length === 0) problems.push('BASELINE holds no result runs');
  if (current.length === 0) problems.push('CURRENT holds no result runs');
  if (problems.length > 0) return { groups: [], problems, warnings };

  for (const [side, records] of [['baseline', baseline], ['current', current]] as const) {
    for (const r of records.filter((x) => !usable(x))) {
      const why = [!r.complete ? 'incomplete' : '', ...r.invalidReasons, ...r.summary.invalidReasons].filter(Boolean);
      warnings.push(`${side} run ${r.name} is left out: ${[...new Set(why)].join('; ') || 'marked invalid'}`);
    }
  }
  const b = byGroup(baseline);
  const c = byGroup(current);
  const groups: RunGroup[] = [];
  for (const [k, bRuns] of b) {
    const label = groupLabel(bRuns[0]);
    const cRuns = c.get(k);
    if (!cRuns) { warnings.push(`${label} is only in the baseline; not compared`); continue; }
    const bValid = bRuns.filter(usable);
    const cValid = cRuns.filter(usable);
    if (bValid.length === 0) problems.push(`${label} has no valid baseline run (${bRuns.length} left out as invalid or incomplete)`);
    if (cValid.length === 0) problems.push(`${label} has no valid current run (${cRuns.length} left out as invalid or incomplete)`);
    if (bValid.length === 0 || cValid.length === 0) continue;
    const { transport, workload, network } = bValid[0].config;
    for (const f of CONFIG_FIELDS) {
      if (f.appliesTo && !f.appliesTo(transport)) continue;
      const d = difference(f, bValid.map((r) => r.config), cValid.map((r) => r.config));
      if (d === null) continue;
      if (opts.force) warnings.push(`${label}: the configurations differ (${d}); compared anyway (--force)`);
      else problems.push(`${label}: the configurations differ (${d}); compare like with like, or pass --force`);
    }
    for (const f of SERVER_FIELDS) {
      const d = difference(f, bValid.map((r) => r.config), cValid.map((r) => r.config));
      if (d !== null) warnings.push(`${label}: ${d}`);
    }
    groups.push({ transport, workload, network, label, baseline: bValid, current: cValid });
  }
  for (const [k, cRuns] of c) if (!b.has(k)) warnings.push(`${groupLabel(cRuns[0])} is only in the current runs; not compared`);
  if (groups.length === 0 && problems.length === 0) {
    const list = (m: Map<string, ResultRecord[]>) => [...m.values()].map((rs) => groupLabel(rs[0])).join(', ');
    problems.push(`BASELINE and CURRENT have no transport, workload and network in common (baseline: ${list(b)}; current: ${list(c)})`);
  }
  const envOf = (rs: readonly ResultRecord[]) => rs.filter(usable).map((r) => r.environment);
  for (const f of ENVIRONMENT_FIELDS) {
    const d = difference(f, envOf(baseline), envOf(current));
    if (d !== null) warnings.push(`the environments differ: ${d}; the figures may not be comparable`);
  }
  return { groups, problems, warnings };
}

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

export type CompareStatus = 'regression' | 'improvement' | 'unclear' | 'ok' | 'info' | 'unknown';

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
  }
}

function compareMetric(metric: CompareMetric, group: RunGroup, threshold: number | null, opts: Required<Omit<CompareOptions, 'thresholds'>>): MetricComparison {
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
  const m = { metric, threshold, baseline, current, change, lo, hi, p, status };
  return { ...m, explanation: explain(m, opts.level) };
}

/** Compare every matched group on every metric. Pure and deterministic (seeded bootstrap). */
export function compareRuns(plan: Pick<ComparisonPlan, 'groups' | 'warnings'>, opts: CompareOptions = {}): ComparisonResult {
  const thresholds = { ...defaultThresholds(), ...opts.thresholds };
  const o = { level: opts.level ?? 0.95, resamples: opts.resamples ?? 10_000, seed: opts.seed ?? 1 };
  const warnings = [...plan.warnings];
  const groups = plan.groups.map((group) => {
    if (group.baseline.length < 2 || group.current.length < 2) {
      warnings.push(`${group.label}: ${group.baseline.length} baseline and ${group.current.length} current run(s); with a single run on a side the significance is unknown, so a change is judged on its threshold alone (2 or more runs a side give a ${Math.round(o.level * 100)} % interval)`);
    }
    return { group, metrics: COMPARE_METRICS.map((metric) => compareMetric(metric, group, thresholds[metric.key] ?? null, o)) };
  });
  const count = (s: CompareStatus) => groups.reduce((n, g) => n + g.metrics.filter((m) => m.status === s).length, 0);
  return { level: o.level, groups, warnings, regressions: count('regression'), improvements: count('improvement'), unclear: count('unclear') };
}
