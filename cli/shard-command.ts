/**
 * `pushbench run --plan FILE --shard I`: one shard of a plan (dist/shard.ts). Validates the plan
 * and the index first (exit 2, every problem), waits for the plan's start, runs its slice, writes
 * its record atomically and prints that record as the last stdout line (compact JSON), so
 * `kubectl logs` or a CI step's log holds it too. Progress and notes go to stderr.
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../core/record.ts';
import { PushbenchError, validationError } from '../core/errors.ts';
import { formatHelp, parseCommandArgs, type OptionSpec } from '../core/options.ts';
import { countCpus, parseSourceIps } from '../load/runner.ts';
import { readPlan, type Plan } from '../dist/plan.ts';
import { BARRIER_ENV, parseBarrierAddress } from '../dist/barrier.ts';
import { SHARD_INDEX_ENV, runShard, shardIndexOf, shardSlice, type ShardLocal } from '../dist/shard.ts';
import { interruptible } from './interrupt.ts';
import { LOAD_OPTION_SPECS, fileSafe } from './run-options.ts';

const MACHINE = new Set(['load-cpus', 'workers', 'source-ips', 'out']);

export const SHARD_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'plan', kind: 'string', arg: 'FILE', help: 'the plan (pushbench plan) this shard is part of (required)' },
  { name: 'shard', kind: 'int', arg: 'I', help: `this shard's index, 0-based (default: ${SHARD_INDEX_ENV.join(', then ')})`, min: 0 },
  ...LOAD_OPTION_SPECS.filter((s) => MACHINE.has(s.name)),
  { name: 'barrier', kind: 'string', arg: 'HOST[:PORT]', help: `a plan with --start barrier: shard 0's address (shard 0 listens on its port; default: ${BARRIER_ENV}, which the k8s manifest sets)` },
  { name: 'clock-skew', kind: 'durationMs', bareUnit: 'ms', arg: 'TIME', help: 'for tests: emulate this machine\'s clock reading TIME ahead of the target\'s (the offset correction must take it out)', default: 0, min: 0 },
]);

const SHARD_USAGE = 'pushbench run --plan FILE [--shard I] [--out DIR] [--load-cpus LIST] [--workers N] [--source-ips LIST|CIDR] [--barrier HOST[:PORT]]';
const SHARD_DESCRIPTION = `Runs one shard of a plan: waits for the plan's start time, runs this shard's slice of the
clients on the plan's timeline against its target, and writes <out>/<plan name>-shard-<I>.json;
the record is also the last line on stdout. 'pushbench merge' makes one record of the shards'.`;

/** Whether `run`'s argv asks for a shard of a plan. */
export function isShardRun(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--plan' || a.startsWith('--plan='));
}

/** Parse and validate a shard run's argv and environment; throws PB_BAD_OPTION listing every problem. */
export function parseShardArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { plan: Plan; index: number; local: ShardLocal; outDir: string } | 'help' {
  const parsed = parseCommandArgs(argv, SHARD_OPTION_SPECS);
  if (parsed === 'help') return 'help';
  const { values: v, problems } = parsed;
  let plan: Plan | undefined;
  if (v.plan === undefined) problems.push('--plan FILE is required');
  else {
    try {
      plan = readPlan(v.plan as string);
    } catch (err) {
      problems.push(...((err as { problems?: string[] }).problems?.length ? (err as { problems: string[] }).problems.map((p) => `plan ${v.plan as string}: ${p}`) : [(err as Error).message]));
    }
  }
  const index = shardIndexOf(v.shard as number | undefined, env, plan?.shards ?? Number.MAX_SAFE_INTEGER, problems);
  const loadCpus = (v.loadCpus as string | undefined) ?? null;
  const sourceIps = v.sourceIps === undefined ? undefined : parseSourceIps(v.sourceIps as string);
  if (typeof sourceIps === 'string') problems.push(sourceIps);
  const rawBarrier = (v.barrier as string | undefined) ?? (env[BARRIER_ENV] || undefined);
  const barrier = rawBarrier === undefined ? undefined : parseBarrierAddress(rawBarrier, v.barrier === undefined ? BARRIER_ENV : '--barrier');
  if (typeof barrier === 'string') problems.push(barrier);
  if (plan?.start.barrier && barrier === undefined) problems.push(`the plan starts at a barrier: give shard 0's address with --barrier HOST[:PORT] or ${BARRIER_ENV} (the k8s manifest sets it)`);
  const local = {
    loadCpus, workers: (v.workers as number | undefined) ?? Math.max(1, countCpus(loadCpus)), clockSkewUs: (v.clockSkew as number) * 1000,
    ...(Array.isArray(sourceIps) ? { sourceIps } : {}),
    ...(typeof barrier === 'object' ? { barrier } : {}),
  };
  if (problems.length || !plan) throw validationError(problems);
  return { plan, index, local, outDir: v.out as string };
}

export async function shardCommand(argv: string[]): Promise<number> {
  const parsed = parseShardArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(formatHelp(SHARD_USAGE, SHARD_DESCRIPTION, SHARD_OPTION_SPECS));
    return 0;
  }
  const { plan, index, local, outDir } = parsed;
  const { clients } = shardSlice(plan, index);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`pushbench shard ${index} of ${plan.shards} (plan ${plan.id}): ${clients} of ${plan.run.clients} clients, ${plan.run.transport} at ${plan.run.target}, start ${plan.start.barrier ? `at the barrier (not before ${plan.start.at})` : plan.start.at}`);
  let signalled = false;
  const record = await interruptible(async (signal) => {
    const r = await runShard(plan, index, local, { signal, log });
    signalled = signal.aborted;
    return r;
  }).catch((err: unknown) => {
    // interrupted at the start barrier: nothing was run, so there is no record to write
    if (err instanceof PushbenchError && err.code === 'PB_INTERRUPTED') return err;
    throw err;
  });
  if (record instanceof PushbenchError) {
    log(record.message);
    return 130;
  }
  const file = join(outDir, `${fileSafe(`${plan.name}-shard-${index}`)}.json`);
  writeJsonAtomic(file, record);
  log(`wrote ${file}: ${record.summary.delivered} delivered, ${record.summary.lost} lost, start lag ${record.shard?.startLagMs} ms, clock offset ${record.shard?.clock ? `${record.shard.clock.offsetUs} ± ${record.shard.clock.uncertaintyUs} µs` : 'unknown'}, ${record.valid ? 'valid' : `invalid: ${record.invalidReasons.join('; ')}`}`);
  process.stdout.write(`${JSON.stringify(record)}\n`);
  if (!record.complete) return signalled ? 130 : 1;
  return 0;
}
