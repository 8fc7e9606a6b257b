/**
 * The plan (dist/plan.ts, `pushbench plan`): its id is a hash of its canonical form, the options
 * are validated with every problem listed (exit 2), a plan file is checked field by field and an
 * edited one is caught, and a shard's index comes from --shard or the engine's environment.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, planId, planProblems, readPlan } from '../../dist/plan.ts';
import { shardIndexOf, shardSlice } from '../../dist/shard.ts';
import { parsePlanArgs } from '../../cli/plan-command.ts';
import { parseShardArgs } from '../../cli/shard-command.ts';
import { BARRIER_PORT, parseBarrierAddress } from '../../dist/barrier.ts';
import { main } from '../../cli/cli.ts';
import { HISTOGRAM_CONFIG } from '../../core/histogram.ts';
import { PushbenchError } from '../../core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'pushbench-plan-'));
const NOW = Date.parse('2026-12-07T05:00:00Z');
const ARGS = ['--transport', 'ws', '--clients', '200', '--shards', '4', '--target', 'http://198.18.0.1:8080', '--duration', '10s', '--warmup', '2s', '--rate', '5'];

function problemsOf(argv: string[]): string[] {
  try {
    parsePlanArgs(argv, NOW);
  } catch (err) {
    return (err as PushbenchError).problems;
  }
  return [];
}

describe('plan', () => {
  it('holds the run, the shards, the pinned histogram and the start resolved now; its id hashes its content', () => {
    const r = parsePlanArgs([...ARGS, '--start-at', '+30s', '--name', 'big'], NOW);
    if (r === 'help') throw new Error('help');
    const { plan } = r;
    expect(plan).toMatchObject({ name: 'big', shards: 4, run: { transport: 'ws', clients: 200, durationMs: 10_000, warmupMs: 2000, ratePerS: 5, target: 'http://198.18.0.1:8080' } });
    expect(plan.start).toEqual({ at: '2026-12-07T05:00:30.000Z', toleranceMs: 1000 });
    expect(plan.histogram).toEqual(HISTOGRAM_CONFIG);
    expect(plan.id).toMatch(/^[0-9a-f]{16}$/);
    expect(planProblems(plan)).toEqual([]);
    // key order does not change the id; content does
    const reordered = Object.fromEntries(Object.entries(plan).reverse()) as typeof plan;
    expect(planId(reordered)).toBe(plan.id);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(planId({ ...plan, shards: 5 })).not.toBe(plan.id);
    // an absolute start is kept as given
    const abs = parsePlanArgs([...ARGS, '--start-at', '2026-12-07T06:00:00Z'], NOW);
    expect(abs !== 'help' && abs.plan.start.at).toBe('2026-12-07T06:00:00.000Z');
  });

  it('lists every problem of the options at once', () => {
    const problems = problemsOf(['--clients', '3', '--shards', '5', '--start-at', '2020-01-01T00:00:00Z', '--topics', '9', '--workload', 'chat']);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^--transport is required/),
      expect.stringMatching(/^--target is required/),
      expect.stringMatching(/^--start-at 2020-01-01T00:00:00Z is not in the future/),
      expect.stringMatching(/^--clients 3 is fewer than --shards 5/),
      expect.stringMatching(/^--topics 9 is more than --clients 3/),
      expect.stringMatching(/^--workload chat is not planned/),
    ]));
    expect(problemsOf([...ARGS, '--start-at', 'soon'])).toEqual([expect.stringMatching(/^--start-at must be an ISO 8601 time/)]);
  });

  it('a plan file: every field problem named, an edited file caught', () => {
    const r = parsePlanArgs(ARGS, NOW);
    if (r === 'help') throw new Error('help');
    const file = join(dir, 'edited.json');
    writeFileSync(file, JSON.stringify({ ...r.plan, run: { ...r.plan.run, clients: 400 } }));
    expect(() => readPlan(file)).toThrow(/edited after it was made/);
    const bad = { ...r.plan, shards: 0, run: { ...r.plan.run, transport: 'carrier-pigeon', target: 'ftp://x' }, histogram: { ...r.plan.histogram, significantDigits: 2 }, start: { at: 'noon', toleranceMs: -1 } };
    expect(planProblems(bad)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^shards must be a whole number/),
      expect.stringMatching(/^run.transport must be one of/),
      expect.stringMatching(/^run.target must be an http/),
      expect.stringMatching(/^histogram must be/),
      expect.stringMatching(/^start.at must be an ISO 8601 time/),
      expect.stringMatching(/^start.toleranceMs must be/),
    ]));
    expect(planProblems([])).toEqual(['the file is not a JSON object']);
  });

  it('pushbench plan writes the file atomically; bad options exit 2 with every problem', async () => {
    const file = join(dir, 'plan.json');
    expect(await main(['plan', ...ARGS, '--start-at', '+1h', '-o', file])).toBe(0);
    expect(planProblems(JSON.parse(readFileSync(file, 'utf8')))).toEqual([]);
    expect(await main(['plan', '--clients', '0', '--shards', 'x'])).toBe(2);
  });

  it('--start barrier: the start comes from shard 0 (not before --start-at); a shard needs its address; every problem named', () => {
    const r = parsePlanArgs([...ARGS, '--start', 'barrier', '--barrier-timeout', '90s'], NOW);
    if (r === 'help') throw new Error('help');
    expect(r.plan.start).toEqual({ at: new Date(NOW).toISOString(), toleranceMs: 1000, barrier: { timeoutMs: 90_000 } });
    expect(planProblems(r.plan)).toEqual([]);
    expect(planProblems({ ...r.plan, start: { ...r.plan.start, barrier: { timeoutMs: 0 } } })).toEqual(expect.arrayContaining(['start.barrier.timeoutMs must be a number > 0 (got 0)']));
    expect(problemsOf([...ARGS, '--barrier-timeout', '90s'])).toEqual(['--barrier-timeout applies to --start barrier only']);
    expect(problemsOf([...ARGS, '--start', 'whenever'])).toEqual([expect.stringMatching(/^--start must be one of at, barrier/)]);
    const file = join(dir, 'barrier.json');
    writeFileSync(file, JSON.stringify(r.plan));
    const shardProblems = (argv: string[], env: NodeJS.ProcessEnv) => {
      try { parseShardArgs(['--plan', file, ...argv], env); } catch (err) { return (err as PushbenchError).problems; }
      return [];
    };
    expect(shardProblems(['--shard', '1'], {})).toEqual([expect.stringMatching(/^the plan starts at a barrier: give shard 0's address with --barrier HOST\[:PORT\] or PUSHBENCH_BARRIER/)]);
    expect(shardProblems(['--shard', '1', '--barrier', 'job-0.job:99999'], {})).toEqual([expect.stringMatching(/^--barrier "job-0.job:99999" is not a barrier address/)]);
    const ok = parseShardArgs(['--plan', file], { JOB_COMPLETION_INDEX: '2', PUSHBENCH_BARRIER: 'job-0.job' });
    expect(ok !== 'help' && ok.local.barrier).toEqual({ host: 'job-0.job', port: BARRIER_PORT });
    expect(parseBarrierAddress('[::1]:7071', 'x')).toEqual({ host: '::1', port: 7071 });
  });

  it('a shard index from --shard, else PUSHBENCH_SHARD, else JOB_COMPLETION_INDEX; out of range named', () => {
    const p: string[] = [];
    expect(shardIndexOf(2, { JOB_COMPLETION_INDEX: '1' }, 4, p)).toBe(2);
    expect(shardIndexOf(undefined, { PUSHBENCH_SHARD: '3', JOB_COMPLETION_INDEX: '1' }, 4, p)).toBe(3);
    expect(shardIndexOf(undefined, { JOB_COMPLETION_INDEX: '1' }, 4, p)).toBe(1);
    expect(p).toEqual([]);
    shardIndexOf(undefined, {}, 4, p);
    shardIndexOf(undefined, { JOB_COMPLETION_INDEX: 'one' }, 4, p);
    shardIndexOf(4, {}, 4, p);
    expect(p).toEqual([
      expect.stringMatching(/^no shard index/),
      'JOB_COMPLETION_INDEX="one" is not a shard index (a whole number, 0-based)',
      "shard index 4 (from --shard) is outside the plan's shards 0…3",
    ]);
  });

  it('a shard\'s slice: its share of the clients and of the arrival schedule', () => {
    const r = parsePlanArgs(ARGS, NOW);
    if (r === 'help') throw new Error('help');
    const all = [0, 1, 2, 3].map((i) => shardSlice(r.plan, i));
    expect(all.reduce((n, x) => n + x.clients, 0)).toBe(200);
    // the default arrival rate (1000/s): shard 3's first client is id 3, its last id 199
    expect(all[3].arrivalsUs).toEqual({ firstUs: 3000, lastUs: 199_000 });
  });
});
