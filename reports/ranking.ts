/**
 * The ranking behind `pushbench rank`: for one workload and network profile, per metric, each
 * transport's mean with a Student-t confidence interval across repeats, the order, the tie groups,
 * and a verdict on the claimed order (WebSocket > SSE > long polling > short polling). Pure.
 *
 * Every metric is lower-is-better. A value a run did not measure (null in the summary, or a
 * latency/requests figure of a run that delivered nothing) is unknown, never 0.
 *
 * Definitions (level L, 95 % by default; "interval" = the t interval of the mean over the valid
 * repeats, clipped at 0 since no metric can be negative):
 * - A is **clearly better** than B when A's interval lies entirely below B's (A.hi < B.lo).
 *   Intervals that touch or overlap cannot be told apart.
 * - **Tie groups**: transports sorted by mean; a new group starts at a transport whose interval
 *   lies entirely above every interval of the group so far (single linkage, so A ≈ B and
 *   B ≈ C put A, B and C in one group even when A is clearly better than C). A transport
 *   without an interval (one valid repeat) or without a value stands in a group of its own and
 *   is marked as such.
 * - **Verdict** on the claimed order, restricted to the transports present in the records:
 *   - `contradicted`: some claimed pair (any two, not only neighbours) is clearly in the opposite
 *     order; every such pair is listed with its numbers;
 *   - otherwise `unknown`: some neighbouring claimed pair cannot be judged (a transport has no
 *     value, or fewer than 2 valid repeats so no interval), or fewer than two transports ran;
 *   - otherwise `tie`: some neighbouring claimed pair cannot be told apart;
 *   - otherwise `holds`: every neighbouring claimed pair is clearly ordered as claimed (and so,
 *     transitively, every pair is).
 *
 * Invalid runs (generator or proxy saturated, …) are excluded and counted per transport.
 */
import { validationError } from '../core/errors.ts';
import { formatBytes, formatUs } from '../core/units.ts';
import type { ResultRecord, RunSummary } from '../core/record.ts';
import type { TransportName } from '../core/wire.ts';
import { CLAIMED_ORDER } from '../load/drivers/index.ts';
import { meanCi } from './stats.ts';
import { networkOf } from './runs.ts';


export type RankMetricKey =
  | 'latencyP50Us' | 'latencyP99Us' | 'serverCpuUsPerMessage' | 'bytesPerMessage'
  | 'requestsPerMessage' | 'connectionsOpened' | 'rssBytesPerConnection';

export interface RankMetric {
  key: RankMetricKey;
  /** what the tables call it */
  label: string;
  /** the figure of one run; null when that run did not measure it */
  value(s: RunSummary): number | null;
  /** a value in the metric's unit, for people */
  format(v: number): string;
}

/** Three significant figures, no exponent: 0.00412, 3.41, 125, 12,346. */
export function formatSig3(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(3)));
}

const delivered = (s: RunSummary, v: number) => (s.delivered > 0 ? v : null);

/** The ranked metrics, in table order. */
export const RANK_METRICS: readonly RankMetric[] = Object.freeze([
  { key: 'latencyP50Us', label: 'delivery latency p50', value: (s) => delivered(s, s.latencyUs.p50), format: formatUs },
  { key: 'latencyP99Us', label: 'delivery latency p99', value: (s) => delivered(s, s.latencyUs.p99), format: formatUs },
  { key: 'serverCpuUsPerMessage', label: 'server CPU per message', value: (s) => s.serverCpuUsPerMessage, format: (v) => `${formatSig3(v)}µs` },
  { key: 'bytesPerMessage', label: 'bytes on the wire per message', value: (s) => s.bytesPerMessage, format: (v) => `${formatSig3(v)}B` },
  { key: 'requestsPerMessage', label: 'requests per message', value: (s) => delivered(s, s.requestsPerMessage), format: formatSig3 },
  { key: 'connectionsOpened', label: 'TCP connections opened', value: (s) => s.connectionsOpened, format: formatSig3 },
  { key: 'rssBytesPerConnection', label: 'server RSS per connection', value: (s) => s.serverRssBytesPerConnection, format: formatBytes },
] satisfies RankMetric[]);

/** One transport's figure for one metric across its valid repeats. */
export interface TransportEstimate {
  transport: TransportName;
  /** valid repeats that measured the metric */
  n: number;
  /** valid repeats that did not (null figure) */
  unknownRuns: number;
  /** the per-run values, in record order */
  values: number[];
  /** null when no valid repeat measured it */
  mean: number | null;
  sd: number | null;
  /** the interval; null when n < 2 */
  lo: number | null;
  hi: number | null;
}

/** How a claimed pair came out. `better` is the transport the claim puts first. */
export type PairRelation = 'as-claimed' | 'reversed' | 'indistinguishable' | 'unknown';

export interface PairComparison {
  better: TransportEstimate;
  worse: TransportEstimate;
  relation: PairRelation;
}

