/**
 * What `compare` and `ab` judge: the metrics, each with its kind of change, its default threshold
 * and the drift allowance of sets measured apart in time; and `--max-regression`, parsed over the
 * defaults. The defaults were chosen with `npm run bench:gate` (docs/regression-gate.md has the
 * figures, the command and the date). Pure.
 */
import { formatBytes, formatUs, parseFraction } from '../core/units.ts';
import type { ResultRecord } from '../core/record.ts';
import { errorRate, lossRate, undeliveredRate } from '../reports/rates.ts';
import { formatSig3 } from '../reports/ranking.ts';

/**
 * relative: compared as a ratio (on log values), thresholds in % of the baseline;
 * absolute: compared as a difference of rates, thresholds in percentage points.
 */
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
  /**
   * The spread a whole set of runs takes on, on the test's scale (log for relative metrics), when
   * it is measured at another time than the set it is compared with: the machine's drift between
   * the sets, which the repeats inside one set never see. It widens the interval of a comparison
   * of two sets measured apart (`compare`), not of pairs taken back to back (`ab`), where the
   * drift falls on both sides. 0 until measured on the machines the gate runs on:
   * `bench:gate --order sequential` prints it per transport and metric, `--drift` tries values.
   */
  setDrift: number;
}

const ifDelivered = (r: ResultRecord, v: number) => (r.summary.delivered > 0 ? v : null);
const percent = (v: number) => `${formatSig3(v * 100)} %`;

/** The compared metrics, in table order. */
export const COMPARE_METRICS: readonly CompareMetric[] = Object.freeze([
  { key: 'p50', label: 'delivery latency p50', kind: 'relative', value: (r) => ifDelivered(r, r.summary.latencyUs.p50), format: formatUs, defaultThreshold: 0.10, machineDependent: true, setDrift: 0 },
  { key: 'p99', label: 'delivery latency p99', kind: 'relative', value: (r) => ifDelivered(r, r.summary.latencyUs.p99), format: formatUs, defaultThreshold: 0.10, machineDependent: true, setDrift: 0 },
  { key: 'p999', label: 'delivery latency p99.9', kind: 'relative', value: (r) => ifDelivered(r, r.summary.latencyUs.p999), format: formatUs, defaultThreshold: null, machineDependent: true, setDrift: 0 },
  { key: 'cpu', label: 'server CPU per message', kind: 'relative', value: (r) => r.summary.serverCpuUsPerMessage, format: (v) => `${formatSig3(v)}µs`, defaultThreshold: 0.15, machineDependent: true, setDrift: 0 },
  { key: 'bytes', label: 'bytes on the wire per message', kind: 'relative', value: (r) => r.summary.bytesPerMessage, format: (v) => `${formatSig3(v)}B`, defaultThreshold: 0.05, machineDependent: false, setDrift: 0 },
  { key: 'requests', label: 'requests per message', kind: 'relative', value: (r) => ifDelivered(r, r.summary.requestsPerMessage), format: formatSig3, defaultThreshold: 0.05, machineDependent: false, setDrift: 0 },
  // connections opened count reconnects too, which a slow machine's timeouts can cause
  { key: 'connections', label: 'TCP connections opened', kind: 'relative', value: (r) => r.summary.connectionsOpened, format: formatSig3, defaultThreshold: 0.10, machineDependent: true, setDrift: 0 },
  { key: 'rss', label: 'server RSS per connection', kind: 'relative', value: (r) => r.summary.serverRssBytesPerConnection, format: formatBytes, defaultThreshold: null, machineDependent: true, setDrift: 0 },
  { key: 'lost', label: 'lost (of expected messages)', kind: 'absolute', value: lossRate, format: percent, defaultThreshold: 0.001, machineDependent: false, setDrift: 0 },
  { key: 'undelivered', label: 'undelivered (of expected messages)', kind: 'absolute', value: undeliveredRate, format: percent, defaultThreshold: 0.001, machineDependent: false, setDrift: 0 },
  { key: 'errors', label: 'errors (of requests + connections)', kind: 'absolute', value: errorRate, format: percent, defaultThreshold: 0.001, machineDependent: false, setDrift: 0 },
] satisfies CompareMetric[]);

/** Threshold per metric key; null = not gated. */
export type Thresholds = Record<string, number | null>;

export function defaultThresholds(): Thresholds {
  return Object.fromEntries(COMPARE_METRICS.map((m) => [m.key, m.defaultThreshold]));
}

/**
 * The defaults for runs taken in pairs back to back (`ab`, `compare --paired`): server CPU at 5 %
 * instead of 15 %. Pairs seconds apart see a CPU change that two sets measured apart cannot, and
 * bench:gate on the gate's configuration caught +30 % server CPU at 5 % in every comparison and at
 * 15 % in almost none, with no A/A comparison failing at either (docs/regression-gate.md).
 */
export function pairedThresholds(): Thresholds {
  return { ...defaultThresholds(), cpu: 0.05 };
}

/**
 * Parse `--max-regression p99=10%,cpu=15%,lost=0,rss=off` over `base` (the defaults). A value is a
 * percentage (`10%`) or a fraction (`0.1`); for lost and errors it is in percentage points of the
 * rate; `off` reports the metric without gating it. Returns every problem at once. Pure.
 */
export function parseThresholds(text: string | undefined, base: Thresholds = defaultThresholds()): { thresholds: Thresholds; problems: string[] } {
  const thresholds = { ...base };
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

/** The defaults as `p50=10%, …, rss=off`, for help texts. */
export function defaultThresholdsText(): string {
  return COMPARE_METRICS.map((m) => `${m.key}=${m.defaultThreshold === null ? 'off' : `${+(m.defaultThreshold * 100).toFixed(3)}%`}`).join(', ');
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
