/**
 * `pushbench capacity`: how many clients each transport holds under an SLO. For each transport the
 * search (capacity/search.ts) doubles the client count from --start until the SLO breaks, then
 * bisects to --precision. The doubling phase is one live run (capacity/live-growth.ts): the server and
 * the clients of a step stay connected, the next step adds its clients and waits out their ramp
 * and a settle (not judged), then is measured for --step-duration; each step is judged as soon as
 * its window closes and the first failing one ends the growth. Bisection steps, and counts that
 * need more generator processes or meet a machine limit, are fresh runs (server and clients
 * started anew) held for --step-duration after their warm-up. Before each step the machine's
 * limits are checked (open files per process, ephemeral ports, memory); past one process's open
 * files the server and the generator are split over processes (chosen from the limit unless
 * --server-procs / --generator-procs fix them). Prints a table per transport and the planning
 * line, writes every step's record and a report with the capacity curve and the table.
 */
import { join } from 'node:path';
import type { TransportName } from '../core/wire.ts';
import { TRANSPORTS, socketsPerClient } from '../load/drivers/index.ts';
import { writeJsonAtomic, type ResultRecord } from '../core/record.ts';
import {
  judgeRecord, machineLimitFor, parseSlo, processesFor, searchCapacity, FD_RESERVE,
  type MachineFacts, type SearchResult, type Slo,
} from '../capacity/search.ts';
import { formatCapacityHtml, formatCapacityMarkdown, formatCapacityText, type CapacityOutcome } from '../capacity/table.ts';
import { validationError } from '../core/errors.ts';
import { interruptible } from './interrupt.ts';
import { growLive, type LiveGrowth } from '../capacity/live-growth.ts';
import { runMulti } from '../load/multi.ts';
import { formatHelp, parseOptions, type OptionSpec, type OptionValues } from '../core/options.ts';
import { progressPrinter, type ProgressPrinter } from './progress.ts';
import { ephemeralPortCount, memAvailableBytes, openFilesLimit } from '../load/resources.ts';
import { LOAD_OPTION_SPECS, fileSafe, loadSettings } from './run-options.ts';
import { sourceAddresses, type LiveStep, type Progress, type RunSettings } from '../load/runner.ts';
import { formatSummaryTable } from './summary.ts';

/** Options of `run` that capacity sets per step itself. */
const PER_STEP = new Set(['clients', 'duration']);

export const CAPACITY_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'transport', kind: 'list', arg: 'LIST', help: 'transports to measure, or all', default: ['all'], choices: [...TRANSPORTS, 'all'] },
  { name: 'slo', kind: 'string', arg: 'TERMS', help: 'what a step must hold: p50/p90/p99/p99.9/max<TIME, lost=N or <X%, errors=N or <X% (of connections + requests)', default: 'p99<250ms,lost=0,errors<0.1%' },
  { name: 'start', kind: 'int', arg: 'N', help: 'clients in the first step', default: 500, min: 1, max: 1_000_000 },
  { name: 'max', kind: 'int', arg: 'N', help: 'most clients to try', default: 40_000, min: 1, max: 1_000_000 },
  { name: 'step-duration', kind: 'durationMs', arg: 'TIME', help: 'how long each step is measured, after its warm-up', default: 20_000, min: 1000 },
  { name: 'precision', kind: 'fraction', arg: 'PCT', help: 'stop bisecting when (fail − pass) / pass is at most this', default: 0.05, min: 0.001, max: 1 },
  { name: 'server-procs', kind: 'int', arg: 'N', help: 'reference server processes sharing the port (default: as many as the open-files limit needs)', min: 1, max: 64 },
  { name: 'generator-procs', kind: 'int', arg: 'N', help: 'generator processes, each with its own worker threads (default: as many as the open-files limit needs)', min: 1, max: 64 },
  ...LOAD_OPTION_SPECS.filter((s) => !PER_STEP.has(s.name)).map((s) =>
    s.name === 'warmup' ? { ...s, help: 'warm-up of each step, not judged (default: its ramp + 40 % of it, at least + 2s)' } : s),
  { name: 'name', kind: 'string', arg: 'NAME', help: 'name of this capacity search (default capacity-<time>)' },
]);

