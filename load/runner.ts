/**
 * One measured run: start (or reach) the server, pin server and generator apart, ramp clients
 * over piscina worker threads, sample resources every second, and assemble the result record.
 *
 * The runner never records a latency itself: workers send encoded histograms and counters, the
 * runner adds them. With settings.steps the run is a live staircase: the clients grow step by step
 * and each step's window becomes a record of its own (RunHooks.onStep). Everything it starts
 * (server, proxy, worker threads) it stops, also when the run is aborted (the record then says
 * `complete: false`).
 *
 * runOnce is the pipeline; its parts live in load/run/: the environment (RunEnvironment), the
 * schedule (runSchedule), the worker threads (WorkerFleet), the per-second sampler (RunSampler),
 * the faults (FaultInjector), a staircase's protocol (Staircase), and each window's record
 * (assembleRecord, with its validity from diagnose).
 */
import type { Piscina } from 'piscina';
import { nowUs } from '../core/wire.ts';
import { finishRecord, type ResultRecord } from '../core/record.ts';
import { pinSelf } from '../core/spawn.ts';
import { generatorGcMode } from '../core/tsx.ts';
import { judgeProxy } from '../netem/proxy-validity.ts';
import { publisherProblems } from './target/publisher.ts';
import { traitsOf } from './drivers/index.ts';
import type { WorkerResult } from './worker-task.ts';
import { metricsSinkOf, type RunMetrics } from './metrics-sink.ts';
import { assembleRecord, type RunFacts, type WindowPart } from './run/assemble.ts';
import { SecondBuckets } from './run/buckets.ts';
import { DEFAULT_GC_NOTE } from './run/diagnose.ts';
import { RunEnvironment } from './run/environment.ts';
import { FaultInjector } from './run/fault-table.ts';
import { countCpus, environment } from './run/machine.ts';
import { addRunExtras, proxyCpuPct } from './run/run-extras.ts';
import { RunSampler } from './run/sampler.ts';
import { runSchedule, type RunSchedule } from './run/schedule.ts';
import { zeroStatsDelta, type BankedServer } from './run/server-stats.ts';
import { settleRun, shareClients, staircaseProblems, type RunHooks, type RunSettings, type SettledRun } from './run/settings.ts';
import { Staircase } from './run/staircase.ts';
import { RunStop, WorkerFleet, workerPool, workersLoaded } from './run/workers.ts';

// What callers import from here (the run's settings, the machine split, the server's /stats).
export type { Progress } from './progress.ts';
export type { ProxySpec } from '../netem/network.ts';
export type { GeneratorShare, LiveStep, RunHooks, RunSettings } from './run/settings.ts';
export { newRunId, shareClients, staircaseProblems } from './run/settings.ts';
export { countCpus, defaultCpuSplit, environment, parseSourceIps, sourceAddresses } from './run/machine.ts';
export { checkReachable, isStatsSnapshot } from './run/server-stats.ts';
export { spawnReferenceServer } from './run/children.ts';
export { DEFAULT_GC_NOTE } from './run/diagnose.ts';

/**
 * How long after the schedule is fixed the first client is due: the workers, loaded (each answered
 * a ping while the server started), get their tasks and build their clients by then — a few ms for
 * hundreds of clients; the rest is an event-loop turn or two of a busy machine.
 */
const START_LEAD_US = 50_000;

