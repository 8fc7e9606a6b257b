/**
 * The start barrier (`plan --start barrier`, dist/barrier.ts), with real `pushbench run --plan`
 * processes on loopback: three shards started apart meet at shard 0 and run to the one start it
 * announces after the last one reported; with one shard of three never started, shard 0 and the
 * other exit 1 once the plan's timeout has passed, both naming the missing index, nothing run,
 * no process and no port left. The two plans run at once (the missing-shard processes only wait).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spawned } from '../../core/spawn.ts';
import { readResultFile } from '../../core/record.ts';
import { spawnReferenceServer } from '../../load/runner.ts';
import { BARRIER_LEAD_MS } from '../../dist/shard.ts';
import type { Plan, PlanRun } from '../../dist/plan.ts';
import { main } from '../../cli/cli.ts';
import { runSettings } from '../load/settings.ts';
import { freePort, portFree } from '../fixtures/ports.ts';
import { runShardCli, writePlan, type ShardOutcome } from './shards.ts';

const CLIENTS = 15;
const RATE = 10;
/** the missing-shard plan's timeout: long enough for two node processes to start and report */
const MISSING_TIMEOUT_MS = 1500;
/** shard 2 of the joined plan starts this much after the others: the start must wait for it */
const LATE_MS = 300;
const dir = mkdtempSync(join(tmpdir(), 'pushbench-barrier-'));
let server: Spawned;
let joined: { plan: Plan; file: string; port: number; lateSpawnedAt: number; outcomes: ShardOutcome[] };
let missing: { file: string; port: number; outcomes: (ShardOutcome & { ms: number })[] };

/** Every process whose command line names `path` (none should outlive the test's children). */
function processesNaming(path: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path); } catch { return false; }
  });
}

beforeAll(async () => {
  server = await spawnReferenceServer(runSettings('ws', ['--clients', String(CLIENTS), '--rate', String(RATE)]), 0);
  const run: PlanRun = {
    transport: 'ws', workload: 'broadcast', clients: CLIENTS, durationMs: 1000, warmupMs: 400, ratePerS: RATE, payloadBytes: 64,
    topics: 1, pollIntervalMs: 0, longPollTimeoutMs: 30_000, arrivalRatePerS: 1000, target: server.url,
  };
  // The plan's own start is now: only the barrier can put the start ahead of the shards. Its
  // tolerance is the barrier's lead: this file runs beside another, whose load may delay a
  // shard's setup by part of its lead; what this file claims is one announced start for all.
  const a = writePlan(dir, run, 3, 0, BARRIER_LEAD_MS, { timeoutMs: 20_000 }, 'joined.json');
  const b = writePlan(dir, run, 3, 0, 1000, { timeoutMs: MISSING_TIMEOUT_MS }, 'missing.json');
  const [portA, portB] = [await freePort(), await freePort()];
  const common = (out: string) => ['--out', join(dir, out), '--workers', '1'];
  const at = `127.0.0.1:${portA}`;
  let lateSpawnedAt = 0;
  const timed = async (p: Promise<ShardOutcome>) => { const t0 = Date.now(); const o = await p; return { ...o, ms: Date.now() - t0 }; };
  const envB = { PUSHBENCH_BARRIER: `127.0.0.1:${portB}` };
  const [outcomes, missingOutcomes] = await Promise.all([
    Promise.all([
      runShardCli(a.file, [...common('joined'), '--shard', '0', '--barrier', at]),
      runShardCli(a.file, common('joined'), { env: { PUSHBENCH_SHARD: '1', PUSHBENCH_BARRIER: at } }),
      new Promise((r) => setTimeout(r, LATE_MS)).then(() => {
        lateSpawnedAt = Date.now();
        return runShardCli(a.file, common('joined'), { env: { JOB_COMPLETION_INDEX: '2', PUSHBENCH_BARRIER: at } });
      }),
    ]),
    // shard 2 of this plan is never started
    Promise.all([0, 1].map((i) => timed(runShardCli(b.file, [...common('missing'), '--shard', String(i)], { env: envB, timeoutMs: 20_000 })))),
  ]);
  joined = { ...a, port: portA, lateSpawnedAt, outcomes };
  missing = { file: b.file, port: portB, outcomes: missingOutcomes };
}, 40_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('start barrier', () => {
  it('three shards started apart run to the one start shard 0 announced after the last reported', async () => {
    joined.outcomes.forEach((o) => expect(o.status, o.stderr).toBe(0));
    const records = [0, 1, 2].map((i) => readResultFile(join(dir, 'joined', `scale-test-shard-${i}.json`)));
    const starts = records.map((r) => r.shard!.startAt!);
    expect(new Set(starts).size).toBe(1);
    // shard 2 could report no earlier than it was started; the start is the lead after that
    expect(Date.parse(starts[0])).toBeGreaterThanOrEqual(joined.lateSpawnedAt + BARRIER_LEAD_MS);
    expect(Date.parse(starts[0])).toBeGreaterThan(Date.parse(joined.plan.start.at));
    expect(joined.outcomes[0].stderr).toMatch(/barrier: every shard ready; start /);
    records.forEach((r) => expect(r.shard!.startLagMs).toBeLessThanOrEqual(joined.plan.start.toleranceMs));
    const merged = join(dir, 'joined-merged');
    expect(await main(['merge', joined.file, join(dir, 'joined'), '-o', merged, '--no-report', '--assert', 'lost=0'])).toBe(0);
    const m = readResultFile(join(merged, 'scale-test.json'));
    expect(m.invalidReasons).toEqual([]);
    expect(m.summary.delivered).toBeGreaterThan(0);
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