const CAPACITY_USAGE = `pushbench capacity --transport ${[...TRANSPORTS, 'all'].join('|')} --slo "p99<250ms,lost=0,errors<0.1%" [--start 500] [--max 40000] [--step-duration 20s] [--precision 5%] [options]`;
const CAPACITY_DESCRIPTION = `Finds how many concurrent clients each transport holds under an SLO: doubles the clients from
--start until the SLO breaks, then bisects between the last pass and the first failure to
--precision. While doubling, one live run grows: the clients of a step stay connected and the next
step adds the new ones (at --arrival-rate), settles, then is measured for --step-duration; the
bisection's steps are fresh runs, measured for --step-duration after their warm-up. Stops on the
SLO (the server's capacity), on generator saturation (the generator's limit, not the server's), on
a machine limit (open files, ephemeral ports, memory: checked before each step), or at --max.
Past one process's open files, the reference server and the generator run as several processes.
Prints the capacity table and "≈ X servers like this one for 1,000,000 clients", and writes every
step's result and a report with the capacity curve.`;

/** Settle time after the ramp, as a share of the ramp (at least 2 s). */
const SETTLE_SHARE = 0.4;
/** The most server or generator processes chosen automatically. */
const MAX_AUTO_PROCS = 8;
/** Generator memory per client before any measurement (driver, socket buffers, recorder state). */
const GENERATOR_BYTES_PER_CLIENT = 48 * 1024;
/** Server memory per client before the first step measures it. */
const SERVER_BYTES_PER_CLIENT_GUESS = 32 * 1024;

export interface CapacityPlan {
  name: string;
  outDir: string;
  transports: TransportName[];
  slo: Slo;
  startClients: number;
  maxClients: number;
  stepDurationMs: number;
  precision: number;
  /** user's --warmup, or null (then ramp + 2 s per step) */
  warmupMs: number | null;
  serverProcs: number | null;
  generatorProcs: number | null;
  noReport: boolean;
  base: Map<TransportName, RunSettings>;
}

/** Parse and validate argv; throws PB_BAD_OPTION with every problem. */
export function parseCapacityArgs(argv: string[]): CapacityPlan | 'help' {
  const parsed = parseOptions(argv, CAPACITY_OPTION_SPECS);
  if (parsed.help) return 'help';
  const problems = [...parsed.problems];
  if (parsed.positionals.length) problems.push(`unexpected argument(s): ${parsed.positionals.join(' ')}`);
  const v = parsed.values;
  const picked = (v.transport as string[] | undefined) ?? ['all'];
  const transports = picked.includes('all') ? [...TRANSPORTS] : TRANSPORTS.filter((t) => picked.includes(t));
  const { slo, problems: sloProblems } = parseSlo(v.slo as string);
  problems.push(...sloProblems);
  const start = v.start as number;
  const max = v.max as number;
  if (start > max) problems.push(`--start ${start} is more than --max ${max}`);
  const topics = v.topics as number;
  if (v.workload !== 'fanout' && topics > start) problems.push(`--topics ${topics} is more than --start ${start}: some topics would have no subscriber`);
  if (v.target !== undefined && v.serverProcs !== undefined) problems.push('--server-procs applies to the reference server, not to a --target');
  // The shared checks, at a count every step shares (the open-files limit is the search's own stop).
  const probe: OptionValues = { ...v, clients: Math.min(start, Math.max(1000, topics)), duration: 3_600_000 };
  const base = new Map<TransportName, RunSettings>();
  const seen = new Set(problems);
  for (const t of transports) {
    const local: string[] = [];
    base.set(t, loadSettings(probe, t, local));
    for (const p of local) if (!seen.has(p)) { seen.add(p); problems.push(p); }
  }
  if (problems.length) throw validationError(problems);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const name = (v.name as string | undefined) ?? `capacity-${stamp}`;
  return {
    name,
    outDir: join(v.out as string, fileSafe(name)),
    transports,
    slo,
    startClients: start,
    maxClients: max,
    stepDurationMs: v.stepDuration as number,
    precision: v.precision as number,
    warmupMs: (v.warmup as number | undefined) ?? null,
    serverProcs: (v.serverProcs as number | undefined) ?? null,
    generatorProcs: (v.generatorProcs as number | undefined) ?? null,
    noReport: Boolean(v.noReport),
    base,
  };
}

