/**
 * The capacity search, pure: the SLO (`p99<250ms,lost=0,errors<0.1%`), the verdict of one step
 * against it, and the search itself — double from the start until the SLO breaks, then bisect
 * between the last pass and the first failure until the bracket is within the precision.
 *
 * Nothing here starts a server or a client: a step is a `probe(clients)` the caller supplies and
 * machine limits come from a `limitFor(clients)` the caller supplies, so tests drive the search
 * with a simulated server and the command drives it with real runs.
 */
import type { ResultRecord, RunSummary } from '../core/record.ts';
import { formatUs, parseDurationMs } from '../core/units.ts';

export type LatencyMetric = 'p50' | 'p90' | 'p99' | 'p99.9' | 'max';
export type CountMetric = 'lost' | 'undelivered' | 'errors';

/**
 * One term of an SLO. Latencies are µs and always `<`/`<=`; counts are either absolute
 * (`lost=0`, `errors<10`) or a fraction (`errors<0.1%`: of expected messages for `lost` and
 * `undelivered`, of connections plus HTTP requests for `errors`).
 */
export interface SloTerm {
  metric: LatencyMetric | CountMetric;
  op: '<' | '<=' | '=';
  value: number;
  unit: 'us' | 'count' | 'fraction';
  /** as the user wrote it, for messages */
  text: string;
}

export interface Slo {
  terms: SloTerm[];
  text: string;
}

/** What a step must hold unless told otherwise (`capacity --slo`, `plan --slo`). */
export const DEFAULT_SLO = 'p99<250ms,lost=0,errors<0.1%';

const LATENCY_METRICS: readonly LatencyMetric[] = ['p50', 'p90', 'p99', 'p99.9', 'max'];
const TERM_RE = /^\s*(p50|p90|p99|p99\.9|p999|max|lost|undelivered|errors)\s*(<=|<|=)\s*([0-9.]+\s*[a-z%]*)\s*$/i;

/** Parse an SLO; `problems` lists every term that cannot be read (empty: the SLO is usable). */
export function parseSlo(text: string): { slo: Slo; problems: string[] } {
  const terms: SloTerm[] = [];
  const problems: string[] = [];
  for (const raw of text.split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = TERM_RE.exec(raw);
    if (!m) {
      problems.push(`--slo: cannot read "${raw}" (terms look like p99<250ms, lost=0, undelivered=0, errors<0.1%)`);
      continue;
    }
    const name = m[1].toLowerCase();
    const metric = (name === 'p999' ? 'p99.9' : name) as SloTerm['metric'];
    const op = m[2] as SloTerm['op'];
    const value = m[3].replace(/\s+/g, '');
    if ((LATENCY_METRICS as readonly string[]).includes(metric)) {
      const ms = parseDurationMs(value, 'ms');
      if (ms === undefined || op === '=') problems.push(`--slo: "${raw}" needs a bound like ${metric}<250ms`);
      else terms.push({ metric, op, value: ms * 1000, unit: 'us', text: raw });
    } else if (value.endsWith('%')) {
      const pct = Number(value.slice(0, -1));
      if (!Number.isFinite(pct) || pct < 0 || pct > 100) problems.push(`--slo: "${raw}" needs a percentage from 0 to 100`);
      else terms.push({ metric, op, value: pct / 100, unit: 'fraction', text: raw });
    } else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) problems.push(`--slo: "${raw}" needs a whole number or a percentage`);
      else terms.push({ metric, op, value: n, unit: 'count', text: raw });
    }
  }
  if (terms.length === 0 && problems.length === 0) problems.push('--slo needs at least one term, e.g. "p99<250ms,lost=0"');
  return { slo: { terms, text: terms.map((t) => t.text).join(',') }, problems };
}

/** What a step is judged on (a record's summary holds all of it). */
export type StepFigures = Pick<RunSummary, 'latencyUs' | 'lost' | 'expected' | 'errors' | 'clients'> & {
  /** HTTP requests made in the window (the denominator of an error fraction, with the clients) */
  requests: number;
  /** expected from the publisher's schedule and not arrived by the drain's end (null: not measured) */
  undelivered: number | null;
};

export function figuresOf(r: ResultRecord): StepFigures {
  const s = r.summary;
  return { latencyUs: s.latencyUs, lost: s.lost, expected: s.expected, errors: s.errors, clients: s.clients, requests: r.counters.requests, undelivered: s.undelivered ?? null };
}

