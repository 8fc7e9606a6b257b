/**
 * bench:gate's arithmetic on synthetic sets (no runs): every ordered pair of identical sets
 * compared, every injected set against every identical one, paired by step name as `ab` pairs
 * them, and the rates as printed.
 */
import { describe, expect, it } from 'vitest';
import { formatRates, gateFigures, type GateSet, type SetKind } from '../../bench/gate-analysis.ts';
import { repeat } from '../gate/helpers.ts';

/** A set of ws runs named by step, as bench:gate writes them; p50 per repeat scaled by `factor`. */
function set(label: string, kind: SetKind, factor: number, cpuFactor = 1): GateSet {
  const p50 = [1000, 1040, 980, 1010, 995];
  const cpu = [15, 15.6, 14.8, 15.3, 15.1];
  return { label, kind, records: p50.map((v, i) => repeat({ transport: 'ws', name: `ws-loopback-p${i + 1}` }, { p50Us: v * factor * (1 + 0.01 * ((i * 7) % 3)), cpuUs: cpu[i] * cpuFactor })) };
}

describe('bench:gate analysis', () => {
  const sets = [set('aa-1', 'aa', 1), set('aa-2', 'aa', 1.01), set('aa-3', 'aa', 0.99), set('delay-1', 'delay', 3), set('cpu-1', 'cpu', 1, 1.3)];

  it('compares every ordered pair of identical sets and each injected set against each identical one', () => {
    const f = gateFigures(sets, { paired: true });
    expect(f.aa.map((x) => `${x.baseline}→${x.current}`)).toEqual(['aa-1→aa-2', 'aa-1→aa-3', 'aa-2→aa-1', 'aa-2→aa-3', 'aa-3→aa-1', 'aa-3→aa-2']);
    expect(f.aa.every((x) => x.exit === 0)).toBe(true);
    expect(f.injected.delay.map((x) => x.exit)).toEqual([1, 1, 1]);
    expect(f.injected.delay[0].flagged).toContain('ws p50');
    expect(f.injected.cpu.map((x) => x.flagged)).toEqual([['ws cpu'], ['ws cpu'], ['ws cpu']]);
    // the comparison is the paired one, as ab's (these sets differ by one factor per pair: exact)
    expect(f.aa[0].result!.groups[0].metrics[0]).toMatchObject({ paired: true, n: { baseline: 5, current: 5 } });
  });

  it('prints the false-alarm and detection rates with their counts', () => {
    const lines = formatRates(gateFigures(sets, { paired: true }), { delay: 'server --delay 10 ms', cpu: 'server CPU +30 %' });
    expect(lines[0]).toBe('- **A/A false alarms: 0/6 (0 %)** of ordered comparisons of sets of identical code exit non-zero');
    expect(lines).toContain('- **server --delay 10 ms: detected (exit 1) in 3/3 (100 %)**; on p50 or p99 in 3/3 (100 %)');
    expect(lines).toContain('- **server CPU +30 %: detected (exit 1) in 3/3 (100 %)**; on cpu in 3/3 (100 %)');
  });
});