export type Verdict = 'holds' | 'contradicted' | 'tie' | 'unknown';

export interface MetricRanking {
  metric: RankMetric;
  /** known means ascending (best first), then transports without a value */
  ranked: TransportEstimate[];
  /** in rank order; each group's members cannot be told apart */
  tieGroups: TransportName[][];
  verdict: Verdict;
  /** neighbouring pairs of the claimed order */
  steps: PairComparison[];
  /** every claimed pair (neighbours or not) clearly in the opposite order */
  contradictions: PairComparison[];
  /** one sentence with the numbers */
  explanation: string;
}

export interface RankingResult {
  workload: string;
  network: string;
  clients: number;
  /** messages per second per topic */
  ratePerS: number;
  /** confidence level of every interval */
  level: number;
  /** the claimed order, best first, restricted to the transports present */
  claimedOrder: TransportName[];
  runs: {
    total: number;
    valid: number;
    invalid: number;
    /** invalid runs per transport */
    invalidByTransport: Partial<Record<TransportName, number>>;
    /** `name: reason` of each invalid run */
    invalidReasons: string[];
  };
  metrics: MetricRanking[];
}

export interface RankOptions {
  /** 0.95 by default */
  level?: number;
  /** CLAIMED_ORDER by default */
  claimedOrder?: readonly TransportName[];
}

function estimate(transport: TransportName, runs: readonly RunSummary[], metric: RankMetric, level: number): TransportEstimate {
  const values: number[] = [];
  for (const s of runs) {
    const v = metric.value(s);
    if (v !== null && Number.isFinite(v)) values.push(v);
  }
  const unknownRuns = runs.length - values.length;
  if (values.length === 0) return { transport, n: 0, unknownRuns, values, mean: null, sd: null, lo: null, hi: null };
  const e = meanCi(values, level);
  return {
    transport, n: e.n, unknownRuns, values, mean: e.mean, sd: e.sd,
    lo: e.lo === null ? null : Math.max(0, e.lo), hi: e.hi,
  };
}

const hasInterval = (e: TransportEstimate) => e.lo !== null && e.hi !== null;

/** Relation of a claimed pair: is `better`'s interval entirely below `worse`'s, above, or neither? */
export function comparePair(better: TransportEstimate, worse: TransportEstimate): PairRelation {
  if (!hasInterval(better) || !hasInterval(worse)) return 'unknown';
  if (better.hi! < worse.lo!) return 'as-claimed';
  if (worse.hi! < better.lo!) return 'reversed';
  return 'indistinguishable';
}

function tieGroups(ranked: readonly TransportEstimate[]): TransportName[][] {
  const groups: TransportName[][] = [];
  let groupHi = -Infinity;
  let open = false;
  for (const e of ranked) {
    if (!hasInterval(e)) {
      groups.push([e.transport]);
      open = false;
    } else if (open && e.lo! <= groupHi) {
      groups.at(-1)!.push(e.transport);
      groupHi = Math.max(groupHi, e.hi!);
    } else {
      groups.push([e.transport]);
      groupHi = e.hi!;
      open = true;
    }
  }
  return groups;
}

/** `ws 1.20ms [1.10ms, 1.30ms]`, `ws 1.20ms (1 repeat, no interval)`, `ws unknown`. */
export function describeEstimate(e: TransportEstimate, metric: RankMetric): string {
  if (e.mean === null) return `${e.transport} unknown`;
  if (!hasInterval(e)) return `${e.transport} ${metric.format(e.mean)} (${e.n} repeat, no interval)`;
  return `${e.transport} ${metric.format(e.mean)} [${metric.format(e.lo!)}, ${metric.format(e.hi!)}]`;
}

/** `ws 1.20ms [1.10ms, 1.30ms]` without the name, for pair sentences. */
const figure = (e: TransportEstimate, metric: RankMetric) => describeEstimate(e, metric).slice(e.transport.length + 1);

function explain(verdict: Verdict, steps: readonly PairComparison[], contradictions: readonly PairComparison[], metric: RankMetric): string {
  switch (verdict) {
    case 'contradicted':
      return contradictions.map((p) => `${p.worse.transport} beats ${p.better.transport}: ${figure(p.worse, metric)} vs ${figure(p.better, metric)}`).join('; ');
    case 'unknown':
      return steps.filter((p) => p.relation === 'unknown').map((p) => {
        const missing = [p.better, p.worse].filter((e) => !hasInterval(e))
          .map((e) => (e.mean === null ? `${e.transport} has no value` : `${e.transport} has ${e.n} valid repeat, no interval`));
        return `${p.better.transport} vs ${p.worse.transport} cannot be judged: ${missing.join(', ')}`;
      }).join('; ');
    case 'tie': {
      // the steps that cannot be told apart, then the ones that hold: "tie" is rarely the whole story
      const ties = steps.filter((p) => p.relation === 'indistinguishable')
        .map((p) => `${p.better.transport} ≈ ${p.worse.transport}: ${figure(p.better, metric)} vs ${figure(p.worse, metric)}`);
      const clear = steps.filter((p) => p.relation === 'as-claimed')
        .map((p) => `${p.better.transport} < ${p.worse.transport} holds: ${figure(p.better, metric)} vs ${figure(p.worse, metric)}`);
      return [...ties, ...clear].join('; ');
    }
    case 'holds':
      return `every claimed step is clear: no two neighbours' intervals overlap`;
  }
}

