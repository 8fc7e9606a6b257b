/**
 * `pushbench plan`: write the plan of one run spread over many machines (dist/plan.ts). Every
 * option is validated first (exit 2, every problem listed); the plan goes to `-o FILE`
 * (atomically) or to stdout.
 */
import { writeTextAtomic } from '../core/record.ts';
import { validationError } from '../core/errors.ts';
import { formatHelp, parseCommandArgs, type OptionSpec, type OptionValues } from '../core/options.ts';
import { parseDurationMs } from '../core/units.ts';
import type { WorkloadName } from '../core/record.ts';
import { TRANSPORTS, traitsOf } from '../load/drivers/index.ts';
import { makePlan, type Plan } from '../dist/plan.ts';
import { DEFAULT_SLO, parseSlo } from '../capacity/search.ts';
import { LOAD_OPTION_SPECS, checkTarget, checkTiming, timeStamp } from './run-options.ts';

/** The load options a plan fixes for every shard (the rest are each machine's own, or not yet planned). */
const PLANNED = new Set(['clients', 'duration', 'warmup', 'workload', 'rate', 'payload', 'topics', 'poll-interval', 'long-poll-timeout', 'arrival-rate', 'target']);

export const PLAN_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'transport', kind: 'string', arg: 'NAME', help: 'transport to measure (required)', choices: TRANSPORTS },
  { name: 'shards', kind: 'int', arg: 'N', help: 'machines (shards) the clients are spread over', default: 1, min: 1, max: 10_000 },
  ...LOAD_OPTION_SPECS.filter((s) => PLANNED.has(s.name)).map((s) =>
    s.name === 'target' ? { ...s, help: 'the server every shard measures (required)' }
      : s.name === 'clients' ? { ...s, help: 'simulated clients over all shards' }
        : s.name === 'arrival-rate' ? { ...s, help: 'clients started per second over all shards (open model)' } : s),
  { name: 'start', kind: 'string', arg: 'POLICY', help: 'at: every shard starts at --start-at; barrier: shard 0 collects ready from the others and announces the start (Kubernetes: over the headless Service; docs/scale-out.md#the-start-barrier)', default: 'at', choices: ['at', 'barrier'] },
  { name: 'start-at', kind: 'string', arg: 'TIME', help: 'when the first client arrives: an absolute ISO 8601 time, or +DURATION from now (resolved now); with --start barrier the earliest start (default: +60s; with --start barrier: now)' },
  { name: 'barrier-timeout', kind: 'durationMs', arg: 'TIME', help: 'with --start barrier: a shard not ready this long after shard 0 listens fails the run, named', default: 300_000, min: 100 },
  { name: 'start-tolerance', kind: 'durationMs', arg: 'TIME', help: 'a shard that starts later than this marks the merged run invalid', default: 1000, min: 0 },
  { name: 'clock-uncertainty', kind: 'fraction', arg: 'PCT', help: 'a shard whose clock offset to the target is less certain than this share of the run\'s p50 makes the run invalid (see docs/scale-out.md#clocks)', default: 0.5, min: 0.001, max: 10 },
  { name: 'staircase', kind: 'list', arg: 'LIST', help: 'client counts over all shards, ascending (e.g. 20000,40000,80000): each step adds its clients and lasts --duration (--warmup of it not judged); merge judges each against --slo and reports the capacity. Instead of --clients' },
  { name: 'slo', kind: 'string', arg: 'TERMS', help: 'with --staircase: what a step must hold (as pushbench capacity --slo)', default: DEFAULT_SLO },
  { name: 'name', kind: 'string', arg: 'NAME', help: 'the run\'s name (default plan-<time>)' },
  { name: 'out', short: 'o', kind: 'string', arg: 'FILE', help: 'write the plan here (default: stdout)' },
]);

const PLAN_USAGE = `pushbench plan --transport ${TRANSPORTS.join('|')} --clients N --shards N --target URL [options] [-o plan.json]`;
const PLAN_DESCRIPTION = `Writes the plan of one run spread over many machines: the run's configuration, the shard
count, the histogram configuration every shard records with, and the absolute start time. Each
machine then runs 'pushbench run --plan plan.json --shard I' (I from 0; or PUSHBENCH_SHARD /
JOB_COMPLETION_INDEX), and 'pushbench merge plan.json <records…>' makes one record of them.`;

/** `--start-at`: `+DURATION` from `nowMs`, or an absolute time; must lie ahead. */
export function parseStartAt(raw: string, nowMs: number, problems: string[]): string {
  const rel = raw.startsWith('+') ? parseDurationMs(raw.slice(1)) : undefined;
  const atMs = raw.startsWith('+') ? (rel === undefined ? NaN : nowMs + rel) : Date.parse(raw);
  if (Number.isNaN(atMs)) {
    problems.push(`--start-at must be an ISO 8601 time like 2026-12-07T12:00:00Z or +DURATION like +60s (got "${raw}")`);
    return new Date(nowMs).toISOString();
  }
  if (atMs <= nowMs) problems.push(`--start-at ${raw} is not in the future (it is ${new Date(atMs).toISOString()}, now is ${new Date(nowMs).toISOString()})`);
  return new Date(atMs).toISOString();
}

