/**
 * `--assert "p99<50ms,lost=0,errors<0.1%"` on run and rank: absolute thresholds, like k6's.
 * Parsed and validated before any run (every problem at once), evaluated on each run's record
 * afterwards. Pure.
 *
 * An assertion is METRIC OP VALUE, comma-separated; OP is <, <=, >, >= or = (== too).
 * - p50, p90, p99, p999, max: delivery latency; a duration (`50ms`, `800us`, `1s`; bare = ms).
 * - lost, undelivered, duplicates, errors, delivered: a count (`lost=0`) or, with %, a rate: lost,
 *   undelivered and delivered of expected messages, duplicates of delivered, errors of HTTP
 *   requests + connections. Undelivered is measured only where expected comes from the schedule.
 * - cpu: server CPU per message (`20us`, bare = µs); bytes: bytes on the wire per message and
 *   rss: server RSS per connection (`200`, `2KB`); requests: HTTP requests per message (a number).
 * A run must also be valid (its generator was not saturated): an invalid run fails every gate.
 */
import type { ResultRecord } from '../core/record.ts';
import { deliveredRate, duplicateRate, errorRate, lossRate, undeliveredRate } from '../reports/rates.ts';
import { formatSig3 } from '../reports/ranking.ts';
import type { OptionSpec } from '../core/options.ts';
import { formatBytes, formatUs, parseBytes, parseDurationMs } from '../core/units.ts';

export type AssertOp = '<' | '<=' | '>' | '>=' | '=';

type ValueKind = 'latency' | 'countOrRate' | 'cpu' | 'bytes' | 'number';

interface AssertMetric {
  kind: ValueKind;
  /** the run's figure in the metric's unit (µs, count, bytes…); null when not measured */
  value(r: ResultRecord): number | null;
  /** for countOrRate: the rate (fraction) the `%` form compares */
  rate?(r: ResultRecord): number | null;
  /** what the count or rate is of, for messages */
  of?: string;
}

const ifDelivered = (r: ResultRecord, v: number) => (r.summary.delivered > 0 ? v : null);

const ASSERT_METRICS: Record<string, AssertMetric> = {
  p50: { kind: 'latency', value: (r) => ifDelivered(r, r.summary.latencyUs.p50) },
  p90: { kind: 'latency', value: (r) => ifDelivered(r, r.summary.latencyUs.p90) },
  p99: { kind: 'latency', value: (r) => ifDelivered(r, r.summary.latencyUs.p99) },
  p999: { kind: 'latency', value: (r) => ifDelivered(r, r.summary.latencyUs.p999) },
  max: { kind: 'latency', value: (r) => ifDelivered(r, r.summary.latencyUs.max) },
  lost: { kind: 'countOrRate', value: (r) => r.summary.lost, rate: lossRate, of: 'expected messages' },
  undelivered: { kind: 'countOrRate', value: (r) => r.summary.undelivered ?? null, rate: undeliveredRate, of: 'expected messages' },
  duplicates: { kind: 'countOrRate', value: (r) => r.summary.duplicates, rate: duplicateRate, of: 'delivered messages' },
  errors: { kind: 'countOrRate', value: (r) => r.summary.errors, rate: errorRate, of: 'HTTP requests + connections' },
  delivered: { kind: 'countOrRate', value: (r) => r.summary.delivered, rate: deliveredRate, of: 'expected messages' },
  cpu: { kind: 'cpu', value: (r) => r.summary.serverCpuUsPerMessage },
  bytes: { kind: 'bytes', value: (r) => r.summary.bytesPerMessage },
  rss: { kind: 'bytes', value: (r) => r.summary.serverRssBytesPerConnection },
  requests: { kind: 'number', value: (r) => ifDelivered(r, r.summary.requestsPerMessage) },
};

export const ASSERT_METRIC_NAMES: readonly string[] = Object.freeze(Object.keys(ASSERT_METRICS));

export interface Assertion {
  /** as typed, trimmed */
  text: string;
  metric: string;
  op: AssertOp;
  /** in the metric's unit: µs for latency and cpu, bytes, a count, a number, or a fraction when `rate` */
  value: number;
  /** true: compares the rate (`errors<0.1%`), false: the count or figure */
  rate: boolean;
}

/** The `--assert` option, shared by run and rank. */
export const ASSERT_OPTION_SPEC: OptionSpec = Object.freeze({
  name: 'assert', kind: 'string', arg: 'LIST',
  help: `absolute thresholds every run must meet, e.g. "p99<50ms,lost=0,errors<0.1%" (failures: exit 1); metrics: ${ASSERT_METRIC_NAMES.join(', ')}`,
});

const ASSERTION_RE = /^([a-z0-9]+)\s*(<=|>=|==|<|>|=)\s*(.+)$/i;

/** ms → µs without binary fractions leaking in (0.8 ms is 800 µs, not 800.0000000000001). */
const msToUs = (ms: number) => Number((ms * 1000).toPrecision(12));

