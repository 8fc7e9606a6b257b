/**
 * A plan run by three shards on this machine, each the real `pushbench run --plan` command (its
 * index from --shard, PUSHBENCH_SHARD and JOB_COMPLETION_INDEX, as the engines give it), against
 * one reference server; then `pushbench merge`. The merged record is the shards' sum (counters,
 * histogram counts), its percentiles those of every sample together; merge refuses another plan's
 * records and names a repeated or a missing index (exit 2), and a late shard makes the run invalid.
 * One shard's clock is skewed on purpose: its measured offset shows it and its latencies do not.
 * Beside another file: the shards wait for the plan's start on a timer, after a 4 s lead that covers
 * their process start (about 1 s) several times, so their start lag stays far under the 1 s
 * tolerance; their clock uncertainty comes from the smallest of 16 probe round trips before and
 * after the run (all 16 would have to be slowed) and is held to the run's p50
 * (maxUncertaintyShare 1), which a neighbour's load raises too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spawned } from '../../core/spawn.ts';
import { decodeHistogram, percentiles, createHistogram } from '../../core/histogram.ts';
import { readResultFile, type ResultRecord } from '../../core/record.ts';
import type { PushbenchError } from '../../core/errors.ts';
import { spawnReferenceServer } from '../../load/runner.ts';
import { mergeShards } from '../../dist/merge.ts';
import type { Plan, PlanRun } from '../../dist/plan.ts';
import { main } from '../../cli/cli.ts';
import { runSettings } from '../load/settings.ts';
import { runShardCli, writePlan, type ShardOutcome, SHARD_TEST_SERVER_DELAY_MS } from './shards.ts';

const CLIENTS = 30;
const RATE = 10;
const SKEW_MS = 200;
const dir = mkdtempSync(join(tmpdir(), 'pushbench-shards-'));
const results = join(dir, 'results');
let server: Spawned;
let plan: Plan;
let planFile: string;
let outcomes: ShardOutcome[];

const problemsOf = (f: () => unknown): string[] => {
  try { f(); } catch (err) { return (err as PushbenchError).problems; }
  return [];
};

beforeAll(async () => {
  server = await spawnReferenceServer(runSettings('ws', ['--clients', String(CLIENTS), '--rate', String(RATE), '--delay', String(SHARD_TEST_SERVER_DELAY_MS)]), 0);
  const run: PlanRun = {
    transport: 'ws', workload: 'broadcast', clients: CLIENTS, durationMs: 1500, warmupMs: 500, ratePerS: RATE, payloadBytes: 64,
    topics: 1, pollIntervalMs: 0, longPollTimeoutMs: 30_000, arrivalRatePerS: 1000, target: server.url,
  };
  // 4 s ahead: three node processes load tsx and their worker thread on two shared cores (about a
  // second each) before the 1.5 s setup lead; a shard that is still late records it (checked below).
  ({ plan, file: planFile } = writePlan(dir, run, 3, 4000));
  const common = ['--out', results, '--workers', '1'];
  outcomes = await Promise.all([
    runShardCli(planFile, [...common, '--shard', '0']),
    runShardCli(planFile, common, { env: { PUSHBENCH_SHARD: '1' } }),
    // shard 2's clock emulated 200 ms ahead of the server's: its offset correction must take it out
    runShardCli(planFile, [...common, '--clock-skew', `${SKEW_MS}ms`], { env: { JOB_COMPLETION_INDEX: '2' } }),
  ]);
}, 40_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('three shards of one plan, merged', () => {
  it('each shard writes its record and prints it as the last stdout line', () => {
    const files = readdirSync(results).sort();
    expect(files).toEqual(['scale-test-shard-0.json', 'scale-test-shard-1.json', 'scale-test-shard-2.json']);
    outcomes.forEach((o, i) => {
      expect(o.status, o.stderr).toBe(0);
      const r = readResultFile(join(results, files[i]));
      expect(o.printed).toEqual(r);
      expect(r.shard).toMatchObject({ index: i, count: 3, planId: plan.id, clients: 10 });
      // the plan's start is 4 s ahead of the processes' start: none should need more than its tolerance
      expect(r.shard!.startLagMs).toBeLessThanOrEqual(plan.start.toleranceMs);
      expect(r.invalidReasons.join('; ')).toBe('');
      expect(r.summary.lost).toBe(0);
    });
  });

  it('clocks: each shard measured its offset to the server; the skewed one\'s is taken out of its latencies', () => {
    const shards = readdirSync(results).sort().map((f) => readResultFile(join(results, f)));
    // One host, one CLOCK_MONOTONIC: the true offset is 0, plus the emulated skew on shard 2; an
    // estimate lies within its uncertainty (half the smallest round trip, plus the drift) of it.
    shards.forEach((r, i) => {
      const c = r.shard!.clock!;
      const truth = i === 2 ? -SKEW_MS * 1000 : 0;
      expect(Math.abs(c.offsetUs - truth)).toBeLessThanOrEqual(c.uncertaintyUs + 1);
      expect(c.afterOffsetUs).toBeDefined();
    });
    expect(shards[2].shard!.clock!.emulatedSkewUs).toBe(SKEW_MS * 1000);
    // Uncorrected, every delivery of shard 2 would read ≥ 200 ms; corrected, it is the server's
    // 10 ms hold and a few ms like the others'. Half the skew is the line between the two.
    expect(shards[2].summary.latencyUs.p99).toBeLessThan((SKEW_MS / 2) * 1000);
    expect(shards[2].summary.latencyUs.p50).toBeGreaterThan(0);
  });

  it('merge: counters sum, histograms add, percentiles of every sample together', async () => {
    const merged = join(dir, 'merged');
    expect(await main(['merge', planFile, results, '-o', merged, '--assert', 'lost=0'])).toBe(0);
    const m = readResultFile(join(merged, 'scale-test.json'));
    const shards = readdirSync(results).sort().map((f) => readResultFile(join(results, f)));
    expect(m.valid).toBe(true);
    expect(m.config.clients).toBe(CLIENTS);
    expect(m.summary.delivered).toBe(shards.reduce((n, r) => n + r.summary.delivered, 0));
    expect(m.summary.expected).toBe(shards.reduce((n, r) => n + r.summary.expected, 0));
    expect(m.summary.lost).toBe(0);
    // every client gets 10 msg/s over the 1 s window, ± one message per client at each window edge
    expect(m.summary.delivered).toBeGreaterThanOrEqual(RATE * CLIENTS - 2 * CLIENTS);
    const all = createHistogram();
    for (const r of shards) all.add(decodeHistogram(r.histograms.deliveryUs));
    const union = percentiles(all);
    const own = percentiles(decodeHistogram(m.histograms.deliveryUs));
    expect(own.count).toBe(shards.reduce((n, r) => n + percentiles(decodeHistogram(r.histograms.deliveryUs)).count, 0));
    expect([m.summary.latencyUs.p50, m.summary.latencyUs.p99]).toEqual([union.p50, union.p99]);
    const p99s = shards.map((r) => r.summary.latencyUs.p99);
    if (new Set(p99s).size > 1) expect(m.summary.latencyUs.p99).not.toBe(p99s.reduce((a, b) => a + b, 0) / p99s.length);
    // timelines on the plan's one grid: each second's deliveries are the shards' sum
    for (const p of m.timeline) {
      expect(p.deliveriesPerS).toBe(shards.reduce((n, r) => n + (r.timeline.find((q) => q.tS === p.tS)?.deliveriesPerS ?? 0), 0));
    }
    expect(m.shards).toMatchObject({ planId: plan.id, count: 3, missing: [] });
    expect(readFileSync(join(merged, 'scale-test', 'summary.md'), 'utf8')).toMatch(/\| shard \| host \| clients \| start lag/);
  });

  it('refuses another plan\'s records; names a repeated or a missing index (exit 2); --allow-partial marks the run', async () => {
    const inputs = readdirSync(results).sort().map((f) => ({ file: f, record: readResultFile(join(results, f)) }));
    const other = { ...plan, id: '0123456789abcdef' };
    expect(problemsOf(() => mergeShards(other, inputs))).toEqual(inputs.map((x) => `${x.file}: a shard of plan ${plan.id}, not of this plan (0123456789abcdef)`).concat(["missing shards 0, 1, 2 of the plan's 0…2 (--allow-partial merges the others and marks the run)"]));
    expect(problemsOf(() => mergeShards(plan, [...inputs, { ...inputs[1], file: 'again.json' }]))).toEqual([`shard 1 given 2 times: ${inputs[1].file}, again.json`]);
    expect(problemsOf(() => mergeShards(plan, inputs.slice(0, 2)))).toEqual(["missing shard 2 of the plan's 0…2 (--allow-partial merges the others and marks the run)"]);
    const partial = mergeShards(plan, inputs.slice(0, 2), { allowPartial: true });
    expect(partial.valid).toBe(false);
    expect(partial.invalidReasons).toContain('partial: shard 2 of 3 missing (merged with --allow-partial)');
    expect(partial.shards?.missing).toEqual([2]);
    // the command: exit 2 on the repeated index (a copy of shard 1 under another name)
    const dup = join(dir, 'dup');
    mkdirSync(dup);
    for (const f of readdirSync(results)) copyFileSync(join(results, f), join(dup, f));
    copyFileSync(join(results, 'scale-test-shard-1.json'), join(dup, 'copy-of-1.json'));
    expect(await main(['merge', planFile, dup, '-o', join(dir, 'm2')])).toBe(2);
  });

  it('a shard that started beyond the plan\'s tolerance makes the merged run invalid, naming it', () => {
    const inputs = readdirSync(results).sort().map((f) => ({ file: f, record: readResultFile(join(results, f)) as ResultRecord }));
    // shard 1's record as a shard 1.5 s late would write it (its lag is what the shard measured)
    inputs[1].record = { ...inputs[1].record, shard: { ...inputs[1].record.shard!, startLagMs: 1500 } };
    // and shard 0's as a shard whose clock was known only to ± 1 s would write it
    inputs[0].record = { ...inputs[0].record, shard: { ...inputs[0].record.shard!, clock: { ...inputs[0].record.shard!.clock!, uncertaintyUs: 1_000_000 } } };
    const m = mergeShards(plan, inputs);
    expect(m.valid).toBe(false);
    expect(m.invalidReasons).toEqual([
      expect.stringMatching(/^shard 0 \(.+\): its clock offset to the target is known to ± 1000000 µs .* more than 100 % of the run's p50/),
      expect.stringMatching(/^shard 1 \(.+\) started 1500 ms after the plan's start, beyond its tolerance of 1000 ms$/),
    ]);
  });
});
