/**
 * A scale-out plan: one run spread over many machines, written once and read by every shard and
 * by merge. It holds everything a shard needs to compute its part alone (no coordinator during
 * the run): the run's configuration, the shard count, the one histogram configuration, the
 * absolute start and its tolerance. Its `id` is a hash of its canonical form, so a record names
 * the plan it ran and merge refuses records of another.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PushbenchError, validationError } from '../core/errors.ts';
import { HISTOGRAM_CONFIG } from '../core/histogram.ts';
import type { RunConfig } from '../core/record.ts';
import { TRANSPORTS } from '../load/drivers/index.ts';
import { WORKLOADS } from '../load/workload.ts';

export const PLAN_SCHEMA = 'pushbench/plan';
export const PLAN_VERSION = 1;

/**
 * The run every shard takes its slice of: the fields of a record's RunConfig a plan fixes;
 * `clients` and `arrivalRatePerS` count over all shards (client k arrives at startAt + k / rate),
 * and `target` is the server every shard measures (origin of an http(s):// URL).
 */
export type PlanRun = Pick<RunConfig, 'transport' | 'workload' | 'clients' | 'durationMs' | 'warmupMs' | 'ratePerS' | 'payloadBytes' | 'topics' | 'pollIntervalMs' | 'longPollTimeoutMs' | 'arrivalRatePerS'> & { target: string };

export interface Plan {
  schema: typeof PLAN_SCHEMA;
  version: typeof PLAN_VERSION;
  /** hash of the canonical form of every other field ({@link planId}) */
  id: string;
  name: string;
  run: PlanRun;
  shards: number;
  /** the histogram configuration every shard records with (core/histogram.ts HISTOGRAM_CONFIG) */
  histogram: typeof HISTOGRAM_CONFIG;
  start: {
    /** absolute wall-clock time (ISO 8601, UTC) of the first client's arrival */
    at: string;
    /** a shard that starts later than this marks the merged run invalid, naming the shard */
    toleranceMs: number;
    /**
     * present: the shards meet at a start barrier (dist/barrier.ts) and run to the start shard 0
     * announces once all have reported ready, never before `at`; one that has not reported within
     * `timeoutMs` makes every shard fail naming it
     */
    barrier?: { timeoutMs: number };
  };
  clock: {
    /** a shard whose clock offset is less certain than this share of the run's p50 makes the run invalid */
    maxUncertaintyShare: number;
  };
  /**
   * present: the run is a staircase (`plan --staircase`): the clients grow through these counts
   * over all shards (ascending, the last = run.clients), each step `run.durationMs` long of which
   * `run.warmupMs` is not measured, one after the other on the run's schedule from the start
   * (load/run/schedule.ts), so every shard computes the same absolute times; merge judges each
   * step against `slo` (capacity's terms) and reports the capacity
   */
  staircase?: { clients: number[]; slo: string };
}

/** JSON with object keys sorted at every level: the form the id hashes. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The id of a plan: the first 16 hex digits of SHA-256 over its canonical form without `id`. */
export function planId(plan: Omit<Plan, 'id'> & { id?: string }): string {
  const { id: _id, ...rest } = plan;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 16);
}