/** Run once; resolves with the record (complete: false when aborted). Throws PushbenchError on setup failures. */
export async function runOnce(given: RunSettings, hooks: RunHooks = {}): Promise<ResultRecord> {
  const s = settleRun(given);
  const log = hooks.log ?? (() => {});
  const startedAt = new Date().toISOString();
  const misuse = staircaseProblems(s);
  if (misuse.length) throw new Error(`runOnce: ${misuse.join('; ')}`);
  const env = new RunEnvironment(s, log);
  let pool: Piscina | undefined;
  try {
    if (s.loadCpus) pinSelf(s.loadCpus);
    if (generatorGcMode() === 'default') log(DEFAULT_GC_NOTE);
    // Worker threads load (tsx, drivers) while the server and proxy start.
    const ownClients = shareClients(s.clients, s.share);
    const workers = Math.max(1, Math.min(s.workers, ownClients));
    pool = await workerPool(workers);
    // a thread that failed to load fails the run's own task, with its error
    const loaded = workersLoaded(pool, workers).catch(() => undefined);
    await env.up();
    await loaded;
    const run = await startMeasuring({ s, hooks, log, env, pool, ownClients, workers, startedAt });
    const results = await workersDone(run);
    const endedUs = nowUs();
    const record = run.staircase ? await run.staircase.finish(results, endedUs) : await runRecord(run, results, endedUs);
    run.live?.end(results.map((r) => ({ totals: r.totals, latencyBuckets: r.latencyBuckets })), record.valid);
    return record;
  } finally {
    if (pool) await pool.destroy().catch(() => undefined);
    await env.close();
  }
}

interface RunStart {
  s: SettledRun;
  hooks: RunHooks;
  log: (line: string) => void;
  env: RunEnvironment;
  pool: Piscina;
  ownClients: number;
  workers: number;
  startedAt: string;
}

/** A run under way: its schedule and the parts that run on it. */
interface Measuring extends RunStart {
  plan: RunSchedule;
  fleet: WorkerFleet;
  stop: RunStop;
  sampler: RunSampler;
  faults: FaultInjector;
  banked: BankedServer;
  staircase: Staircase | null;
  /** the run's live metrics (RunHooks.metrics), when asked for */
  live: RunMetrics | undefined;
  /** window `i`'s record before its summary (the caller may still add reasons) */
  record(i: number, parts: readonly WindowPart[], cut: boolean, endedUs: number, extraReasons?: readonly string[]): Omit<ResultRecord, 'summary'>;
}

/**
 * Fix the schedule, start the workers on it (and a profile's publisher), then the abort and
 * server-death watches, the sampler and the faults, in that order.
 */
async function startMeasuring(r: RunStart): Promise<Measuring> {
  const { s, hooks, env } = r;
  // t0 on a whole µs: the window's edges and a profile publisher's timetable then fall on the same
  // µs as the timestamps its tokens carry, so a message on an edge is judged alike by both
  const t0Us = s.share?.t0Us ?? (hooks.startAt ? await hooks.startAt() : nowUs() + START_LEAD_US);
  const plan = runSchedule(s, Math.round(t0Us));
  env.proxyJudges(plan.windows[0]);
  const buckets = new SecondBuckets(plan.t0Us);
  const live = metricsSinkOf(hooks)?.forRun({ run: s.name, transport: s.transport, shard: String(s.share?.index ?? 0) });
  const fleet = new WorkerFleet(r.pool, s, plan, r.workers, env.baseUrl, buckets, env.timetable(plan), live && ((t) => live.tick(t)), env.clientTls);
  hooks.onStarted?.(Math.max(0, nowUs() - plan.t0Us));
  await env.startPublisher(plan);
  const stop = new RunStop(() => fleet.tell({ type: 'stop' }));
  if (hooks.signal?.aborted) stop.abort();
  hooks.signal?.addEventListener('abort', stop.abort, { once: true });
  // A reference server that dies on its own (not killed by a restart fault) ends the run early:
  // there is nothing left to measure, and the record says why.
  env.watch(stop.abort);
  const sampler = new RunSampler(s, plan, buckets, env, hooks, live);
  sampler.start();
  const banked: BankedServer = { stats: zeroStatsDelta(), cpuUs: 0 };
  const faults = new FaultInjector(s.faults ?? [], { env, sampler, banked, epochEnded: (i) => fleet.epochEnded(i) }, r.log);
  faults.start(plan.t0Us);
  const facts: RunFacts = {
    settings: s, t0Us: plan.t0Us, ownClients: r.ownClients, workers: r.workers,
    // Closed-loop short polls (--poll-interval 0) keep the loop busy by design: a full loop is
    // the expected state, so it is noted rather than judged invalid.
    closedLoop: traitsOf(s.transport).pollInterval && s.pollIntervalMs === 0,
    gcMode: generatorGcMode(), loadCpuCount: countCpus(s.loadCpus), rssBaseline: sampler.rssBaseline,
  };
  const record: Measuring['record'] = (i, parts, cut, endedUs, extraReasons = []) => {
    const window = plan.windows[i];
    return assembleRecord(facts, {
      window, parts, buckets: buckets.bySec, meter: sampler.meters[i], banked, cut, endedUs,
      serverDied: env.serverDied, extraReasons, environment: environment(s),
      startedAt: s.steps ? new Date(Date.now() - (nowUs() - window.startUs) / 1000).toISOString() : r.startedAt,
      endedAt: new Date().toISOString(),
    });
  };
  const staircase = s.steps
    ? new Staircase({ windows: plan.windows, workers: r.workers, stop, sampler, tell: (m) => fleet.tell(m), hooks, record: (...a) => finished(record(...a)) })
    : null;
  if (staircase) fleet.onStep = (m) => staircase.onWorkerStep(m);
  return { ...r, plan, fleet, stop, sampler, faults, banked, staircase, live, record };
}