function rankMetric(metric: RankMetric, byTransport: ReadonlyMap<TransportName, RunSummary[]>, claimed: readonly TransportName[], level: number): MetricRanking {
  const estimates = new Map<TransportName, TransportEstimate>();
  for (const [t, runs] of byTransport) estimates.set(t, estimate(t, runs, metric, level));
  const ranked = [...estimates.values()].sort((a, b) => {
    if (a.mean === null || b.mean === null) return a.mean === null ? (b.mean === null ? 0 : 1) : -1;
    return a.mean - b.mean || claimed.indexOf(a.transport) - claimed.indexOf(b.transport);
  });
  const steps: PairComparison[] = [];
  for (let i = 0; i + 1 < claimed.length; i++) {
    const better = estimates.get(claimed[i])!;
    const worse = estimates.get(claimed[i + 1])!;
    steps.push({ better, worse, relation: comparePair(better, worse) });
  }
  const contradictions: PairComparison[] = [];
  for (let i = 0; i < claimed.length; i++) {
    for (let j = i + 1; j < claimed.length; j++) {
      const better = estimates.get(claimed[i])!;
      const worse = estimates.get(claimed[j])!;
      if (comparePair(better, worse) === 'reversed') contradictions.push({ better, worse, relation: 'reversed' });
    }
  }
  if (claimed.length < 2) {
    return { metric, ranked, tieGroups: tieGroups(ranked), verdict: 'unknown', steps, contradictions, explanation: 'fewer than two transports to compare' };
  }
  const verdict: Verdict = contradictions.length > 0 ? 'contradicted'
    : steps.some((p) => p.relation === 'unknown') ? 'unknown'
      : steps.some((p) => p.relation === 'indistinguishable') ? 'tie'
        : 'holds';
  return { metric, ranked, tieGroups: tieGroups(ranked), verdict, steps, contradictions, explanation: explain(verdict, steps, contradictions, metric) };
}

/**
 * Rank the transports of one workload and network profile from their result records (several
 * repeats per transport). Throws PB_BAD_OPTION when there is nothing to rank or the records mix
 * workloads, networks, client counts or rates (each difference named).
 */
export function rankTransports(records: readonly ResultRecord[], opts: RankOptions = {}): RankingResult {
  const level = opts.level ?? 0.95;
  if (records.length === 0) throw validationError(['no result records to rank'], 'cannot rank');
  const problems: string[] = [];
  const distinct = (what: string, pick: (r: ResultRecord) => string | number) => {
    const seen = [...new Set(records.map(pick))];
    if (seen.length > 1) problems.push(`the records mix ${what}: ${seen.join(', ')}; rank one ${what.replace(/s$/, '')} at a time`);
  };
  distinct('workloads', (r) => r.config.workload);
  distinct('networks', networkOf);
  distinct('client counts', (r) => r.config.clients);
  distinct('rates', (r) => r.config.ratePerS);
  if (problems.length > 0) throw validationError(problems, 'cannot rank');

  const valid = new Map<TransportName, RunSummary[]>();
  const invalidByTransport: Partial<Record<TransportName, number>> = {};
  const invalidReasons: string[] = [];
  let invalid = 0;
  for (const r of records) {
    const t = r.config.transport;
    if (!valid.has(t)) valid.set(t, []);
    if (r.valid && r.summary.valid) {
      valid.get(t)!.push(r.summary);
    } else {
      invalid++;
      invalidByTransport[t] = (invalidByTransport[t] ?? 0) + 1;
      const reasons = [...new Set([...r.invalidReasons, ...r.summary.invalidReasons])];
      invalidReasons.push(`${r.name}: ${reasons.join('; ') || 'marked invalid'}`);
    }
  }
  const claimedOrder = (opts.claimedOrder ?? CLAIMED_ORDER).filter((t) => valid.has(t));
  const metrics = RANK_METRICS.map((m) => rankMetric(m, valid, claimedOrder, level));
  return {
    workload: records[0].config.workload,
    network: networkOf(records[0]),
    clients: records[0].config.clients,
    ratePerS: records[0].config.ratePerS,
    level,
    claimedOrder,
    runs: { total: records.length, valid: records.length - invalid, invalid, invalidByTransport, invalidReasons },
    metrics,
  };
}