/** The machine's limits for one transport's search. */
function machineFacts(plan: CapacityPlan, base: RunSettings): MachineFacts {
  const limit = openFilesLimit();
  const host = base.target ? new URL(base.target).hostname : '127.0.0.1';
  return {
    openFilesPerProcess: limit && Number.isFinite(limit.hard) ? limit.hard : null,
    referenceServer: base.target === null,
    serverProcs: plan.serverProcs,
    generatorProcs: plan.generatorProcs,
    maxAutoProcs: MAX_AUTO_PROCS,
    socketsPerClient: socketsPerClient(base.transport, base.workload, base.targetProfile != null),
    ephemeralPorts: ephemeralPortCount(),
    sourceAddresses: (clients) => sourceAddresses(host, clients).length,
    memAvailableBytes: memAvailableBytes(),
    bytesPerClient: GENERATOR_BYTES_PER_CLIENT + SERVER_BYTES_PER_CLIENT_GUESS,
  };
}

/** Warm-up of a step whose `arriving` clients connect at the arrival rate (all of them on a fresh run). */
function warmupFor(plan: CapacityPlan, base: RunSettings, arriving: number): number {
  const rampMs = (arriving / base.arrivalRatePerS) * 1000;
  // After a long ramp the first seconds are not yet steady (heap growth, collection of the
  // set-up garbage): the warm-up covers the ramp plus a settle that grows with it.
  return plan.warmupMs ?? Math.ceil((rampMs + Math.max(2000, SETTLE_SHARE * rampMs)) / 1000) * 1000;
}

/** Settings of one step: `clients` held for the step duration after a warm-up that covers the ramp. */
export function stepSettings(plan: CapacityPlan, base: RunSettings, clients: number, serverProcs: number): RunSettings {
  const warmupMs = warmupFor(plan, base, clients);
  const limit = openFilesLimit();
  const perProcess = limit && Number.isFinite(limit.hard) ? limit.hard - FD_RESERVE : null;
  return {
    ...base,
    name: `${base.transport}-${clients}c`,
    clients,
    topics: base.workload === 'fanout' ? clients : base.topics,
    warmupMs,
    durationMs: warmupMs + plan.stepDurationMs,
    serverProcs,
    // The server's own connection cap follows the open files each process may hold.
    serverArgs: [...(base.serverArgs ?? []), ...(perProcess ? ['--max-connections', String(perProcess)] : [])],
  };
}

/**
 * The doubling phase's counts that can grow in one live run: from `start`, doubling up to --max,
 * while no machine limit is in the way and one generator process and the same server processes
 * hold every count. Fewer than two counts, or settings a live run cannot take (faults, slow
 * clients, an emulated network's proxy, a target profile): none — every step is then a fresh run.
 */
export function liveCounts(plan: CapacityPlan, base: RunSettings, facts: MachineFacts, start: number): number[] {
  if (base.faults?.length || base.slowClients || base.proxy || base.targetProfile) return [];
  const procsAt = (n: number) => ({
    server: base.target ? 1 : plan.serverProcs ?? processesFor(n, facts.socketsPerClient, facts.openFilesPerProcess),
    generator: plan.generatorProcs ?? processesFor(n, facts.socketsPerClient, facts.openFilesPerProcess),
  });
  const first = procsAt(start);
  if (first.generator !== 1) return [];
  const counts: number[] = [];
  for (let n = start; ; n = Math.min(2 * n, plan.maxClients)) {
    const p = procsAt(n);
    if (machineLimitFor(n, facts) || p.generator !== 1 || p.server !== first.server) break;
    counts.push(n);
    if (n >= plan.maxClients) break;
  }
  return counts.length >= 2 ? counts : [];
}

/**
 * Settings of a live staircase over `counts`: the run holds the last count's clients, and each
 * step's warm-up covers only the clients it adds (their ramp and a settle), not the ones already
 * connected.
 */
