/**
 * The injected CPU regression (servers/cpu-cost.ts): each spend() spins the given share of the CPU
 * the process used since the previous one, so CPU per unit of work rises by that share; and the
 * server refuses it where it would not measure what it claims (no publish rate, several processes).
 *
 * Runs alone: a CPU share between 0.27 and 0.34 of real work.
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
    const cost = new CpuCost(0.3);
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
    // The process CPU clock mostly steps by 1 µs but now and then jumps by up to ~3 ms here (the
    // kernel's utime/stime adjustment), so each spend may miss its share by one jump: 3 spends,
    // ±9 ms on 300 ms of work, ±0.03. A cost that also charged its own spins would owe
    // 0.3 × (work + the previous spin) from the second spend on, (30 + 39 + 39) / 300 = 0.36 of
    // the work: outside the band.
    expect(spentUs / workUs).toBeGreaterThan(0.27);
    expect(spentUs / workUs).toBeLessThan(0.34);
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
