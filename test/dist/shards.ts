/**
 * Helpers for the scale-out tests: a plan against a running server, and shards run as the engines
 * run them — the real `pushbench run --plan` command in a child process, its index from an
 * option or the environment, optionally inside a network namespace (`prefix`: `ip netns exec NS`).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATOR_V8_FLAGS } from '../../core/tsx.ts';
import type { ResultRecord } from '../../core/record.ts';
import { makePlan, type Plan, type PlanRun } from '../../dist/plan.ts';
import { BIN } from '../cli.ts';

/**
 * The hold of the reference server the shard tests run against, ms. A plan's clock bound is one
 * p50 (below); on a busy VM a /time probe's round trip grows faster than a loopback delivery
 * (2.6 ms against a 1.8 ms p50, three light files at once), and the hold keeps the p50 well above
 * it. What these files claim is the start, the merge and the offset, not a loopback latency.
 */
export const SHARD_TEST_SERVER_DELAY_MS = 10;

/**
 * A plan of `shards` shards of `run`, its first client due `leadMs` from now, written to
 * `dir`/`fileName`, at a start barrier of `barrier.timeoutMs` when given. Its clock bound is one p50: on one machine a delivery is one loopback (or veth)
 * trip through two event loops, and half a /time probe's round trip is the same trip, so the
 * offset's worst-case error (RTT / 2) is about a p50 by physics, not by a fault.
 */
export function writePlan(dir: string, run: PlanRun, shards: number, leadMs: number, toleranceMs = 1000, barrier?: { timeoutMs: number }, fileName = 'plan.json'): { plan: Plan; file: string } {
  const plan = makePlan({ name: 'scale-test', run, shards, start: { at: new Date(Date.now() + leadMs).toISOString(), toleranceMs, ...(barrier ? { barrier } : {}) }, clock: { maxUncertaintyShare: 1 } });
  const file = join(dir, fileName);
  writeFileSync(file, JSON.stringify(plan, null, 2));
  return { plan, file };
}

export interface ShardOutcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** the record printed as the last stdout line (null when the line is no JSON) */
  printed: ResultRecord | null;
}

/**
 * `pushbench run --plan <planFile> <args…>` as a child, with `env` added to this process's;
 * `prefix` runs it through another command (e.g. `ip netns exec ns0`). Killed after `timeoutMs`;
 * `onSpawn` gets the child (a test kills one on purpose).
 */
export function runShardCli(planFile: string, args: string[], opts: { env?: NodeJS.ProcessEnv; prefix?: string[]; timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<ShardOutcome> {
  const argv = [process.execPath, ...GENERATOR_V8_FLAGS, BIN, 'run', '--plan', planFile, ...args];
  const [cmd, ...rest] = [...(opts.prefix ?? []), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    opts.onSpawn?.(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const last = stdout.trimEnd().split('\n').at(-1) ?? '';
      let printed: ResultRecord | null = null;
      try { printed = JSON.parse(last) as ResultRecord; } catch { printed = null; }
      resolve({ status, signal, stdout, stderr, printed });
    });
  });
}
