/**
 * Which runs `pushbench compare` sets against each other: the runs of one transport, workload and
 * network from both sides (and of one rate and client count, the cell, when a side is a rank's grid); whether they may be compared at all (a configuration difference is a
 * problem unless forced; a server-side setting or an environment that differs is a warning); and
 * which machine each side ran on, for the rule that keeps machine-dependent metrics ungated
 * across machines (gate/compare.ts). Pure: records in, a plan out.
 */
import type { TransportName } from '../core/wire.ts';
import { DRIVERS } from '../load/drivers/index.ts';
import type { TransportTraits } from '../load/drivers/types.ts';
import type { Environment, ResultRecord, RunConfig } from '../core/record.ts';

/** Runs of one transport, workload and network, from both sides (valid, complete runs only). */
export interface RunGroup {
  transport: TransportName;
  workload: string;
  network: string;
  /** `ws broadcast on loopback` */
  label: string;
  baseline: ResultRecord[];
  current: ResultRecord[];
  /**
   * baseline[i] and current[i] ran back to back as a pair (`pushbench ab`): compared pair by pair,
   * so the machine's drift between pairs falls out. Absent: two sets measured apart.
   */
  paired?: boolean;
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
  { key: 'tls', label: 'TLS', format: (v) => (v ? 'on' : 'off') },
  { key: 'wsCompression', label: 'WebSocket compression', format: (v) => (v ? 'on' : 'off') },
  { key: 'tlsRecordBytes', label: 'TLS record size', format: (v) => (v === undefined ? '16 KB' : `${v} B`) },
  { key: 'payloadKind', label: 'payload kind', format: (v) => String(v ?? 'text') },
  { key: 'largeTopicBytes', label: 'large topic t0', format: (v) => (v === undefined ? 'none' : `${v} B`) },
  { key: 'reconnectDelayMs', label: 'reconnect delay', format: (v) => (v === undefined ? '100 ms' : `${v} ms`) },
  { key: 'reconnectJitter', label: 'reconnect jitter', format: (v) => `±${Math.round(100 * Number(v ?? 0.2))} %` },
  { key: 'streamsPerConnection', label: 'streams per connection', format: (v) => String(v ?? 1), appliesTo: having('multiplexes') },
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
  { key: 'serverCpuLimit', label: 'the reference server\'s CPU limit', format: (v) => (v === undefined ? 'none' : `${v} CPU`) },
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

const baseKey = (r: ResultRecord) => `${r.config.transport}\u0000${r.config.workload}\u0000${r.config.network}`;
const cellOf = (r: ResultRecord) => `${r.config.ratePerS}\u0000${r.config.clients}`;
const usable = (r: ResultRecord) => r.complete && r.valid && r.summary.valid;

/**
 * True when a side ran one transport, workload and network at several rates or client counts (a
 * rank's grid): then each cell is a group of its own, matched with the same cell on the other side.
 */
export function splitsCells(side: readonly ResultRecord[]): boolean {
  const cells = new Map<string, Set<string>>();
  for (const r of side) {
    if (!cells.has(baseKey(r))) cells.set(baseKey(r), new Set());
    cells.get(baseKey(r))!.add(cellOf(r));
  }
  return [...cells.values()].some((c) => c.size > 1);
}

/** How runs are grouped: by transport, workload and network, and by cell (rate, clients) over a grid. */
function grouping(byCell: boolean) {
  return {
    key: (r: ResultRecord) => (byCell ? `${baseKey(r)}\u0000${cellOf(r)}` : baseKey(r)),
    label: (r: ResultRecord) => `${r.config.transport} ${r.config.workload} on ${r.config.network}${byCell ? ` at ${r.config.ratePerS} msg/s, ${r.config.clients} clients` : ''}`,
  };
}

function byGroup(records: readonly ResultRecord[], groupKey: (r: ResultRecord) => string): Map<string, ResultRecord[]> {
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
  const { key: groupKey, label: groupLabel } = grouping(splitsCells(baseline) || splitsCells(current));
  const b = byGroup(baseline, groupKey);
  const c = byGroup(current, groupKey);
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

// ---- machines ------------------------------------------------------------------------------

/** `Intel(R) Xeon(R) Processor ×1, Node v20.20.2`: what latency and CPU figures depend on. */
export function machineOf(e: Environment): string {
  return `${e.cpuModel} ×${e.cores}, Node ${e.node}`;
}

export interface Machines {
  /** the machines each side's runs were made on (usually one a side) */
  baseline: string[];
  current: string[];
  /**
   * Both sides on one kind of machine (the same CPU model, core count and Node version): only
   * then are the machine-dependent metrics (latency, CPU) gated.
   */
  same: boolean;
}

/** The machines of both sides' runs. */
export function machinesOf(baseline: readonly ResultRecord[], current: readonly ResultRecord[]): Machines {
  const of = (rs: readonly ResultRecord[]) => [...new Set(rs.map((r) => machineOf(r.environment)))];
  const b = of(baseline);
  const c = of(current);
  return { baseline: b, current: c, same: b.length === 1 && c.length === 1 && b[0] === c[0] };
}

// ---- pairs ---------------------------------------------------------------------------------

/**
 * The plan's groups with their runs matched into pairs by `pairOf` (the same key on both sides:
 * two runs taken back to back), in key order, `paired` set. A run whose partner was left out
 * (invalid, incomplete) is left out too, with a warning: a pair is compared only whole.
 */
export function pairRuns(plan: ComparisonPlan, pairOf: (r: ResultRecord) => string): ComparisonPlan {
  const warnings = [...plan.warnings];
  const groups = plan.groups.map((g) => {
    const b = new Map(g.baseline.map((r) => [pairOf(r), r]));
    const c = new Map(g.current.map((r) => [pairOf(r), r]));
    const keys = [...b.keys()].filter((k) => c.has(k)).sort();
    for (const [side, m] of [['baseline', b], ['current', c]] as const) {
      for (const [k, r] of m) if (!keys.includes(k)) warnings.push(`${g.label}: ${side} run ${r.name} has no valid partner in pair ${k}; left out of the paired comparison`);
    }
    return { ...g, baseline: keys.map((k) => b.get(k)!), current: keys.map((k) => c.get(k)!), paired: true };
  });
  return { ...plan, groups, warnings };
}
