import { describe, expect, it } from 'vitest';
import { rankPlan, williamsOrder } from '../../load/rank-plan.ts';

describe('rank order', () => {
  it('puts every transport once in every position over 4 repeats', () => {
    const sq = williamsOrder(4);
    expect(sq).toHaveLength(4);
    for (let pos = 0; pos < 4; pos++) expect(new Set(sq.map((row) => row[pos])).size).toBe(4);
    for (const row of sq) expect([...row].sort()).toEqual([0, 1, 2, 3]);
  });
  it('lets every transport follow every other exactly once (carry-over balance)', () => {
    const pairs = new Set<string>();
    for (const row of williamsOrder(4)) for (let i = 1; i < 4; i++) pairs.add(`${row[i - 1]}>${row[i]}`);
    expect(pairs.size).toBe(12);
  });
  it('plans networks × repeats × transports', () => {
    const plan = rankPlan(['ws', 'sse', 'long-poll', 'short-poll'], 3, ['loopback', 'wan']);
    expect(plan).toHaveLength(24);
    expect(plan.slice(0, 4).map((p) => p.item)).toEqual(['ws', 'sse', 'short-poll', 'long-poll']);
    expect(plan.filter((p) => p.network === 'wan' && p.item === 'ws')).toHaveLength(3);
  });
});
