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
  it('plans repeats × cells × transports, every cell once per repeat', () => {
    const plan = rankPlan(['ws', 'sse', 'long-poll', 'short-poll'], 3, ['loopback', 'wan']);
    expect(plan).toHaveLength(24);
    expect(plan.slice(0, 4).map((p) => p.item)).toEqual(['ws', 'sse', 'short-poll', 'long-poll']);
    expect(plan.filter((p) => p.cell === 'wan' && p.item === 'ws')).toHaveLength(3);
    for (let r = 0; r < 3; r++) expect(plan.filter((p) => p.repeat === r).map((p) => p.cell).sort()).toEqual(['loopback', 'loopback', 'loopback', 'loopback', 'wan', 'wan', 'wan', 'wan']);
  });
  it('moves each cell through the positions of a repeat, so no cell always runs first', () => {
    const cells = ['a', 'b', 'c', 'd'];
    const plan = rankPlan(['x'], 4, cells);
    const firstOfRepeat = [0, 1, 2, 3].map((r) => plan.filter((p) => p.repeat === r)[0].cell);
    expect(new Set(firstOfRepeat).size).toBe(4);
  });
});
