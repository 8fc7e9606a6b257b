/**
 * The spread heartbeat the SSE and WebSocket transports use: every connection beats once per
 * period, but never all in the same tick (a 20,000-connection burst stalls both ends). Fake timers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SpreadHeartbeat } from '../../servers/heartbeat.ts';

describe('SpreadHeartbeat', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('beats each item once per period, a sixteenth of them per tick', () => {
    vi.useFakeTimers();
    const beats: [number, number][] = [];
    const hb = new SpreadHeartbeat<number>(1600, (i) => beats.push([Date.now(), i]));
    for (let i = 0; i < 1600; i++) hb.add(i);
    const t0 = Date.now();
    vi.advanceTimersByTime(1600);
    expect(beats).toHaveLength(1600);
    expect(new Set(beats.map(([, i]) => i)).size).toBe(1600);
    const perTick = new Map<number, number>();
    for (const [t] of beats) perTick.set(t, (perTick.get(t) ?? 0) + 1);
    expect([...perTick.values()]).toEqual(Array.from({ length: 16 }, () => 100));
    // the next period beats every item again, at the same phase
    vi.advanceTimersByTime(1600);
    expect(beats).toHaveLength(3200);
    expect(beats[1600]).toEqual([beats[0][0] + 1600, beats[0][1]]);
    expect(beats[0][0] - t0).toBe(100);
    hb.close();
  });

  it('stops beating a deleted item, and everything after close()', () => {
    vi.useFakeTimers();
    const beats: string[] = [];
    const hb = new SpreadHeartbeat<string>(160, (x) => beats.push(x));
    hb.add('a');
    hb.add('b');
    hb.delete('a');
    vi.advanceTimersByTime(160);
    expect(beats).toEqual(['b']);
    hb.close();
    hb.close();
    vi.advanceTimersByTime(1600);
    expect(beats).toEqual(['b']);
  });
});
