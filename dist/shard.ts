/**
 * One shard of a plan: its index (from the command line or the engine's environment), its slice
 * of the clients and arrivals (load/slice.ts, the rule the in-box multi-process generator and the
 * worker threads follow one level down), and its run on the plan's absolute timeline.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { PushbenchError } from '../core/errors.ts';
import type { ResultRecord, ShardFacts } from '../core/record.ts';
import { finishRecord } from '../core/record.ts';
import { nowUs } from '../core/wire.ts';
import { runOnce, type LiveStep, type RunHooks, type RunSettings } from '../load/runner.ts';
import { runSchedule } from '../load/run/schedule.ts';
import { sliceArrivalsUs, sliceCount, type Slice } from '../load/slice.ts';
import type { Plan } from './plan.ts';
import { clockFacts, estimateClock } from './clock.ts';
import { meetAtBarrier, type BarrierAddress, type BarrierOutcome } from './barrier.ts';

/** Where a shard's index may come from, first found wins: the option, then the environment. */
export const SHARD_INDEX_ENV = ['PUSHBENCH_SHARD', 'JOB_COMPLETION_INDEX'] as const;

/**
 * The shard index from `--shard` (`flag`) or else the first of {@link SHARD_INDEX_ENV} set in
 * `env`; every problem (none given, not a whole number, outside the plan's 0 … N − 1) goes to
 * `problems` naming where the index came from.
 */