/** Parse and validate `plan`'s argv into a plan (every problem at once, PB_BAD_OPTION). */
export function parsePlanArgs(argv: string[], nowMs = Date.now()): { plan: Plan; out: string | undefined } | 'help' {
  const parsed = parseCommandArgs(argv, PLAN_OPTION_SPECS);
  if (parsed === 'help') return 'help';
  const { values: v, problems } = parsed;
  const transport = v.transport as string | undefined;
  if (transport === undefined && !problems.some((p) => p.startsWith('--transport'))) problems.push(`--transport is required (one of ${TRANSPORTS.join(', ')})`);
  if (v.target === undefined) problems.push('--target is required: the server every shard measures (a shard starts no server of its own)');
  const target = checkTarget(v.target as string | undefined, problems);
  const staircase = staircaseOf(v, argv, problems);
  if (staircase) v.clients = staircase.clients[staircase.clients.length - 1];
  const plan = makePlan({
    name: (v.name as string | undefined) ?? `plan-${timeStamp(new Date(nowMs))}`,
    run: runOf(v, transport ?? TRANSPORTS[0], target ?? '', problems),
    shards: v.shards as number,
    start: startOf(v, argv, nowMs, problems),
    clock: { maxUncertaintyShare: v.clockUncertainty as number },
    ...(staircase ? { staircase } : {}),
  });
  if (problems.length) throw validationError(problems);
  return { plan, out: v.out as string | undefined };
}

/** `--staircase` (and `--slo`): the steps' client counts and what each must hold; undefined without one. */
function staircaseOf(v: OptionValues, argv: readonly string[], problems: string[]): Plan['staircase'] {
  const given = argv.some((a) => a === '--slo' || a.startsWith('--slo='));
  if (v.staircase === undefined) {
    if (given) problems.push('--slo applies to --staircase only (a run without steps is judged with merge --assert)');
    return undefined;
  }
  const raw = v.staircase as string[];
  const clients = raw.map(Number);
  const bad = raw.filter((x, i) => !Number.isInteger(clients[i]) || clients[i] < 1);
  if (bad.length) problems.push(`--staircase: ${bad.join(', ')} not a client count (a whole number ≥ 1)`);
  else if (clients.some((c, i) => i > 0 && c <= clients[i - 1])) problems.push(`--staircase must ascend (got ${raw.join(', ')})`);
  else if (clients[0] < (v.shards as number)) problems.push(`--staircase: its first step (${clients[0]}) is fewer than --shards ${v.shards as number}: every shard takes one client or more`);
  if (argv.some((a) => a === '--clients' || a.startsWith('--clients='))) problems.push('--clients and --staircase: give one (the last step is the run\'s clients)');
  const { slo, problems: sloProblems } = parseSlo(v.slo as string);
  problems.push(...sloProblems);
  return { clients, slo: slo.text };
}

/** The plan's start: an absolute time, and with `--start barrier` the barrier's timeout. */
function startOf(v: OptionValues, argv: readonly string[], nowMs: number, problems: string[]): Plan['start'] {
  const barrier = v.start === 'barrier';
  if (!barrier && argv.some((a) => a.startsWith('--barrier-timeout'))) problems.push('--barrier-timeout applies to --start barrier only');
  // with a barrier the start comes from shard 0; --start-at, when given, is only the earliest
  const at = v.startAt === undefined && barrier ? new Date(nowMs).toISOString() : parseStartAt((v.startAt as string | undefined) ?? '+60s', nowMs, problems);
  return { at, toleranceMs: v.startTolerance as number, ...(barrier ? { barrier: { timeoutMs: v.barrierTimeout as number } } : {}) };
}

/** The planned run from the options, its problems added. */
function runOf(v: OptionValues, transport: string, target: string, problems: string[]): Plan['run'] {
  const clients = v.clients as number;
  const shards = v.shards as number;
  const workload = v.workload as WorkloadName;
  const steps = v.staircase === undefined ? [clients] : (v.staircase as string[]).map(Number);
  const ramp = Math.max(...steps.map((c, i) => c - (steps[i - 1] ?? 0)).filter(Number.isFinite));
  const warmupMs = checkTiming(v, ramp, v.duration as number, v.arrivalRate as number, problems);
  if (clients < shards) problems.push(`--clients ${clients} is fewer than --shards ${shards}: every shard takes one client or more`);
  const topics = v.topics as number;
  if (workload !== 'fanout' && topics > clients) problems.push(`--topics ${topics} is more than --clients ${clients}: some topics would have no subscriber`);
  if (workload === 'chat') problems.push('--workload chat is not planned over machines yet (its clients publish; broadcast and fanout are)');
  return {
    transport, workload, clients, durationMs: v.duration as number, warmupMs,
    ratePerS: v.rate as number, payloadBytes: v.payload as number,
    topics: workload === 'fanout' ? clients : topics,
    pollIntervalMs: transport && traitsOf(transport)?.pollInterval ? (v.pollInterval as number) : 0,
    longPollTimeoutMs: v.longPollTimeout as number, arrivalRatePerS: v.arrivalRate as number, target,
  };
}

export async function planCommand(argv: string[]): Promise<number> {
  const parsed = parsePlanArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(formatHelp(PLAN_USAGE, PLAN_DESCRIPTION, PLAN_OPTION_SPECS));
    return 0;
  }
  const text = `${JSON.stringify(parsed.plan, null, 2)}\n`;
  if (parsed.out === undefined) process.stdout.write(text);
  else {
    writeTextAtomic(parsed.out, text);
    process.stderr.write(`wrote ${parsed.out}: plan ${parsed.plan.id}, ${parsed.plan.shards} shards, ${parsed.plan.run.clients} clients, start ${parsed.plan.start.barrier ? `at the barrier (not before ${parsed.plan.start.at})` : parsed.plan.start.at}\n`);
  }
  return 0;
}