function holds(actual: number, op: SloTerm['op'], bound: number): boolean {
  return op === '<' ? actual < bound : op === '<=' ? actual <= bound : actual === bound;
}

/** The terms `f` breaks, one sentence each (`p99 312ms, above 250ms`); empty: the SLO holds. */
export function sloBreaks(slo: Slo, f: StepFigures): string[] {
  const out: string[] = [];
  for (const t of slo.terms) {
    if (t.unit === 'us') {
      const m = t.metric as LatencyMetric;
      const actual = m === 'p99.9' ? f.latencyUs.p999 : f.latencyUs[m];
      if (!holds(actual, t.op, t.value)) out.push(`${m} ${formatUs(actual)} breaks ${t.text}`);
      continue;
    }
    // a step without the publisher's schedule cannot show that nothing was left undelivered
    if (t.metric === 'undelivered' && f.undelivered === null) {
      out.push(`undelivered not measured (no publish schedule to expect from) breaks ${t.text}`);
      continue;
    }
    const count = t.metric === 'lost' ? f.lost : t.metric === 'undelivered' ? f.undelivered! : f.errors;
    if (t.unit === 'count') {
      if (!holds(count, t.op, t.value)) out.push(`${t.metric} ${count} breaks ${t.text}`);
      continue;
    }
    const of = t.metric === 'errors' ? f.clients + f.requests : f.expected;
    const frac = of > 0 ? count / of : 0;
    if (!holds(frac, t.op, t.value)) out.push(`${t.metric} ${(frac * 100).toPrecision(2)} % (${count} of ${of}) breaks ${t.text}`);
  }
  return out;
}

/** How one step came out. */
export type StepVerdict =
  | { kind: 'pass' }
  | { kind: 'fail'; reasons: string[] }
  /** the generator, not the server, was the bottleneck: the step says nothing about the server */
  | { kind: 'generator-bound'; reasons: string[] }
  | { kind: 'interrupted' };

const GENERATOR_REASON = /^(generator|latency proxy)/;

/**
 * Judge a step's record: interrupted, generator-bound (invalid because the generator or the proxy
 * saturated), or the SLO (other invalid reasons, like nothing delivered, are the server failing).
 */
export function judgeRecord(r: ResultRecord, slo: Slo): StepVerdict {
  if (!r.complete) return { kind: 'interrupted' };
  const generator = r.invalidReasons.filter((x) => GENERATOR_REASON.test(x));
  if (generator.length > 0) return { kind: 'generator-bound', reasons: generator };
  const reasons = [...r.invalidReasons, ...sloBreaks(slo, figuresOf(r))];
  return reasons.length === 0 ? { kind: 'pass' } : { kind: 'fail', reasons };
}

/** A limit of this machine that a step of `clients` would pass (open files, ports, memory). */
export interface MachineLimit {
  /** what runs out, e.g. "open files" */
  resource: string;
  /** the most clients the limit allows (0 when even one is too many) */
  maxClients: number;
  /** the sentence with the numbers, e.g. "32,000 connections need 16,200 open files per server process, above the hard limit of 20,000" */
  detail: string;
}

export interface SearchOptions {
  startClients: number;
  maxClients: number;
  /** stop bisecting when (fail − pass) / pass is at most this (0.05 = 5 %) */
  precision: number;
}

export type StopKind = 'slo' | 'generator-bound' | 'machine-limit' | 'max' | 'interrupted';

export interface SearchStep {
  clients: number;
  verdict: StepVerdict;
}

