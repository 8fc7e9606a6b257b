/**
 * Scale-out over real hosts: the reference server in one network namespace and four shards in
 * four others, each its own network stack joined by veth pairs on a bridge (addresses from the
 * benchmarking range 198.18.0.0/15), every process the real command line. Three shards run to the
 * end; the fourth is killed mid-run, as a lost Kubernetes pod would be. Merge names the missing
 * 0-based index and exits 2; with --allow-partial, the merged record is the three shards' sum, its
 * percentiles those of every sample together. Needs root (CI runs as root); skipped, saying why,
 * only where a namespace cannot be made. The namespaces (and with them every link and the bridge)
 * are removed afterwards, also when a test failed.
 * Runs alone: four shard processes and a server share the two cores; each shard's start lag is held to the plan's 1 s tolerance and its clock uncertainty to the run's p50
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, decodeHistogram, percentiles } from '../../core/histogram.ts';
import { GENERATOR_V8_FLAGS } from '../../core/tsx.ts';
import { readResultFile } from '../../core/record.ts';
import type { PlanRun } from '../../dist/plan.ts';
import { main } from '../../cli/cli.ts';
import { BIN } from '../cli.ts';
import { runShardCli, writePlan, type ShardOutcome } from './shards.ts';

const TAG = `pb${process.pid % 100_000}`;
const BRIDGE_NS = `${TAG}-br`;
const SERVER = { ns: `${TAG}-srv`, addr: '198.18.0.1' };
const SHARDS = [0, 1, 2, 3].map((i) => ({ ns: `${TAG}-s${i}`, addr: `198.18.0.${10 + i}` }));
const KILLED = 3;
const CLIENTS = 40;
const RATE = 10;

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Whether this process may make network namespaces (root with CAP_SYS_ADMIN); else why not. */
function namespacesUsable(): true | string {
  try {
    ip('netns', 'add', `${TAG}-probe`);
    ip('netns', 'del', `${TAG}-probe`);
    return true;
  } catch (err) {
    return `cannot create network namespaces here (${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}); run as root`;
  }
}

/** A namespace `ns` with `addr`/24 on a veth whose other end is on the bridge (in BRIDGE_NS). */
function host(ns: string, addr: string, n: number): void {
  ip('netns', 'add', ns);
  ip('link', 'add', `${TAG}v${n}`, 'netns', ns, 'type', 'veth', 'peer', 'name', `${TAG}p${n}`, 'netns', BRIDGE_NS);
  ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', `${TAG}v${n}`);
  ip('-n', ns, 'link', 'set', `${TAG}v${n}`, 'up');
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', BRIDGE_NS, 'link', 'set', `${TAG}p${n}`, 'master', 'br0', 'up');
}

/** Remove every namespace this file made (their veths and the bridge go with them). */
function teardown(): void {
  for (const ns of [BRIDGE_NS, SERVER.ns, `${TAG}-probe`, ...SHARDS.map((s) => s.ns)]) {
    try { ip('netns', 'del', ns); } catch { /* not made */ }
  }
}