/** A plan of these parts, its id made. */
export function makePlan(parts: Omit<Plan, 'schema' | 'version' | 'id' | 'histogram'>): Plan {
  const body = { schema: PLAN_SCHEMA, version: PLAN_VERSION, ...parts, histogram: { ...HISTOGRAM_CONFIG } } as const;
  return { ...body, id: planId(body) };
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isInt = (x: unknown): x is number => Number.isInteger(x);

/** Every problem of the run part (field paths as `run.<field>`). */
function runProblems(r: Record<string, unknown>): string[] {
  const out: string[] = [];
  const need = (k: string, ok: boolean, what: string) => { if (!ok) out.push(`run.${k} must be ${what} (got ${JSON.stringify(r[k])})`); };
  need('transport', typeof r.transport === 'string' && TRANSPORTS.includes(r.transport), `one of ${TRANSPORTS.join(', ')}`);
  need('workload', typeof r.workload === 'string' && (WORKLOADS as readonly string[]).includes(r.workload), `one of ${WORKLOADS.join(', ')}`);
  for (const k of ['clients', 'topics']) need(k, isInt(r[k]) && (r[k] as number) >= 1, 'a whole number ≥ 1');
  for (const k of ['durationMs', 'warmupMs', 'payloadBytes', 'pollIntervalMs', 'longPollTimeoutMs', 'ratePerS']) need(k, isNum(r[k]) && (r[k] as number) >= 0, 'a number ≥ 0');
  need('arrivalRatePerS', isNum(r.arrivalRatePerS) && (r.arrivalRatePerS as number) > 0, 'a number > 0');
  if (isNum(r.warmupMs) && isNum(r.durationMs) && r.warmupMs >= r.durationMs) out.push(`run.warmupMs (${r.warmupMs}) must be below run.durationMs (${r.durationMs})`);
  let target: URL | null = null;
  try { target = typeof r.target === 'string' ? new URL(r.target) : null; } catch { target = null; }
  need('target', target !== null && (target.protocol === 'http:' || target.protocol === 'https:'), 'an http:// or https:// URL');
  return out;
}

/** Every problem of a plan's staircase (absent: none). */
function staircaseProblems(v: unknown, shards: unknown, clients: unknown): string[] {
  if (v === undefined) return [];
  const st = v as Record<string, unknown> | null;
  const counts = st?.clients;
  if (typeof st !== 'object' || st === null || !Array.isArray(counts) || counts.length === 0 || !counts.every(isInt)) return [`staircase.clients must be a list of whole numbers (got ${JSON.stringify(counts)})`];
  const out: string[] = [];
  if (counts.some((c, i) => i > 0 && c <= counts[i - 1])) out.push(`staircase.clients must ascend (got ${counts.join(', ')})`);
  if (isInt(shards) && counts[0] < shards) out.push(`staircase.clients: the first step (${counts[0]}) must be at least shards (${shards}): every shard takes one client or more`);
  if (counts[counts.length - 1] !== clients) out.push(`staircase.clients: the last step (${counts[counts.length - 1]}) must be run.clients (${JSON.stringify(clients)})`);
  if (typeof st.slo !== 'string' || st.slo === '') out.push('staircase.slo must be an SLO like "p99<250ms,lost=0"');
  return out;
}

/**
 * Every problem of a parsed plan file, each naming its field; empty: a plan this pushbench runs.
 * The id must match the content (a hand-edited plan would otherwise pass as the one it was).
 */
export function planProblems(v: unknown): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['the file is not a JSON object'];
  const p = v as Record<string, unknown>;
  const out: string[] = [];
  if (p.schema !== PLAN_SCHEMA) out.push(`schema must be "${PLAN_SCHEMA}" (got ${JSON.stringify(p.schema)})`);
  if (p.version !== PLAN_VERSION) out.push(`version must be ${PLAN_VERSION} (got ${JSON.stringify(p.version)}); made by another pushbench?`);
  if (typeof p.name !== 'string' || p.name === '') out.push('name must be a non-empty string');
  if (!isInt(p.shards) || (p.shards as number) < 1) out.push(`shards must be a whole number ≥ 1 (got ${JSON.stringify(p.shards)})`);
  const run = p.run;
  if (typeof run !== 'object' || run === null) out.push('run is missing or not an object');
  else {
    out.push(...runProblems(run as Record<string, unknown>));
    const clients = (run as Record<string, unknown>).clients;
    if (isInt(p.shards) && isInt(clients) && clients < p.shards) out.push(`run.clients (${clients}) must be at least shards (${p.shards}): every shard takes one client or more`);
  }
  if (canonicalJson(p.histogram) !== canonicalJson(HISTOGRAM_CONFIG)) out.push(`histogram must be ${canonicalJson(HISTOGRAM_CONFIG)} (this pushbench records with it; got ${canonicalJson(p.histogram)})`);
  const start = p.start as Record<string, unknown> | undefined;
  if (typeof start !== 'object' || start === null) out.push('start is missing or not an object');
  else {
    if (typeof start.at !== 'string' || Number.isNaN(Date.parse(start.at))) out.push(`start.at must be an ISO 8601 time (got ${JSON.stringify(start.at)})`);
    if (!isNum(start.toleranceMs) || start.toleranceMs < 0) out.push(`start.toleranceMs must be a number ≥ 0 (got ${JSON.stringify(start.toleranceMs)})`);
    const b = start.barrier as Record<string, unknown> | undefined;
    if (b !== undefined && (typeof b !== 'object' || b === null || !isNum(b.timeoutMs) || b.timeoutMs <= 0)) out.push(`start.barrier.timeoutMs must be a number > 0 (got ${JSON.stringify(b?.timeoutMs)})`);
  }
  out.push(...staircaseProblems(p.staircase, p.shards, (run as Record<string, unknown> | undefined)?.clients));
  const clock = p.clock as Record<string, unknown> | undefined;
  if (typeof clock !== 'object' || clock === null || !isNum(clock.maxUncertaintyShare) || clock.maxUncertaintyShare <= 0) out.push(`clock.maxUncertaintyShare must be a number > 0 (got ${JSON.stringify(clock?.maxUncertaintyShare)})`);
  if (typeof p.id !== 'string') out.push('id is missing or not a string');
  else if (out.length === 0 && p.id !== planId(p as unknown as Plan)) out.push(`id ${p.id} does not match the plan's content (${planId(p as unknown as Plan)}): the file was edited after it was made; make it again with pushbench plan`);
  return out;
}

/** Read and check a plan file; throws PB_BAD_OPTION listing every problem. */
export function readPlan(path: string): Plan {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PushbenchError('PB_BAD_OPTION', `plan ${path} cannot be read: ${(err as Error).message}`);
  }
  const problems = planProblems(v);
  if (problems.length) throw validationError(problems, `plan ${path} is not a plan this pushbench runs`);
  return v as Plan;
}
