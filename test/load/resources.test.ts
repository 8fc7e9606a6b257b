/**
 * /proc readings the validity rules lean on: a CPU list, and the time a set of CPUs spent — checked
 * against a real busy child pinned with taskset, not against numbers typed in.
 *
 * Runs alone: a pinned busy child's CPU time read back from /proc.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuCount, cpuListNumbers, sampleCpus, sampleProcess } from '../../load/resources.ts';

describe('resources from /proc', () => {
  it('reads CPU lists as taskset writes them', () => {
    expect(cpuListNumbers('1')).toEqual([1]);
    expect(cpuListNumbers('0-3')).toEqual([0, 1, 2, 3]);
    expect(cpuListNumbers('0,2-3,5')).toEqual([0, 2, 3, 5]);
  });

  it('counts a pinned busy process on its CPU', () => {
    const last = cpuCount() - 1;
    const spinMs = 600;
    const before = sampleCpus(String(last));
    const all0 = sampleCpus(null);
    const child = spawnSync('taskset', ['-c', String(last), process.execPath, '-e', `const t = Date.now(); while (Date.now() - t < ${spinMs});`]);
    expect(child.status).toBe(0);
    const after = sampleCpus(String(last));
    const all1 = sampleCpus(null);
    expect(before).not.toBeNull();
    // the spin ran on that CPU for its wall time (10 ms ticks, the child's start-up on top), less
    // what the hypervisor took meanwhile
    expect(after!.busyUs - before!.busyUs + after!.stealUs - before!.stealUs).toBeGreaterThanOrEqual((spinMs - 100) * 1000);
    // every CPU together saw at least as much
    expect(all1!.busyUs - all0!.busyUs).toBeGreaterThanOrEqual(after!.busyUs - before!.busyUs);
  });

  it('sums the per-CPU lines to what the kernel\'s own total line says, field by field', () => {
    // /proc/stat's first line is the kernel's sum over every CPU: user nice system idle iowait irq softirq steal
    const total = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const all = sampleCpus(null)!;
    const tickUs = 10_000;
    // the two reads are a moment apart: allow a few ticks per CPU
    const slack = 5 * cpuCount() * tickUs;
    expect(Math.abs(all.busyUs - (total[0] + total[1] + total[2] + total[5] + total[6]) * tickUs)).toBeLessThanOrEqual(slack);
    expect(Math.abs(all.stealUs - total[7] * tickUs)).toBeLessThanOrEqual(slack);
  });

  it('reads this process', () => {
    const p = sampleProcess(process.pid);
    expect(p!.cpuUs).toBeGreaterThan(0);
    expect(p!.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(p!.fds).toBeNull();
    expect(sampleProcess(process.pid, { fds: true })!.fds).toBeGreaterThan(2);
  });
});