export function shardIndexOf(flag: number | undefined, env: NodeJS.ProcessEnv, shards: number, problems: string[]): number {
  let index = flag;
  let from = '--shard';
  if (index === undefined) {
    const name = SHARD_INDEX_ENV.find((k) => env[k] !== undefined && env[k] !== '');
    if (name === undefined) {
      problems.push(`no shard index: give --shard I, or set ${SHARD_INDEX_ENV.join(' or ')} (0-based)`);
      return 0;
    }
    from = name;
    const raw = env[name]!;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${name}="${raw}" is not a shard index (a whole number, 0-based)`);
      return 0;
    }
    index = Number(raw);
  }
  if (index < 0 || index >= shards) problems.push(`shard index ${index} (from ${from}) is outside the plan's shards 0…${shards - 1}`);
  return index;
}

/** Shard `index`'s part of `plan`: its slice, its clients and when its first and last arrive (µs after startAt). */
export function shardSlice(plan: Plan, index: number): { slice: Slice; clients: number; arrivalsUs: { firstUs: number; lastUs: number } | null } {
  const slice = { index, of: plan.shards };
  return { slice, clients: sliceCount(plan.run.clients, slice), arrivalsUs: sliceArrivalsUs(plan.run.clients, slice, plan.run.arrivalRatePerS) };
}

/** What the shard's machine adds to the plan: its generator CPUs and worker threads. */
export interface ShardLocal {
  loadCpus: string | null;
  workers: number;
  /** tests: emulate this machine's clock reading this much ahead of the target's, µs (dist/clock.ts) */
  clockSkewUs?: number;
  /** `--source-ips`: this machine's addresses its clients send from */
  sourceIps?: string[];
  /** shard 0's start-barrier address (`--barrier` / PUSHBENCH_BARRIER): needed when the plan starts at a barrier */
  barrier?: BarrierAddress;
}

/** The run settings of shard `index` of `plan`, its first client due at `t0Us` (this machine's nowUs clock). */
export function shardSettings(plan: Plan, index: number, t0Us: number, local: ShardLocal, serverClockShiftUs = 0): RunSettings {
  return {
    ...plan.run,
    name: `${plan.name}-shard-${index}`,
    network: 'loopback',
    serverDelayMs: 0,
    workers: local.workers,
    serverCpus: null,
    loadCpus: local.loadCpus,
    serverPid: null,
    ringSize: 1024,
    proxy: null,
    // every shard of the plan is one run: one run id (the plan's id is 16 base-16 digits, a valid one)
    runId: plan.id,
    share: { index, of: plan.shards, t0Us, onHost: 1 },
    ...(serverClockShiftUs ? { serverClockShiftUs } : {}),
    ...(local.sourceIps ? { sourceIps: local.sourceIps } : {}),
    ...(plan.staircase ? { steps: planSteps(plan) } : {}),
  };
}

/** A staircase plan's steps as a live staircase's (every shard the same, over all shards' counts). */
export function planSteps(plan: Plan): LiveStep[] {
  const measureMs = plan.run.durationMs - plan.run.warmupMs;
  return (plan.staircase?.clients ?? []).map((clients) => ({ name: `${plan.name}-${clients}c`, clients, warmupMs: plan.run.warmupMs, measureMs }));
}

/** From the start to the end of the plan's last window and its drain, ms: every step of a staircase. */
export function planSpanMs(plan: Plan): number {
  return runSchedule(shardSettings(plan, 0, 0, { loadCpus: null, workers: 1 }), 0).closeAtUs / 1000;
}

/** Set up this long before startAt (the workers load, the target is reached): nothing is opened to it earlier. */
export const SHARD_SETUP_LEAD_MS = 1500;
/**
 * Probe the target's clock this long before the setup lead: shards woken for one start probe
 * while every shard waits, not while another's workers load (on one machine that load stretches
 * every probe's round trip). The probes take ~0.3 s (dist/clock.ts); the rest is slack.
 */
export const CLOCK_LEAD_MS = 500;
/** A barrier's start lies this long after the last ready: the clock and setup leads, and 1 s for shard 0's answers to reach every shard. */
export const BARRIER_LEAD_MS = CLOCK_LEAD_MS + SHARD_SETUP_LEAD_MS + 1000;

/**
 * Run shard `index` of `plan`: meet the others at the start barrier when the plan has one (it
 * throws PB_BARRIER, nothing run, when a shard is missing), wait for the start (the plan's, or the
 * barrier's) less the setup lead, run its slice on that absolute timeline, and return its record
 * with `shard` filled in. A shard started after the start still follows its timeline (its clients
 * already due start at once) and records how late it was.
 */
export async function runShard(plan: Plan, index: number, local: ShardLocal, hooks: RunHooks = {}): Promise<ResultRecord> {
  let barrier: BarrierOutcome | null = null;
  if (plan.start.barrier) {
    if (!local.barrier) throw new PushbenchError('PB_BAD_OPTION', 'the plan starts at a barrier: give shard 0\'s address (--barrier HOST:PORT or PUSHBENCH_BARRIER)');
    barrier = await meetAtBarrier(plan, index, local.barrier, { leadMs: BARRIER_LEAD_MS, signal: hooks.signal, log: hooks.log });
  }
  try {
    return await runFrom(plan, index, local, hooks, barrier?.startAt ?? plan.start.at);
  } finally {
    await barrier?.close();
  }
}

/** {@link runShard} from its start `startAt` (the plan's, or the barrier's announcement). */
async function runFrom(plan: Plan, index: number, local: ShardLocal, hooks: RunHooks, startAt: string): Promise<ResultRecord> {
  const startAtMs = Date.parse(startAt);
  const until = (atMs: number) => sleep(Math.max(0, atMs - Date.now()), undefined, { signal: hooks.signal }).catch(() => undefined);
  const probeAtMs = startAtMs - SHARD_SETUP_LEAD_MS - CLOCK_LEAD_MS;
  if (probeAtMs > Date.now()) hooks.log?.(`shard ${index}/${plan.shards}: waiting ${((probeAtMs - Date.now()) / 1000).toFixed(1)} s for the start ${startAt}`);
  await until(probeAtMs);
  const skewUs = local.clockSkewUs ?? 0;
  const before = await estimateClock(plan.run.target, skewUs);
  if (!before) hooks.log?.(`shard ${index}: ${plan.run.target} answers no /time; latency is not corrected for the clocks' offset`);
  await until(startAtMs - SHARD_SETUP_LEAD_MS);
  // the plan's wall-clock start on this machine's monotonic clock
  const t0Us = Math.round(nowUs() + (startAtMs - Date.now()) * 1000);
  let lateUs = 0;
  // a message's ts as read (less an emulated skew) less the estimated offset: on this machine's clock
  const shiftUs = before ? -Math.round(skewUs + before.offsetUs) : 0;
  // a staircase's steps each get a record as their window closes; every step runs (no coordinator to stop them)
  const steps: ResultRecord[] = [];
  const record = await runOnce(shardSettings(plan, index, t0Us, local, shiftUs), { ...hooks, onStarted: (x) => (lateUs = x), onStep: (r) => void steps.push(r) });
  const after = before && (await estimateClock(plan.run.target, skewUs).catch(() => null));
  const shard: ShardFacts = {
    index, count: plan.shards, planId: plan.id, host: os.hostname(),
    startAt, startLagMs: Math.round(lateUs / 100) / 10, clients: record.config.clients,
    clock: before && clockFacts(before, after, skewUs),
  };
  const own = (r: ResultRecord) => {
    const { summary: _s, ...rest } = r;
    return finishRecord({ ...rest, shard: { ...shard, clients: r.config.clients } });
  };
  return plan.staircase ? { ...own(record), steps: steps.map(own) } : own(record);
}