function parseValue(name: string, metric: AssertMetric, raw: string): { value?: number; rate?: boolean; problem?: string } {
  const text = raw.trim().replace(/µs$/, 'us');
  switch (metric.kind) {
    case 'latency': {
      const ms = parseDurationMs(text, 'ms');
      return ms === undefined ? { problem: `${name}: "${raw}" is not a duration like 50ms, 800us or 1s` } : { value: msToUs(ms), rate: false };
    }
    case 'cpu': {
      const ms = parseDurationMs(text, 'us');
      return ms === undefined ? { problem: `cpu: "${raw}" is not a time per message like 20us` } : { value: msToUs(ms), rate: false };
    }
    case 'bytes': {
      const b = parseBytes(text);
      return b === undefined ? { problem: `${name}: "${raw}" is not a size like 200 or 2KB` } : { value: b, rate: false };
    }
    case 'number': {
      const n = text !== '' && Number.isFinite(Number(text)) ? Number(text) : undefined;
      return n === undefined ? { problem: `${name}: "${raw}" is not a number` } : { value: n, rate: false };
    }
    case 'countOrRate': {
      const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
      // rounded so that 99.9% is 0.999, not 0.9990000000000001 (which a rate of exactly 0.999 would fail)
      if (pct) return Number(pct[1]) > 100 ? { problem: `${name}: ${raw} is more than 100 %` } : { value: Number((Number(pct[1]) / 100).toPrecision(12)), rate: true };
      return /^\d+$/.test(text) ? { value: Number(text), rate: false } : { problem: `${name}: "${raw}" is not a count like 0 or a rate like 0.1%` };
    }
  }
}

/** Parse `--assert`; returns the assertions and every problem (one sentence each). Pure. */
export function parseAssertions(text: string): { assertions: Assertion[]; problems: string[] } {
  const assertions: Assertion[] = [];
  const problems: string[] = [];
  const items = text.split(',').map((s) => s.trim());
  if (items.every((s) => s === '')) return { assertions, problems: ['--assert is empty; give e.g. "p99<50ms,lost=0"'] };
  for (const item of items) {
    if (item === '') continue;
    const m = ASSERTION_RE.exec(item);
    if (!m) { problems.push(`--assert: "${item}" is not METRIC OP VALUE (e.g. p99<50ms; OP is <, <=, >, >= or =)`); continue; }
    const name = m[1].toLowerCase();
    const metric = ASSERT_METRICS[name];
    if (!metric) { problems.push(`--assert: unknown metric "${m[1]}" in "${item}"; the metrics are ${ASSERT_METRIC_NAMES.join(', ')}`); continue; }
    const { value, rate, problem } = parseValue(name, metric, m[3]);
    if (problem) { problems.push(`--assert: ${problem}`); continue; }
    assertions.push({ text: item, metric: name, op: (m[2] === '==' ? '=' : m[2]) as AssertOp, value: value!, rate: rate! });
  }
  return { assertions, problems };
}

/** The `--assert` value of parsed options: assertions, with problems appended to `problems`. */
export function assertionsOption(raw: unknown, problems: string[]): Assertion[] {
  if (typeof raw !== 'string') return [];
  const parsed = parseAssertions(raw);
  problems.push(...parsed.problems);
  return parsed.assertions;
}

export interface AssertionOutcome {
  assertion: Assertion;
  run: string;
  /** the run's figure in the assertion's unit; null when not measured */
  actual: number | null;
  passed: boolean;
  /** `p99<50ms: ws-r1 had 61.2ms` */
  message: string;
}

function holds(actual: number, op: AssertOp, limit: number): boolean {
  switch (op) {
    case '<': return actual < limit;
    case '<=': return actual <= limit;
    case '>': return actual > limit;
    case '>=': return actual >= limit;
    case '=': return actual === limit;
  }
}

function show(a: Assertion, v: number): string {
  if (a.rate) return `${formatSig3(v * 100)} %`;
  switch (ASSERT_METRICS[a.metric].kind) {
    case 'latency': return formatUs(v);
    case 'cpu': return `${formatSig3(v)}µs per message`;
    case 'bytes': return formatBytes(v);
    default: return formatSig3(v);
  }
}

/**
 * Evaluate every assertion on one run. A figure the run did not measure fails (the gate cannot
 * vouch for it); an invalid run fails with its reasons.
 */
export function evaluateAssertions(assertions: readonly Assertion[], record: ResultRecord): AssertionOutcome[] {
  const out: AssertionOutcome[] = [];
  for (const a of assertions) {
    const metric = ASSERT_METRICS[a.metric];
    const actual = a.rate ? metric.rate!(record) : metric.value(record);
    if (actual === null || !Number.isFinite(actual)) {
      out.push({ assertion: a, run: record.name, actual: null, passed: false, message: `${a.text}: ${record.name} did not measure ${a.metric}${a.rate ? ` (no ${metric.of})` : ''}` });
      continue;
    }
    const passed = holds(actual, a.op, a.value);
    const what = a.rate ? ` of ${metric.of}` : '';
    out.push({ assertion: a, run: record.name, actual, passed, message: `${a.text}: ${record.name} had ${show(a, actual)}${what}` });
  }
  if (assertions.length > 0 && !(record.valid && record.summary.valid)) {
    const why = [...new Set([...record.invalidReasons, ...record.summary.invalidReasons])].join('; ') || 'marked invalid';
    out.push({ assertion: { text: 'valid', metric: 'valid', op: '=', value: 1, rate: false }, run: record.name, actual: 0, passed: false, message: `${record.name} is invalid (${why}): its figures cannot pass a gate` });
  }
  return out;
}

/**
 * Evaluate on every run and say how it went: the lines to print (failures with their numbers)
 * and whether all passed. No assertions: nothing to say, passed.
 */
export function checkAssertions(assertions: readonly Assertion[], records: readonly ResultRecord[]): { passed: boolean; lines: string[] } {
  if (assertions.length === 0) return { passed: true, lines: [] };
  const outcomes = records.flatMap((r) => evaluateAssertions(assertions, r));
  const failed = outcomes.filter((o) => !o.passed);
  if (failed.length === 0) return { passed: true, lines: [`assertions: all ${outcomes.length} passed (${assertions.map((a) => a.text).join(', ')})`] };
  return { passed: false, lines: [`assertions: ${failed.length} of ${outcomes.length} failed:`, ...failed.map((o) => `  FAILED ${o.message}`)] };
}
