/**
 * The start barrier (`plan --start barrier`, dist/barrier.ts) and a planned staircase
 * (`plan --staircase`), with real `pushbench run --plan` processes on loopback against one
 * reference server. One plan holds both, as a Kubernetes capacity run would, so one run of three
 * shards checks each (the suite pays for the processes once):
 * - the shards, one started later, meet at shard 0 and run to the one start it announces after
 *   the last reported; every shard adds its slice of each step and records each step; merge
 *   merges step by step, judges each against the plan's SLO as `pushbench capacity` judges a
 *   step, and reports the capacity;
 * - meanwhile, a plan of three shards of which one is never started: shard 0 and the other exit 1
 *   once the plan's timeout has passed, both naming the missing index; nothing run, no process
 *   and no port left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spawned } from '../../core/spawn.ts';
import { readResultFile, type ResultRecord } from '../../core/record.ts';
import type { PushbenchError } from '../../core/errors.ts';
import { spawnReferenceServer } from '../../load/runner.ts';
import { BARRIER_LEAD_MS } from '../../dist/shard.ts';
import { makePlan, type Plan, type PlanRun } from '../../dist/plan.ts';
import { DEFAULT_SLO, parseSlo } from '../../capacity/search.ts';
import { judgeStaircase } from '../../capacity/planned.ts';
import { parsePlanArgs } from '../../cli/plan-command.ts';
import { main } from '../../cli/cli.ts';
import { runSettings } from '../load/settings.ts';
import { freePort, portFree } from '../fixtures/ports.ts';
import { runShardCli, writePlan, type ShardOutcome, SHARD_TEST_SERVER_DELAY_MS } from './shards.ts';

const STEPS = [15, 30];
const RATE = 10;
/** the missing-shard plan's timeout: long enough for two node processes to start and report */
const MISSING_TIMEOUT_MS = 1500;
/** shard 2 of the joined plan starts this much after the others: the start must wait for it */
const LATE_MS = 300;
const dir = mkdtempSync(join(tmpdir(), 'pushbench-barrier-'));
const results = join(dir, 'joined');
let server: Spawned;
let joined: { plan: Plan; file: string; port: number; lateSpawnedAt: number; outcomes: ShardOutcome[]; records: ResultRecord[] };
let missing: { file: string; port: number; outcomes: (ShardOutcome & { ms: number })[] };

/** Every process whose command line names `path` (none should outlive the test's children). */
function processesNaming(path: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path); } catch { return false; }
  });
}

