/**
 * bench:gate's arithmetic (bench/gate.ts runs the sets): every ordered pair of A/A sets compared as
 * the gate compares them, and every injected set against every A/A set; the false-alarm and
 * detection rates; what the spread could catch; and, from sets measured one after another, how far
 * a whole set drifts beyond what its repeats show (the gate's set drift). Pure: records in, text out.
 */
import type { ResultRecord } from '../core/record.ts';
import { mean, sampleSd } from '../reports/stats.ts';
import { compareRuns, planComparison, type ComparisonResult, type FamilyBy, type MetricComparison, type Thresholds } from '../gate/compare.ts';
import { pairRuns } from '../gate/match.ts';
import { COMPARE_METRICS, formatChange } from '../gate/metrics.ts';
import { pairKey } from '../cli/ab-turns.ts';

export type SetKind = 'aa' | 'delay' | 'cpu';

export interface GateSet {
  label: string;
  kind: SetKind;
  records: ResultRecord[];
}

export interface AnalysisOptions {
  /** pair the runs by step (interleaved sets) or compare two sets measured apart */
  paired: boolean;
  thresholds?: Thresholds;
  setDrift?: Record<string, number>;
  familyBy?: FamilyBy;
}

export interface Outcome {
  baseline: string;
  current: string;
  /** the gate's exit: 1 with a regression */
  exit: 0 | 1 | 2;
  /** `ws p99`, … for each regression */
  flagged: string[];
  result: ComparisonResult | null;
}

/** Compare `current` against `baseline` exactly as `compare` (or `compare --paired`) would. */
export function gateOutcome(baseline: GateSet, current: GateSet, o: AnalysisOptions): Outcome {
  const plan = planComparison(baseline.records, current.records);
  if (plan.problems.length > 0) return { baseline: baseline.label, current: current.label, exit: 2, flagged: plan.problems, result: null };
  const result = compareRuns(o.paired ? pairRuns(plan, pairKey) : plan, { thresholds: o.thresholds, setDrift: o.setDrift, familyBy: o.familyBy });
  const flagged = result.groups.flatMap((g) => g.metrics.filter((m) => m.status === 'regression').map((m) => `${g.group.transport} ${m.metric.key}`));
  return { baseline: baseline.label, current: current.label, exit: result.regressions > 0 ? 1 : 0, flagged, result };
}

export interface GateFigures {
  aa: Outcome[];
  injected: Record<Exclude<SetKind, 'aa'>, Outcome[]>;
}

/** Every ordered pair of A/A sets; every injected set against every A/A set (the A/A set as baseline). */
export function gateFigures(sets: readonly GateSet[], o: AnalysisOptions): GateFigures {
  const aa = sets.filter((s) => s.kind === 'aa');
  const out: GateFigures = { aa: [], injected: { delay: [], cpu: [] } };
  for (const b of aa) for (const c of aa) if (b !== c) out.aa.push(gateOutcome(b, c, o));
  for (const x of sets.filter((s) => s.kind !== 'aa')) for (const b of aa) out.injected[x.kind as 'delay' | 'cpu'].push(gateOutcome(b, x, o));
  return out;
}

const share = (xs: readonly Outcome[], f: (x: Outcome) => boolean) => `${xs.filter(f).length}/${xs.length} (${xs.length ? ((100 * xs.filter(f).length) / xs.length).toFixed(0) : '–'} %)`;
const on = (keys: readonly string[]) => (x: Outcome) => x.flagged.some((f) => keys.includes(f.split(' ')[1]));

