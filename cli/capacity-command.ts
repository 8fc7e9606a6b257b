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
import { TRANSPORTS, traitsOf } from '../load/drivers/index.ts';
import { writeJsonAtomic, type ResultRecord } from '../core/record.ts';
import { DEFAULT_SLO, judgeRecord, machineLimitFor, parseSlo, searchCapacity, type SearchResult } from '../capacity/search.ts';
import { formatCapacityHtml, formatCapacityMarkdown, formatCapacityText, type CapacityOutcome } from '../capacity/table.ts';
import { validationError } from '../core/errors.ts';
import { interruptible } from './interrupt.ts';
import { formatHelp, type OptionSpec, type OptionValues } from '../core/options.ts';
import { progressPrinter, type ProgressPrinter } from './progress.ts';
import { LOAD_OPTION_SPECS, fileSafe, loadSettingsOnce, nameAndFolder } from './run-options.ts';
import { parseCommandArgs } from '../core/options.ts';
import type { RunSettings } from '../load/runner.ts';
import { formatSummaryTable } from './summary.ts';
import { machineFacts, refineFacts, StepRunner, type CapacityPlan } from './capacity-steps.ts';

export { liveCounts, liveSettings, stepSettings, type CapacityPlan } from './capacity-steps.ts';

/** Options of `run` that capacity sets per step itself. */
const PER_STEP = new Set(['clients', 'duration']);

export const CAPACITY_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'transport', kind: 'list', arg: 'LIST', help: 'transports to measure, or all (without --tls: those that run without TLS)', default: ['all'], choices: [...TRANSPORTS, 'all'] },
  { name: 'slo', kind: 'string', arg: 'TERMS', help: 'what a step must hold: p50/p90/p99/p99.9/max<TIME, lost=N or <X%, errors=N or <X% (of connections + requests)', default: DEFAULT_SLO },
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

/** Parse and validate argv; throws PB_BAD_OPTION with every problem. */
export function parseCapacityArgs(argv: string[]): CapacityPlan | 'help' {
  const parsed = parseCommandArgs(argv, CAPACITY_OPTION_SPECS);
  if (parsed === 'help') return 'help';
  const { values: v, problems } = parsed;
  const picked = (v.transport as string[] | undefined) ?? ['all'];
  // `all` without TLS: every transport that runs without it
  const tls = Boolean(v.tls) || String(v.target ?? '').startsWith('https:');
  const transports = picked.includes('all') ? TRANSPORTS.filter((t) => tls || !traitsOf(t).tlsOnly) : TRANSPORTS.filter((t) => picked.includes(t));
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
  for (const t of transports) base.set(t, loadSettingsOnce(probe, t, problems, seen));
  if (problems.length) throw validationError(problems);
  return {
    ...nameAndFolder(v, 'capacity'),
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
  const steps = new StepRunner(plan, base, facts, out, signal);
  const byClients = new Map<number, ResultRecord>();
  const probe = async (clients: number) => {
    const r = await steps.measure(clients);
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
    await steps.end();
  }
  out.log(`[${transport}] ${result.stop.message}`);
  const cap = result.capacity;
  const p = cap === null ? undefined : steps.procs.get(cap);
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
