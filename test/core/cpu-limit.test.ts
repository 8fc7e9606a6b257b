/**
 * core/cpu-limit.ts on this machine's real cgroup filesystem: a busy child put in a limit of a
 * quarter CPU gets no more than that, the quota reads back, and the cgroup is gone after remove()
 * with the child still running (moved to the parent). Needs a writable cpu cgroup (root here).
 *
 * Runs alone: its bound is the CPU share a spinning child gets.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CFS_PERIOD_US, CpuLimit, cpuLimitProblems } from '../../core/cpu-limit.ts';

const LIMIT = 0.25;
/** The child spins this long (wall), measuring its own CPU time over it. */
const SPIN_MS = 1000;

/** A node child that spins SPIN_MS once told to (a line on stdin), then prints its CPU ÷ wall and waits. */
function spinner() {
  const child = spawn(process.execPath, ['-e', `
    process.stdin.once('data', () => {
      const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
      while (process.hrtime.bigint() - t0 < ${SPIN_MS}n * 1000000n);
      const c = process.cpuUsage(c0), wallUs = Number(process.hrtime.bigint() - t0) / 1000;
      console.log((c.user + c.system) / wallUs);
    });
    setInterval(() => {}, 1000);`], { stdio: ['pipe', 'pipe', 'inherit'] });
  return child;
}

describe('CpuLimit', () => {
  it('holds a spinning child to its quota, reads it back and removes the cgroup', async () => {
    const limit = CpuLimit.create(LIMIT);
    const child = spinner();
    try {
      limit.add(child.pid!);
      expect(limit.pids()).toEqual([child.pid]);
      expect(limit.appliedFraction()).toBeCloseTo(LIMIT, 6);
      child.stdin.write('go\n');
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const share = Number(line.toString());
      // CFS refills the quota every period: a window not aligned with the periods can take one
      // period's quota more at each edge (2 × 25 ms over 1 s). Alone, the child gets about its
      // quota; below 0.15 it did not spin at all.
      expect(share).toBeLessThanOrEqual(LIMIT + (2 * LIMIT * CFS_PERIOD_US) / 1000 / SPIN_MS);
      expect(share).toBeGreaterThan(0.15);
      expect(limit.throttledPeriods()).toBeGreaterThan(0);
      limit.remove();
      expect(existsSync(limit.path)).toBe(false);
      expect(child.exitCode).toBeNull(); // moved to the parent cgroup, still running
      limit.remove(); // idempotent
    } finally {
      child.kill('SIGKILL');
      limit.remove();
    }
  }, 10_000);

  it('says why a limit cannot be had, every problem at once', () => {
    const empty = mkdtempSync(join(tmpdir(), 'pushbench-nocgroup-'));
    const problems = cpuLimitProblems('--server-cpu-limit', 3, 1, empty);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/more than the 1 CPU/);
    expect(problems[1]).toMatch(/no writable cgroup with a cpu controller/);
    expect(cpuLimitProblems('--server-cpu-limit', 0.001, 1)).toEqual(['--server-cpu-limit must be at least 0.01 (1 ms of CPU per 100 ms period)']);
    expect(cpuLimitProblems('--server-cpu-limit', LIMIT, 1)).toEqual([]);
  });
});
