/** Merging the `socketio` parts of records taken in parallel (a multi-process generator). */
import { describe, expect, it } from 'vitest';
import { mergeSocketio, type SocketioFigures } from '../../core/record.ts';

const part = (over: Partial<SocketioFigures>): SocketioFigures => ({
  namespace: '/chat', event: 'news', sessions: 10, heartbeats: 40, upgrades: 10, upgradeFailures: 0, upgradeShare: 1,
  upgradeMs: { p50: 50, p99: 90, max: 100 }, recovered: 2, notRecovered: 0, lossByClient: { clients: 0, lost: [] }, ...over,
});

describe('mergeSocketio', () => {
  it('is undefined when no record has Socket.IO figures', () => {
    expect(mergeSocketio([{ figures: undefined, clients: 5 }])).toBeUndefined();
  });

  it('adds counts, weights the upgrade share by clients, keeps the worst upgrade times and lists every loss', () => {
    const m = mergeSocketio([
      { figures: part({}), clients: 10 },
      { figures: part({ sessions: 30, upgrades: 15, upgradeShare: 0.5, upgradeMs: { p50: 70, p99: 80, max: 120 }, notRecovered: 3, lossByClient: { clients: 2, lost: [1, 4] } }), clients: 30 },
    ])!;
    expect(m).toMatchObject({ namespace: '/chat', event: 'news', sessions: 40, heartbeats: 80, upgrades: 25, recovered: 4, notRecovered: 3 });
    // (1 × 10 + 0.5 × 30) / 40 clients
    expect(m.upgradeShare).toBeCloseTo(0.625, 10);
    expect(m.upgradeMs).toEqual({ p50: 70, p99: 90, max: 120 });
    expect(m.lossByClient).toEqual({ clients: 2, lost: [4, 1] });
  });

  it('has no upgrade time when no part upgraded', () => {
    expect(mergeSocketio([{ figures: part({ upgrades: 0, upgradeShare: 0, upgradeMs: null }), clients: 3 }])!.upgradeMs).toBeNull();
  });
});