beforeAll(async () => {
  server = await spawnReferenceServer(runSettings('ws', ['--clients', String(STEPS[1]), '--rate', String(RATE), '--delay', String(SHARD_TEST_SERVER_DELAY_MS)]), 0);
  // each step: 500 ms warm-up (its 15 new clients arrive in 15 ms at 1000/s; the rest is slack for
  // a process the file beside this one delays), 400 ms measured
  const run: PlanRun = {
    transport: 'ws', workload: 'broadcast', clients: STEPS[1], durationMs: 900, warmupMs: 500, ratePerS: RATE, payloadBytes: 64,
    topics: 1, pollIntervalMs: 0, longPollTimeoutMs: 30_000, arrivalRatePerS: 1000, target: server.url,
  };
  // The plan's own start is now: only the barrier can put the start ahead of the shards. Its
  // tolerance is the barrier's lead: this file runs beside another, whose load may delay a
  // shard's setup by part of its lead; what this file claims is one announced start for all.
  const plan = makePlan({
    name: 'stairs', run, shards: 3, clock: { maxUncertaintyShare: 1 },
    start: { at: new Date().toISOString(), toleranceMs: BARRIER_LEAD_MS, barrier: { timeoutMs: 20_000 } },
    staircase: { clients: STEPS, slo: DEFAULT_SLO },
  });
  const file = join(dir, 'joined.json');
  writeFileSync(file, JSON.stringify(plan));
  const b = writePlan(dir, { ...run, clients: 15 }, 3, 0, 1000, { timeoutMs: MISSING_TIMEOUT_MS }, 'missing.json');
  const [portA, portB] = [await freePort(), await freePort()];
  const common = (out: string) => ['--out', join(dir, out), '--workers', '1'];
  const at = `127.0.0.1:${portA}`;
  let lateSpawnedAt = 0;
  const timed = async (p: Promise<ShardOutcome>) => { const t0 = Date.now(); const o = await p; return { ...o, ms: Date.now() - t0 }; };
  const envB = { PUSHBENCH_BARRIER: `127.0.0.1:${portB}` };
  const [outcomes, missingOutcomes] = await Promise.all([
    Promise.all([
      runShardCli(file, [...common('joined'), '--shard', '0', '--barrier', at]),
      runShardCli(file, common('joined'), { env: { PUSHBENCH_SHARD: '1', PUSHBENCH_BARRIER: at } }),
      new Promise((r) => setTimeout(r, LATE_MS)).then(() => {
        lateSpawnedAt = Date.now();
        return runShardCli(file, common('joined'), { env: { JOB_COMPLETION_INDEX: '2', PUSHBENCH_BARRIER: at } });
      }),
    ]),
    // shard 2 of this plan is never started
    Promise.all([0, 1].map((i) => timed(runShardCli(b.file, [...common('missing'), '--shard', String(i)], { env: envB, timeoutMs: 20_000 })))),
  ]);
  const records = outcomes.every((o) => o.status === 0) ? [0, 1, 2].map((i) => readResultFile(join(results, `stairs-shard-${i}.json`))) : [];
  joined = { plan, file, port: portA, lateSpawnedAt, outcomes, records };
  missing = { file: b.file, port: portB, outcomes: missingOutcomes };
}, 40_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('start barrier', () => {
  it('three shards started apart run to the one start shard 0 announced after the last reported', async () => {
    joined.outcomes.forEach((o) => expect(o.status, o.stderr).toBe(0));
    const starts = joined.records.map((r) => r.shard!.startAt!);
    expect(new Set(starts).size).toBe(1);
    // shard 2 could report no earlier than it was started; the start is the lead after that
    expect(Date.parse(starts[0])).toBeGreaterThanOrEqual(joined.lateSpawnedAt + BARRIER_LEAD_MS);
    expect(joined.outcomes[0].stderr).toMatch(/barrier: every shard ready; start /);
    joined.records.forEach((r) => expect(r.shard!.startLagMs).toBeLessThanOrEqual(joined.plan.start.toleranceMs));
    expect(await portFree(joined.port)).toBe(true);
  });

  it('a shard that never reports: shard 0 and the other exit 1 after the timeout naming it; nothing run, nothing left', async () => {
    const [zero, one] = missing.outcomes;
    expect([zero.status, zero.signal, one.status, one.signal]).toEqual([1, null, 1, null]);
    const named = `start barrier: shard 2 of 0…2 did not report ready within ${MISSING_TIMEOUT_MS / 1000} s`;
    expect(zero.stderr).toContain(named);
    expect(one.stderr).toContain(`shard 0 answered: ${named}`);
    // shard 0 waited out its timeout; both ended within it plus a node process's start (tsx loads
    // in well under a second; five processes start at once on two shared cores here)
    expect(zero.ms).toBeGreaterThanOrEqual(MISSING_TIMEOUT_MS);
    for (const o of [zero, one]) expect(o.ms).toBeLessThan(MISSING_TIMEOUT_MS + 5000);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
    expect(await portFree(missing.port)).toBe(true);
    expect(processesNaming(missing.file)).toEqual([]);
    expect(processesNaming(joined.file)).toEqual([]);
  });
});

describe('a planned staircase', () => {
  it('each shard adds its slice of every step and records each step', () => {
    expect(joined.records).toHaveLength(3);
    joined.records.forEach((r, i) => {
      expect(r.steps?.map((s) => [s.config.clients, s.shard?.index])).toEqual([[5, i], [10, i]]);
      expect(r.steps!.map((s) => s.summary.lost)).toEqual([0, 0]);
    });
  });

  it('merge judges every step against the plan\'s SLO and reports the capacity', async () => {
    const out = join(dir, 'merged');
    expect(await main(['merge', joined.file, results, '-o', out, '--assert', 'lost=0']), 'merge exit code').toBe(0);
    const m = readResultFile(join(out, 'stairs.json'));
    expect(m.steps?.map((s) => s.config.clients)).toEqual(STEPS);
    m.steps!.forEach((s, i) => {
      expect(s.summary.delivered).toBe(joined.records.reduce((n, r) => n + r.steps![i].summary.delivered, 0));
      expect(s.invalidReasons, `step ${i}: ${s.invalidReasons.join('; ')}`).toEqual([]);
    });
    // twice the clients in windows of one length: more messages expected in the second step
    expect(m.steps![1].summary.expected).toBeGreaterThan(m.steps![0].summary.expected);
    expect(m.staircase).toMatchObject({ slo: DEFAULT_SLO, capacity: 30, lowerBound: true, stop: { kind: 'max', atClients: 30 } });
    expect(m.staircase!.steps.map((s) => s.verdict)).toEqual(['pass', 'pass']);
    const md = readFileSync(join(out, 'stairs', 'summary.md'), 'utf8');
    expect(md).toMatch(/\| ws \| ≥ 30 \|/);
    expect(md).toMatch(/\| shard \| host \| clients/);
  });

  it('a step that breaks the SLO ends the capacity at the step before, as capacity reads its growth', () => {
    const m = readResultFile(join(dir, 'merged', 'stairs.json'));
    // the second step as it would read had 3 messages been lost
    const broken = { ...m.steps![1], summary: { ...m.steps![1].summary, lost: 3 } };
    const { figures, outcome } = judgeStaircase([m.steps![0], broken], parseSlo(DEFAULT_SLO).slo, 3);
    expect(figures).toMatchObject({ capacity: 15, lowerBound: false, stop: { kind: 'slo', atClients: 30 } });
    expect(figures.stop.message).toBe('SLO broke at 30 clients (lost 3 breaks lost=0); capacity 15');
    expect(outcome.atCapacity).toBe(m.steps![0]);
    const none = judgeStaircase([{ ...m.steps![0], summary: { ...m.steps![0].summary, lost: 1 } }, m.steps![1]], parseSlo(DEFAULT_SLO).slo, 3);
    expect(none.figures).toMatchObject({ capacity: null, stop: { kind: 'slo', atClients: 15 } });
  });

  it('plan --staircase: the last step is the clients; every problem named; merge refuses a shard without the steps', async () => {
    const r = parsePlanArgs(['--transport', 'ws', '--target', server.url, '--shards', '2', '--staircase', '20,40', '--duration', '5s', '--slo', 'p99<100ms']);
    expect(r !== 'help' && [r.plan.run.clients, r.plan.staircase]).toEqual([40, { clients: [20, 40], slo: 'p99<100ms' }]);
    let problems: string[] = [];
    try { parsePlanArgs(['--transport', 'ws', '--target', server.url, '--shards', '2', '--staircase', '40,20', '--clients', '40', '--slo', 'p99<fast']); } catch (err) { problems = (err as PushbenchError).problems; }
    expect(problems).toEqual([
      '--staircase must ascend (got 40, 20)',
      "--clients and --staircase: give one (the last step is the run's clients)",
      expect.stringMatching(/^--slo: cannot read "p99<fast"/),
    ]);
    const { steps: _s, ...plain } = joined.records[0];
    writeFileSync(join(dir, 'plain.json'), JSON.stringify(plain));
    const others = [1, 2].map((i) => join(results, `stairs-shard-${i}.json`));
    expect(await main(['merge', joined.file, join(dir, 'plain.json'), ...others, '-o', join(dir, 'm2')])).toBe(2);
  });
});
