/**
 * A planned staircase (`plan --staircase`) over two shard processes against one reference server:
 * every shard adds its slice of each step's clients on the plan's schedule and records each step;
 * `pushbench merge` merges step by step, judges each against the plan's SLO as `pushbench capacity`
 * judges a step, and reports the capacity in the record and the report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spawned } from '../../core/spawn.ts';
import { readResultFile, type ResultRecord } from '../../core/record.ts';
import type { PushbenchError } from '../../core/errors.ts';
import { spawnReferenceServer } from '../../load/runner.ts';
import { makePlan, type Plan } from '../../dist/plan.ts';
import { DEFAULT_SLO, parseSlo } from '../../capacity/search.ts';
import { judgeStaircase } from '../../capacity/planned.ts';
import { parsePlanArgs } from '../../cli/plan-command.ts';
import { main } from '../../cli/cli.ts';
import { runSettings } from '../load/settings.ts';
import { runShardCli, type ShardOutcome } from './shards.ts';

const STEPS = [20, 40];
const RATE = 10;
const dir = mkdtempSync(join(tmpdir(), 'pushbench-staircase-'));
const results = join(dir, 'results');
let server: Spawned;
let plan: Plan;
let planFile: string;
let outcomes: ShardOutcome[];
let shards: ResultRecord[];

beforeAll(async () => {
  server = await spawnReferenceServer(runSettings('ws', ['--clients', String(STEPS[1]), '--rate', String(RATE)]), 0);
  // each step: 300 ms warm-up (a step's 20 new clients arrive in 20 ms at 1000/s), 500 ms measured
  plan = makePlan({
    name: 'stairs', shards: 2,
    run: {
      transport: 'ws', workload: 'broadcast', clients: STEPS[1], durationMs: 800, warmupMs: 300, ratePerS: RATE, payloadBytes: 64,
      topics: 1, pollIntervalMs: 0, longPollTimeoutMs: 30_000, arrivalRatePerS: 1000, target: server.url,
    },
    // 3 s ahead: two node processes load tsx and a worker thread before the 1.5 s setup lead
    start: { at: new Date(Date.now() + 3000).toISOString(), toleranceMs: 1000 },
    clock: { maxUncertaintyShare: 1 },
    staircase: { clients: STEPS, slo: DEFAULT_SLO },
  });
  planFile = join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  outcomes = await Promise.all([0, 1].map((i) => runShardCli(planFile, ['--out', results, '--workers', '1', '--shard', String(i)])));
  shards = [0, 1].map((i) => readResultFile(join(results, `stairs-shard-${i}.json`)));
}, 30_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a planned staircase over two shards', () => {
  it('each shard adds its slice of every step and records each step', () => {
    outcomes.forEach((o) => expect(o.status, o.stderr).toBe(0));
    shards.forEach((r, i) => {
      expect(r.steps?.map((s) => [s.config.clients, s.shard?.index])).toEqual([[10, i], [20, i]]);
      expect(r.steps!.map((s) => s.summary.lost)).toEqual([0, 0]);
    });
  });

  it('merge judges every step against the plan\'s SLO and reports the capacity', async () => {
    const out = join(dir, 'merged');
    expect(await main(['merge', planFile, results, '-o', out])).toBe(0);
    const m = readResultFile(join(out, 'stairs.json'));
    expect(m.steps?.map((s) => s.config.clients)).toEqual(STEPS);
    m.steps!.forEach((s, i) => {
      expect(s.summary.delivered).toBe(shards[0].steps![i].summary.delivered + shards[1].steps![i].summary.delivered);
      expect(s.invalidReasons).toEqual([]);
    });
    // twice the clients in windows of one length: more messages expected in the second step
    expect(m.steps![1].summary.expected).toBeGreaterThan(m.steps![0].summary.expected);
    expect(m.staircase).toMatchObject({ slo: DEFAULT_SLO, capacity: 40, lowerBound: true, stop: { kind: 'max', atClients: 40 } });
    expect(m.staircase!.steps.map((s) => s.verdict)).toEqual(['pass', 'pass']);
    const md = readFileSync(join(out, 'stairs', 'summary.md'), 'utf8');
    expect(md).toMatch(/\| ws \| ≥ 40 \|/);
    expect(md).toMatch(/\| shard \| host \| clients/);
  });

  it('a step that breaks the SLO ends the capacity at the step before, as capacity reads its growth', () => {
    const m = readResultFile(join(dir, 'merged', 'stairs.json'));
    // the second step as it would read had 3 messages been lost
    const broken = { ...m.steps![1], summary: { ...m.steps![1].summary, lost: 3 } };
    const { figures, outcome } = judgeStaircase([m.steps![0], broken], parseSlo(DEFAULT_SLO).slo, 2);
    expect(figures).toMatchObject({ capacity: 20, lowerBound: false, stop: { kind: 'slo', atClients: 40 } });
    expect(figures.stop.message).toMatch(/^SLO broke at 40 clients \(lost 3 breaks lost=0\); capacity 20$/);
    expect(outcome.atCapacity).toBe(m.steps![0]);
    const none = judgeStaircase([{ ...m.steps![0], summary: { ...m.steps![0].summary, lost: 1 } }, m.steps![1]], parseSlo(DEFAULT_SLO).slo, 2);
    expect(none.figures).toMatchObject({ capacity: null, stop: { kind: 'slo', atClients: 20 } });
  });

  it('plan --staircase: the last step is the clients; every problem named', () => {
    const r = parsePlanArgs(['--transport', 'ws', '--target', server.url, '--shards', '2', '--staircase', '20,40', '--duration', '5s', '--slo', 'p99<100ms']);
    expect(r !== 'help' && [r.plan.run.clients, r.plan.staircase]).toEqual([40, { clients: [20, 40], slo: 'p99<100ms' }]);
    let problems: string[] = [];
    try { parsePlanArgs(['--transport', 'ws', '--target', server.url, '--shards', '30', '--staircase', '40,20', '--clients', '40', '--slo', 'p99<fast']); } catch (err) { problems = (err as PushbenchError).problems; }
    expect(problems).toEqual(expect.arrayContaining([
      '--staircase must ascend (got 40, 20)',
      "--clients and --staircase: give one (the last step is the run's clients)",
      expect.stringMatching(/^--slo: cannot read "p99<fast"/),
    ]));
    // merge refuses a shard record without the plan's steps
    const { steps: _s, ...plain } = shards[0];
    writeFileSync(join(dir, 'plain.json'), JSON.stringify(plain));
    return main(['merge', planFile, join(dir, 'plain.json'), join(results, 'stairs-shard-1.json'), '-o', join(dir, 'm2')]).then((code) => expect(code).toBe(2));
  });
});