export function liveSettings(plan: CapacityPlan, base: RunSettings, counts: number[], serverProcs: number): RunSettings {
  const last = stepSettings(plan, base, counts[counts.length - 1], serverProcs);
  return {
    ...last,
    name: `${base.transport}-live`,
    steps: counts.map((clients, i) => ({
      name: `${base.transport}-${clients}c`,
      clients,
      warmupMs: warmupFor(plan, base, clients - (i > 0 ? counts[i - 1] : 0)),
      measureMs: plan.stepDurationMs,
    })),
  };
}

/** Measured memory per connection refines the memory check of the next steps. */
function refineFacts(facts: MachineFacts, r: ResultRecord): void {
  const rss = r.summary.serverRssBytesPerConnection;
  if (rss !== null && rss > 0) facts.bytesPerClient = GENERATOR_BYTES_PER_CLIENT + rss;
}

function describeVerdict(r: ResultRecord, plan: CapacityPlan): string {
  const v = judgeRecord(r, plan.slo);
  const s = r.summary;
  const figures = `p99 ${(s.latencyUs.p99 / 1000).toFixed(1)} ms, ${s.lost} lost, ${s.errors} errors, ${s.delivered.toLocaleString('en-US')} delivered`;
  if (v.kind === 'pass') return `pass (${figures})`;
  if (v.kind === 'interrupted') return 'interrupted';
  return `${v.kind === 'fail' ? 'SLO broke' : 'generator-bound'}: ${v.reasons.join('; ')} (${figures})`;
}

/** Search one transport; every step's record is written to the plan's folder and collected. */
async function searchTransport(plan: CapacityPlan, transport: TransportName, out: ProgressPrinter, signal: AbortSignal, records: ResultRecord[]): Promise<CapacityOutcome> {
  const base = plan.base.get(transport)!;
  const facts = machineFacts(plan, base);
  const procs = new Map<number, { server: number; generator: number }>();
  const byClients = new Map<number, ResultRecord>();
  let step = 0;
  // The doubling phase grows one live run (server and clients stay up, each step adds clients);
  // a step off its staircase — bisection, a limit's count — is a fresh run.
  let live: LiveGrowth | null = null;
  let liveStarted = false;
  let liveSteps: LiveStep[] = [];
  const measure = async (clients: number): Promise<ResultRecord> => {
    const server = base.target ? 1 : plan.serverProcs ?? processesFor(clients, facts.socketsPerClient, facts.openFilesPerProcess);
    const generator = plan.generatorProcs ?? processesFor(clients, facts.socketsPerClient, facts.openFilesPerProcess);
    procs.set(clients, { server, generator });
    const onProgress = (p: Progress) => out.update({ ...p, name: `${transport} ${p.clients}c` });
    if (!liveStarted) {
      liveStarted = true;
      const counts = liveCounts(plan, base, facts, clients);
      if (counts.length) {
        const ls = liveSettings(plan, base, counts, server);
        liveSteps = ls.steps!;
        out.log(`[${transport}] live growth: ${counts.map((n) => n.toLocaleString('en-US')).join(' → ')} clients in one run, the connected clients staying through each step`);
        live = growLive(ls, {
          signal,
          onProgress,
          keepGoing: (r) => {
            refineFacts(facts, r);
            const next = counts[counts.indexOf(r.config.clients) + 1];
            return judgeRecord(r, plan.slo).kind === 'pass' && next !== undefined && machineLimitFor(next, facts) === null;
          },
        });
      }
    }
    const growing = live as LiveGrowth | null;
    if (growing && growing.nextClients === clients) {
      const i = liveSteps.findIndex((x) => x.clients === clients);
      const before = i > 0 ? liveSteps[i - 1].clients : 0;
      out.log(`[${transport} step ${step}] ${clients.toLocaleString('en-US')} clients (live: ${(clients - before).toLocaleString('en-US')} join the ${before.toLocaleString('en-US')} connected), warm-up ${liveSteps[i].warmupMs / 1000} s + ${plan.stepDurationMs / 1000} s measured`);
      const r = await growing.next();
      out.done();
      return r;
    }
    if (growing) {
      await growing.end();
      live = null;
    }
    const s = stepSettings(plan, base, clients, server);
    const auto = (plan.serverProcs === null && server > 1) || (plan.generatorProcs === null && generator > 1)
      ? ` — ${server} server and ${generator} generator processes, chosen from the open-files limit of ${facts.openFilesPerProcess?.toLocaleString('en-US')} per process`
      : '';
    out.log(`[${transport} step ${step}] ${clients.toLocaleString('en-US')} clients, warm-up ${s.warmupMs / 1000} s + ${plan.stepDurationMs / 1000} s measured${auto}`);
    const r = await runMulti(s, generator, { signal, onProgress });
    out.done();
    return r;
  };
  const probe = async (clients: number) => {
    step++;
    const r = await measure(clients);
    writeJsonAtomic(join(plan.outDir, `${fileSafe(r.name)}.json`), r);
    records.push(r);
    byClients.set(clients, r);
    refineFacts(facts, r);
    out.log(`  ${describeVerdict(r, plan)}`);
    return judgeRecord(r, plan.slo);
  };
  let result: SearchResult;
  try {
    result = await searchCapacity(
      { startClients: plan.startClients, maxClients: plan.maxClients, precision: plan.precision },
      probe,
      (clients) => machineLimitFor(clients, facts),
    );
  } finally {
    await (live as LiveGrowth | null)?.end();
  }
  out.log(`[${transport}] ${result.stop.message}`);
  const cap = result.capacity;
  const p = cap === null ? undefined : procs.get(cap);
  return {
    transport,
    result,
    atCapacity: cap === null ? null : byClients.get(cap) ?? null,
    serverProcs: p?.server ?? 1,
    generatorProcs: p?.generator ?? 1,
  };
}