/** The rates as Markdown lines. */
export function formatRates(f: GateFigures, what: { delay: string; cpu: string }): string[] {
  const lines = [`- **A/A false alarms: ${share(f.aa, (x) => x.exit !== 0)}** of ordered comparisons of sets of identical code exit non-zero`];
  for (const x of f.aa.filter((y) => y.exit !== 0)) lines.push(`  - ${x.baseline} → ${x.current}: exit ${x.exit}: ${x.flagged.join(', ')}`);
  for (const [kind, keys] of [['delay', ['p50', 'p99']], ['cpu', ['cpu']]] as const) {
    const xs = f.injected[kind];
    if (xs.length === 0) continue;
    lines.push(`- **${what[kind]}: detected (exit 1) in ${share(xs, (x) => x.exit === 1)}**; on ${keys.join(' or ')} in ${share(xs, on(keys))}`);
    const missed = xs.filter((x) => !on(keys)(x));
    if (missed.length > 0) lines.push(`  - missed on ${keys.join('/')}: ${missed.map((x) => `${x.baseline} → ${x.current}`).join(', ')}`);
  }
  return lines;
}

/** Median of a non-empty list. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Per transport and gated metric: the median change and the median detectable change over the
 * comparisons given (A/A: what the spread can catch, `absolute`: the median size of the change
 * either way; injected: what the change came to).
 */
export function spreadTable(outcomes: readonly Outcome[], title: string, absolute = false): string[] {
  const cells = new Map<string, { change: number[]; detectable: number[]; m: MetricComparison }>();
  for (const x of outcomes) {
    for (const g of x.result?.groups ?? []) {
      for (const m of g.metrics) {
        if (m.threshold === null || m.change === null) continue;
        const k = `${g.group.transport}|${m.metric.key}`;
        if (!cells.has(k)) cells.set(k, { change: [], detectable: [], m });
        const c = cells.get(k)!;
        c.change.push(absolute ? Math.abs(m.change) : m.change);
        if (m.detectable !== null) c.detectable.push(m.detectable);
      }
    }
  }
  const keys = COMPARE_METRICS.filter((m) => m.defaultThreshold !== null).map((m) => m.key);
  const transports = [...new Set([...cells.keys()].map((k) => k.split('|')[0]))];
  const lines = [`| ${title} | ${keys.join(' | ')} |`, `|---|${keys.map(() => '---:').join('|')}|`];
  for (const t of transports) {
    lines.push(`| ${t} | ${keys.map((k) => {
      const c = cells.get(`${t}|${k}`);
      if (!c) return '—';
      const f = (v: number) => (Math.abs(v) < 5e-5 ? '0' : formatChange(c.m.metric.kind, v));
      return `${f(median(c.change))} (≥ ${c.detectable.length ? f(median(c.detectable)) : '—'})`;
    }).join(' | ')} |`);
  }
  return lines;
}

/**
 * How far whole sets drift beyond their repeats, per transport and metric, on the test's scale
 * (logs for relative metrics): τ² = var(set means) − mean(within-set variance)/n, from sets
 * measured one after another. The gate's set drift should cover it (gate/metrics.ts).
 */
export function driftTable(sets: readonly GateSet[]): string[] {
  const aa = sets.filter((s) => s.kind === 'aa');
  const keys = COMPARE_METRICS.filter((m) => m.defaultThreshold !== null && m.kind === 'relative').map((m) => m.key);
  const transports = [...new Set(aa.flatMap((s) => s.records.map((r) => r.config.transport)))];
  const lines = [`| set drift τ (within-set sd) | ${keys.join(' | ')} |`, `|---|${keys.map(() => '---:').join('|')}|`];
  for (const t of transports) {
    lines.push(`| ${t} | ${keys.map((k) => {
      const metric = COMPARE_METRICS.find((m) => m.key === k)!;
      const per = aa.map((s) => s.records.filter((r) => r.config.transport === t && r.valid).map((r) => metric.value(r)).filter((v): v is number => v !== null && v > 0).map(Math.log));
      if (per.some((xs) => xs.length < 2)) return '—';
      const within = mean(per.map((xs) => sampleSd(xs) ** 2));
      const n = mean(per.map((xs) => xs.length));
      const tau2 = sampleSd(per.map(mean)) ** 2 - within / n;
      return `${(100 * Math.sqrt(Math.max(0, tau2))).toFixed(1)} % (${(100 * Math.sqrt(within)).toFixed(1)} %)`;
    }).join(' | ')} |`);
  }
  return lines;
}
