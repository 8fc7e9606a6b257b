/**
 * The steps of `pushbench capacity` (cli/capacity-command.ts): the plan it runs, each step's
 * settings (a warm-up that covers the ramp and a settle), the counts the doubling phase grows in
 * one live run, the machine's limits for a search, and the runner of one transport's steps.
 */
import type { TransportName } from '../core/wire.ts';
import { socketsPerClient } from '../load/drivers/index.ts';
import type { ResultRecord } from '../core/record.ts';
import { judgeRecord, machineLimitFor, processesFor, FD_RESERVE, type MachineFacts, type Slo } from '../capacity/search.ts';
import { growLive, type LiveGrowth } from '../capacity/live-growth.ts';
import { runMulti } from '../load/multi.ts';
import type { ProgressPrinter } from './progress.ts';
import { ephemeralPortCount, memAvailableBytes, openFilesLimit } from '../load/resources.ts';
import { sourceAddresses, type LiveStep, type Progress, type RunSettings } from '../load/runner.ts';

/** Settle time after the ramp, as a share of the ramp (at least 2 s). */
const SETTLE_SHARE = 0.4;
/** The most server or generator processes chosen automatically. */
const MAX_AUTO_PROCS = 8;
/** Generator memory per client before any measurement (driver, socket buffers, recorder state). */
const GENERATOR_BYTES_PER_CLIENT = 48 * 1024;
/** Server memory per client before the first step measures it. */
const SERVER_BYTES_PER_CLIENT_GUESS = 32 * 1024;

/** A validated capacity search (parseCapacityArgs). */
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

/** The machine's limits for one transport's search. */
export function machineFacts(plan: CapacityPlan, base: RunSettings): MachineFacts {
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
    sourceAddresses: (clients) => base.sourceIps?.length ?? sourceAddresses(host, clients).length,
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
export function refineFacts(facts: MachineFacts, r: ResultRecord): void {
  const rss = r.summary.serverRssBytesPerConnection;
  if (rss !== null && rss > 0) facts.bytesPerClient = GENERATOR_BYTES_PER_CLIENT + rss;
}

/**
 * The steps of one transport's search, numbered from 1. The doubling phase grows one live run
 * (server and clients stay up, each step adds clients); a step off its staircase — bisection, a
 * limit's count — is a fresh run, which first ends the live one. {@link end} ends what still runs.
 */
export class StepRunner {
  /** the server and generator processes each measured count ran on */
  readonly procs = new Map<number, { server: number; generator: number }>();
  private step = 0;
  private live: LiveGrowth | null = null;
  private liveStarted = false;
  private liveSteps: LiveStep[] = [];

  constructor(
    private readonly plan: CapacityPlan,
    private readonly base: RunSettings,
    private readonly facts: MachineFacts,
    private readonly out: ProgressPrinter,
    private readonly signal: AbortSignal,
  ) {}

  /** Run the next step, at `clients`, and return its record. */
  async measure(clients: number): Promise<ResultRecord> {
    const { plan, base, facts, out, signal } = this;
    const transport = base.transport;
    this.step++;
    const server = base.target ? 1 : plan.serverProcs ?? processesFor(clients, facts.socketsPerClient, facts.openFilesPerProcess);
    const generator = plan.generatorProcs ?? processesFor(clients, facts.socketsPerClient, facts.openFilesPerProcess);
    this.procs.set(clients, { server, generator });
    const onProgress = (p: Progress) => out.update({ ...p, name: `${transport} ${p.clients}c` });
    if (!this.liveStarted) {
      this.liveStarted = true;
      this.startLive(clients, server, onProgress);
    }
    const growing = this.live;
    if (growing && growing.nextClients === clients) {
      const i = this.liveSteps.findIndex((x) => x.clients === clients);
      const before = i > 0 ? this.liveSteps[i - 1].clients : 0;
      out.log(`[${transport} step ${this.step}] ${clients.toLocaleString('en-US')} clients (live: ${(clients - before).toLocaleString('en-US')} join the ${before.toLocaleString('en-US')} connected), warm-up ${this.liveSteps[i].warmupMs / 1000} s + ${plan.stepDurationMs / 1000} s measured`);
      const r = await growing.next();
      out.done();
      return r;
    }
    if (growing) {
      await growing.end();
      this.live = null;
    }
    const s = stepSettings(plan, base, clients, server);
    const auto = (plan.serverProcs === null && server > 1) || (plan.generatorProcs === null && generator > 1)
      ? ` — ${server} server and ${generator} generator processes, chosen from the open-files limit of ${facts.openFilesPerProcess?.toLocaleString('en-US')} per process`
      : '';
    out.log(`[${transport} step ${this.step}] ${clients.toLocaleString('en-US')} clients, warm-up ${s.warmupMs / 1000} s + ${plan.stepDurationMs / 1000} s measured${auto}`);
    const r = await runMulti(s, generator, { signal, onProgress });
    out.done();
    return r;
  }

  /** End the live run, if one still runs. */
  async end(): Promise<void> {
    await this.live?.end();
  }

  /** At the first step: start the live run over the doubling counts from `clients`, when they grow live. */
  private startLive(clients: number, server: number, onProgress: (p: Progress) => void): void {
    const { plan, base, facts } = this;
    const counts = liveCounts(plan, base, facts, clients);
    if (!counts.length) return;
    const ls = liveSettings(plan, base, counts, server);
    this.liveSteps = ls.steps!;
    this.out.log(`[${base.transport}] live growth: ${counts.map((n) => n.toLocaleString('en-US')).join(' → ')} clients in one run, the connected clients staying through each step`);
    this.live = growLive(ls, {
      signal: this.signal,
      onProgress,
      keepGoing: (r) => {
        refineFacts(facts, r);
        const next = counts[counts.indexOf(r.config.clients) + 1];
        return judgeRecord(r, plan.slo).kind === 'pass' && next !== undefined && machineLimitFor(next, facts) === null;
      },
    });
  }
}