export async function capacityCommand(argv: string[]): Promise<number> {
  const plan = parseCapacityArgs(argv);
  if (plan === 'help') {
    process.stdout.write(formatHelp(CAPACITY_USAGE, CAPACITY_DESCRIPTION, CAPACITY_OPTION_SPECS));
    return 0;
  }
  const out = progressPrinter();
  const first = plan.base.values().next().value as RunSettings;
  out.log(`pushbench capacity ${plan.name}: ${plan.transports.join(', ')} at ${plan.slo.text}; ${plan.startClients}…${plan.maxClients} clients, ${plan.stepDurationMs / 1000} s per step, precision ${(plan.precision * 100).toFixed(1)} %; ${first.workload}, ${first.ratePerS} msg/s, ${first.payloadBytes} B, network ${first.network}`);
  out.log(`pinning: server CPU ${first.serverCpus ?? 'any'}, generator CPU ${first.loadCpus ?? 'any'}`);

  const records: ResultRecord[] = [];
  const outcomes: CapacityOutcome[] = [];
  let interrupted = false;
  await interruptible(async (signal) => {
    for (const t of plan.transports) {
      if (signal.aborted) break;
      const o = await searchTransport(plan, t, out, signal, records);
      outcomes.push(o);
      if (o.result.stop.kind === 'interrupted') { interrupted = true; break; }
    }
  });
  out.done();

  if (records.length) process.stdout.write(`\n${formatSummaryTable(records)}\n`);
  process.stdout.write(`\n${formatCapacityText(outcomes, plan.slo)}\n`);
  writeJsonAtomic(join(plan.outDir, 'capacity.json'), {
    name: plan.name,
    slo: plan.slo.text,
    outcomes: outcomes.map((o) => ({
      transport: o.transport, capacity: o.result.capacity, lowerBound: o.result.lowerBound, stop: o.result.stop,
      steps: o.result.steps, serverProcs: o.serverProcs, generatorProcs: o.generatorProcs,
      atCapacity: o.atCapacity?.name ?? null,
    })),
  });
  if (records.length && !plan.noReport) {
    const { writeReport } = await import('../reports/report.ts');
    const section = { id: 'capacity', title: 'Capacity', markdown: formatCapacityMarkdown(outcomes, plan.slo), html: formatCapacityHtml(outcomes, plan.slo) };
    const { files } = await writeReport(records, plan.outDir, { title: `pushbench capacity: ${plan.name}`, sections: [section] });
    process.stdout.write(`\nwrote ${records.length} step results and the report: ${files[0]}\n`);
  } else {
    process.stdout.write(`\nwrote ${join(plan.outDir, 'capacity.json')}\n`);
  }
  if (interrupted) {
    process.stderr.write('capacity interrupted: the steps so far are written; the last one is marked complete: false\n');
    return 130;
  }
  return 0;
}