export interface SearchResult {
  /** the most clients that held the SLO (null: not even the smallest step did) */
  capacity: number | null;
  /** true when the search ended before finding where the SLO breaks (capacity is a lower bound) */
  lowerBound: boolean;
  stop: { kind: StopKind; atClients: number; message: string };
  steps: SearchStep[];
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Why a step ended the search before the SLO could: interrupted, or the generator's limit. */
function endedBy(n: number, v: Extract<StepVerdict, { kind: 'interrupted' | 'generator-bound' }>): string {
  return v.kind === 'interrupted' ? `interrupted at ${fmt(n)} clients` : `generator-bound at ${fmt(n)}: this is the load generator's limit, not the server's (${v.reasons.join('; ')})`;
}

/**
 * The capacity of a staircase whose steps were fixed beforehand (a scale-out plan's, judged after
 * the run by merge), read as the search's growth reads its steps: the most clients of the steps
 * that held the SLO before the first that broke it; an interrupted or generator-bound step ends it
 * there (the capacity a lower bound), and a staircase whose every step held gives a lower bound too.
 * `steps` in ascending order of clients.
 */
export function staircaseCapacity(steps: readonly SearchStep[]): SearchResult {
  let pass: number | null = null;
  const done = (kind: StopKind, atClients: number, message: string): SearchResult => ({ capacity: pass, lowerBound: kind !== 'slo', stop: { kind, atClients, message }, steps: [...steps] });
  for (const { clients, verdict } of steps) {
    if (verdict.kind === 'interrupted' || verdict.kind === 'generator-bound') return done(verdict.kind, clients, endedBy(clients, verdict));
    if (verdict.kind === 'fail') {
      return done('slo', clients, `SLO broke at ${fmt(clients)} clients (${verdict.reasons.join('; ')}); ${pass === null ? 'no capacity at this SLO' : `capacity ${fmt(pass)}`}`);
    }
    pass = clients;
  }
  const last = steps[steps.length - 1]?.clients ?? 0;
  return done('max', last, `the staircase's last step held the SLO: ${fmt(last)} clients; the capacity is at least this`);
}

/**
 * Run the search. `probe(clients)` measures one step; `limitFor(clients)` is asked before each
 * step and returns the machine limit that step would pass, or null. Steps run one at a time.
 */
export async function searchCapacity(
  opts: SearchOptions,
  probe: (clients: number) => Promise<StepVerdict>,
  limitFor: (clients: number) => MachineLimit | null = () => null,
): Promise<SearchResult> {
  const steps: SearchStep[] = [];
  let pass: number | null = null;
  let fail: number | null = null;
  /** a limit met while growing, after which the search tries the most the limit allows */
  let limited: { atClients: number; limit: MachineLimit } | null = null;
  let n = Math.min(opts.startClients, opts.maxClients);
  const done = (kind: StopKind, atClients: number, message: string): SearchResult => ({
    capacity: pass,
    lowerBound: kind !== 'slo',
    stop: { kind, atClients, message },
    steps,
  });
  const machineStop = (at: number, l: MachineLimit) =>
    done('machine-limit', at, `machine limit at ${fmt(at)} clients: ${l.detail}${pass !== null ? `; capacity is at least ${fmt(pass)}` : ''}`);

  for (;;) {
    const limit = limitFor(n);
    if (limit) {
      const allowed = Math.min(limit.maxClients, opts.maxClients);
      const worthTrying = !limited && allowed >= 1 && (pass === null || (allowed - pass) / pass > opts.precision) && (fail === null || allowed < fail);
      if (!worthTrying) return machineStop(n, limit);
      limited = { atClients: n, limit };
      n = allowed;
      continue;
    }
    const verdict = await probe(n);
    steps.push({ clients: n, verdict });
    if (verdict.kind === 'interrupted' || verdict.kind === 'generator-bound') return done(verdict.kind, n, endedBy(n, verdict));
    if (verdict.kind === 'pass') {
      pass = n;
      if (fail === null) {
        if (limited) return machineStop(limited.atClients, limited.limit);
        if (n >= opts.maxClients) return done('max', n, `--max reached: ${fmt(n)} clients held the SLO; the capacity is at least this`);
        n = Math.min(2 * n, opts.maxClients);
        continue;
      }
    } else {
      fail = n;
      if (pass === null) {
        if (n <= 1) return done('slo', n, `SLO broke at ${fmt(n)} client (${verdict.reasons.join('; ')}): no capacity at this SLO`);
        n = Math.floor(n / 2);
        continue;
      }
    }
    // Both ends known: bisect.
    const lo = pass!;
    const hi = fail!;
    if (hi - lo <= 1 || (hi - lo) / lo <= opts.precision) {
      const lastFail = [...steps].reverse().find((s) => s.clients === hi)?.verdict;
      const why = lastFail && lastFail.kind === 'fail' ? ` (${lastFail.reasons.join('; ')})` : '';
      return done('slo', hi, `SLO broke at ${fmt(hi)} clients${why}; capacity ${fmt(lo)} (within ${(((hi - lo) / lo) * 100).toFixed(1)} %)`);
    }
    n = Math.round((lo + hi) / 2);
  }
}

/** Servers like the measured one needed for `clients` at the measured capacity (no headroom). */
export function serversFor(clients: number, capacity: number): number {
  return Math.ceil(clients / capacity);
}

/** Open files each process keeps for itself (modules, pipes, timers' fds, the listening socket…). */
export const FD_RESERVE = 1000;

/** What limits this machine puts on a step, read once before the search. */
export interface MachineFacts {
  /** hard limit of open files per process; null when unknown (then not checked) */
  openFilesPerProcess: number | null;
  /** whether pushbench starts the reference server (its processes need open files too) */
  referenceServer: boolean;
  /** process counts fixed by the user; null: chosen per step from the open-files limit */
  serverProcs: number | null;
  generatorProcs: number | null;
  /** the most processes of either kind chosen automatically */
  maxAutoProcs: number;
  /** sockets per client (2 for chat over HTTP: a stream and a publish connection) */
  socketsPerClient: number;
  /** ephemeral ports per source address towards one target address and port */
  ephemeralPorts: number;
  /** source addresses the generator spreads `clients` over (0 or 1: one) */
  sourceAddresses(clients: number): number;
  /** memory available now, bytes; null when unknown */
  memAvailableBytes: number | null;
  /** memory one client costs, server and generator together (an estimate, refined by measurement) */
  bytesPerClient: number;
}

/** Processes needed so that none holds more than its open-files limit allows. */
export function processesFor(clients: number, socketsPerClient: number, openFilesPerProcess: number | null): number {
  if (openFilesPerProcess === null) return 1;
  return Math.max(1, Math.ceil((clients * socketsPerClient) / Math.max(1, openFilesPerProcess - FD_RESERVE)));
}

const USABLE_MEMORY = 0.8;

/** The first machine limit a step of `clients` would pass (open files, ports, memory), or null. */
export function machineLimitFor(clients: number, f: MachineFacts): MachineLimit | null {
  const sockets = clients * f.socketsPerClient;
  if (f.openFilesPerProcess !== null) {
    const perProcess = Math.max(1, f.openFilesPerProcess - FD_RESERVE);
    const sides = [
      ...(f.referenceServer ? [{ side: 'server', fixed: f.serverProcs, flag: '--server-procs' }] : []),
      { side: 'generator', fixed: f.generatorProcs, flag: '--generator-procs' },
    ];
    for (const { side, fixed, flag } of sides) {
      const procs = fixed ?? f.maxAutoProcs;
      const maxClients = Math.floor((procs * perProcess) / f.socketsPerClient);
      if (clients <= maxClients) continue;
      const detail = fixed !== null
        ? `${fmt(clients)} clients need about ${fmt(Math.ceil(sockets / procs) + FD_RESERVE)} open files in each of ${procs} ${side} process(es) (${flag} ${procs}), above the hard limit of ${fmt(f.openFilesPerProcess)} per process`
        : `${fmt(clients)} clients need ${processesFor(clients, f.socketsPerClient, f.openFilesPerProcess)} ${side} processes of ${fmt(f.openFilesPerProcess)} open files each, more than the ${f.maxAutoProcs} chosen automatically at most (set ${flag})`;
      return { resource: 'open files', maxClients, detail };
    }
  }
  const addresses = Math.max(1, f.sourceAddresses(clients));
  const ports = addresses * f.ephemeralPorts;
  if (sockets > ports) {
    return {
      resource: 'ephemeral ports',
      maxClients: Math.floor(ports / f.socketsPerClient),
      detail: `${fmt(clients)} clients need ${fmt(sockets)} connections to one address and port, above ${fmt(addresses)} source address(es) × ${fmt(f.ephemeralPorts)} ephemeral ports`,
    };
  }
  if (f.memAvailableBytes !== null) {
    const usable = f.memAvailableBytes * USABLE_MEMORY;
    if (clients * f.bytesPerClient > usable) {
      const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
      return {
        resource: 'memory',
        maxClients: Math.floor(usable / f.bytesPerClient),
        detail: `${fmt(clients)} clients need about ${gib(clients * f.bytesPerClient)} (${fmt(Math.round(f.bytesPerClient / 1024))} KiB each, server and generator), above ${USABLE_MEMORY * 100} % of the ${gib(f.memAvailableBytes)} available`,
      };
    }
  }
  return null;
}