/** The workers' results (a staircase's steps judged too); then nothing samples or fires any more. */
async function workersDone(run: Measuring): Promise<WorkerResult[]> {
  try {
    const results = await Promise.all(run.fleet.tasks);
    await run.staircase?.settle(results);
    return results;
  } finally {
    run.env.expectExits();
    run.sampler.stop();
    run.faults.stop();
    run.hooks.signal?.removeEventListener('abort', run.stop.abort);
  }
}

/** The run's record: its window's figures, the publisher's and the proxy's verdicts, the extras. */
async function runRecord(run: Measuring, results: WorkerResult[], endedUs: number): Promise<ResultRecord> {
  const { s, env, sampler, stop } = run;
  const [win] = run.plan.windows;
  const m = sampler.meters[0];
  if (stop.aborted && endedUs < win.toUs) await sampler.readCut(0);
  else await sampler.fillStatsTo(0);
  const publisher = await env.closePublisher();
  const parts = results.map((r) => ({
    clients: r.clients, counters: r.counters, histograms: r.histograms, backlogAgeMs: r.backlogAgeMs, tls: r.tls,
    figures: { cpuUs: r.cpuUs, eluMean: r.eluMean, eluMax: r.eluMax, clients: r.clients },
  }));
  const draft = run.record(0, parts, stop.aborted, endedUs, publisher ? publisherProblems(publisher) : []);
  // The proxy prints its final stats on SIGTERM (lateness over the window it was told).
  const cpuPct = proxyCpuPct(m, win, endedUs);
  const proxy = await env.stopProxy();
  const judged = proxy && judgeProxy({ delayMs: s.proxy!.delayMs, cpuPct, stats: proxy.stats, blackholed: (s.faults ?? []).some((f) => f.kind === 'blackhole') });
  if (judged && !stop.aborted) draft.invalidReasons.push(...judged.invalidReasons);
  const record = finished(draft);
  // A fresh child server counted every drop of the run; a --target only the window's.
  const drops = !s.target && m.statsTo ? m.statsTo.slowConsumerDrops + run.banked.stats.slowConsumerDrops : (record.server?.slowConsumerDrops ?? null);
  addRunExtras(record, {
    slowClients: s.slowClients, serverDrops: drops, largeTopicBytes: s.largeTopicBytes, results, publisher, faults: s.faults ?? [], faultLog: run.faults.log,
    warmupMs: s.warmupMs, proxy: judged ? judged.figures : undefined, network: s.network, socketio: s.targetProfile?.socketio,
  });
  if (publisher) run.log(`publisher: ${publisher.published} published, ${publisher.failed} failed; late against its schedule p50 ${(publisher.lateUs.p50 / 1000).toFixed(2)} ms, p99 ${(publisher.lateUs.p99 / 1000).toFixed(2)} ms`);
  return record;
}

/** The summarized record (validity from its reasons as they stand now). */
function finished(draft: Omit<ResultRecord, 'summary'>): ResultRecord {
  return finishRecord({ ...draft, endedAt: new Date().toISOString(), valid: draft.invalidReasons.length === 0 });
}
