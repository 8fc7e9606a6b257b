/**
 * The injected CPU regression (servers/cpu-cost.ts): each spend() spins the given share of the CPU
 * the process used since the previous one, so CPU per unit of work rises by that share; and the
 * server refuses it where it would not measure what it claims (no publish rate, several processes).
 *
 * Runs alone: a CPU share measured against real work.
 */
import { describe, expect, it } from 'vitest';
import { CpuCost } from '../../servers/cpu-cost.ts';
import { DEFAULT_SERVER_OPTIONS, validateServerOptions } from '../../servers/options.ts';

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Busy work for about `us` of CPU. */
function work(us: number): void {
  const start = cpuUs();
  let x = 0;
  while (cpuUs() - start < us) x += Math.sqrt(x + 1);
}

describe('CpuCost', () => {
  it('spins the share of the CPU used since the last spend, not counting its own spins', () => {
    const cost = new CpuCost(0.5);
    let workUs = 0;
    let spentUs = 0;
    for (let i = 0; i < 3; i++) {
      const a = cpuUs();
      work(100_000);
      const b = cpuUs();
      cost.spend();
      workUs += b - a;
      spentUs += cpuUs() - b;
    }
    // Right, the spins are 0.5 of the work: 150 ms on 300 ms. A cost that also charged its own
    // spins would owe 0.5 × (work + the previous spin) from the second spend on, (50 + 75 + 87.5) /
    // 300 = 0.71 of the work. The bounds sit halfway to that and, below, halfway to no spin: the
    // process CPU clock now and then jumps by a few ms (the kernel's utime/stime adjustment; +13 ms
    // over three spends seen on a CI VM), far inside either half-gap (±30 ms).
    expect(spentUs / workUs).toBeGreaterThan(0.25);
    expect(spentUs / workUs).toBeLessThan(0.6);
  });

  it('share 0 spends nothing measurable', () => {
    const cost = new CpuCost(0);
    work(5_000);
    const a = cpuUs();
    cost.spend();
    expect(cpuUs() - a).toBeLessThan(2_000);
  });

  it('the server refuses it without a publish rate or with several processes', () => {
    const problems = validateServerOptions({ ...DEFAULT_SERVER_OPTIONS, cpuCost: 0.3, ratePerS: 0, processes: 2 });
    expect(problems.join('\n')).toMatch(/cpuCost .* needs a publish rate above 0/);
    expect(problems.join('\n')).toMatch(/cpuCost needs one server process/);
    expect(validateServerOptions({ ...DEFAULT_SERVER_OPTIONS, cpuCost: 0.3, ratePerS: 5 })).toEqual([]);
  });
});