/** `pushbench serve` in the server's namespace; resolves with its URL once it listens. */
function serve(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn('ip', ['netns', 'exec', SERVER.ns, process.execPath, ...GENERATOR_V8_FLAGS, BIN, 'serve', '--host', SERVER.addr, '--port', '0', '--rate', String(RATE), '--topics', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /pushbench listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${out}`)));
  });
}

const usable = namespacesUsable();
const dir = mkdtempSync(join(tmpdir(), 'pushbench-netns-'));
const results = join(dir, 'results');
let server: { child: ChildProcess; url: string } | undefined;
let planFile = '';
let outcomes: ShardOutcome[] = [];

describe.skipIf(usable !== true)(`scale-out over network namespaces${usable === true ? '' : ` — skipped: ${usable}`}`, () => {
  beforeAll(async () => {
    teardown();
    try {
      ip('netns', 'add', BRIDGE_NS);
      ip('-n', BRIDGE_NS, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', BRIDGE_NS, 'link', 'set', 'br0', 'up');
      [SERVER, ...SHARDS].forEach((h, n) => host(h.ns, h.addr, n));
      server = await serve();
      const run: PlanRun = {
        transport: 'ws', workload: 'broadcast', clients: CLIENTS, durationMs: 2000, warmupMs: 500, ratePerS: RATE, payloadBytes: 64,
        topics: 1, pollIntervalMs: 0, longPollTimeoutMs: 30_000, arrivalRatePerS: 1000, target: server.url,
      };
      // 4 s ahead: the four commands start at once on two shared cores (0.7 s until each waits,
      // through `ip netns exec`), then probe the clock 2 s before the start (0.3 s of probes) and
      // load their worker threads in the 1.5 s setup lead. The 2 s before the probes are three
      // times that start: a busy VM's slower start must not push the probes into the other shards'
      // worker loading, where they read the clock's uncertainty too wide for the run's p50.
      const made = writePlan(dir, run, SHARDS.length, 4000);
      planFile = made.file;
      const startAtMs = Date.parse(made.plan.start.at);
      outcomes = await Promise.all(SHARDS.map((s, i) => runShardCli(planFile, ['--out', results, '--workers', '1'], {
        prefix: ['ip', 'netns', 'exec', s.ns],
        env: i === 0 ? { PUSHBENCH_SHARD: '0' } : { JOB_COMPLETION_INDEX: String(i) },
        // the lost pod: killed 1 s into the run, after its clients connected, before it wrote anything
        onSpawn: i === KILLED ? (pid) => void setTimeout(() => process.kill(pid, 'SIGKILL'), startAtMs + 1000 - Date.now()) : undefined,
      })));
    } catch (err) {
      teardown();
      throw err;
    }
  }, 45_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    if (server && server.child.exitCode === null) await new Promise((r) => server!.child.once('exit', r));
    teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three shards finish, each from its own host address; the killed one leaves no record', () => {
    expect(outcomes[KILLED].signal).toBe('SIGKILL');
    expect(readdirSync(results).sort()).toEqual([0, 1, 2].map((i) => `scale-test-shard-${i}.json`));
    for (const i of [0, 1, 2]) {
      expect(outcomes[i].status, outcomes[i].stderr).toBe(0);
      const r = outcomes[i].printed!;
      expect(r.shard).toMatchObject({ index: i, count: 4, clients: 10 });
      expect(r.invalidReasons.join('; ')).toBe('');
      expect(r.summary.lost).toBe(0);
      // namespaces share one CLOCK_MONOTONIC: the true offset is 0, within each estimate's uncertainty
      expect(Math.abs(r.shard!.clock!.offsetUs)).toBeLessThanOrEqual(r.shard!.clock!.uncertaintyUs + 1);
    }
  });

  it('merge names the missing shard (0-based) and exits 2', async () => {
    expect(await main(['merge', planFile, results, '-o', join(dir, 'refused')])).toBe(2);
    expect(readdirSync(dir)).not.toContain('refused');
  });

  it('--allow-partial: the sum of the three, percentiles of every sample together, 0 lost', async () => {
    const out = join(dir, 'merged');
    expect(await main(['merge', planFile, results, '-o', out, '--allow-partial'])).toBe(0);
    const m = readResultFile(join(out, 'scale-test.json'));
    const shards = [0, 1, 2].map((i) => readResultFile(join(results, `scale-test-shard-${i}.json`)));
    expect(m.shards?.missing).toEqual([KILLED]);
    expect(m.invalidReasons).toEqual([`partial: shard ${KILLED} of 4 missing (merged with --allow-partial)`]);
    expect(m.summary.delivered).toBe(shards.reduce((n, r) => n + r.summary.delivered, 0));
    expect(m.summary.lost).toBe(0);
    // 30 clients × 10 msg/s × the 1.5 s window, ± one message per client at each window edge
    expect(m.summary.delivered).toBeGreaterThanOrEqual(30 * RATE * 1.5 - 2 * 30);
    const all = createHistogram();
    for (const r of shards) all.add(decodeHistogram(r.histograms.deliveryUs));
    const union = percentiles(all);
    expect(percentiles(decodeHistogram(m.histograms.deliveryUs)).count).toBe(union.count);
    expect([m.summary.latencyUs.p50, m.summary.latencyUs.p99]).toEqual([union.p50, union.p99]);
    const p99s = shards.map((r) => r.summary.latencyUs.p99);
    if (new Set(p99s).size > 1) expect(m.summary.latencyUs.p99).not.toBe(p99s.reduce((a, b) => a + b, 0) / p99s.length);
  });
});
