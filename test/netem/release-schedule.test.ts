import { describe, expect, it } from 'vitest';
import { ReleaseSchedule } from '../../netem/release-schedule.ts';
import { nowUs } from '../../core/wire.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('release schedule', () => {
  it('releases in due order whatever the order of adding, never more than ~1 ms early', async () => {
    const released: { name: string; dueUs: number; atUs: number }[] = [];
    const schedule = new ReleaseSchedule<{ name: string; dueUs: number }>((item, now) => released.push({ ...item, atUs: now }));
    const t0 = nowUs();
    // the later item arms the timer first; the earlier ones must re-arm it
    for (const [name, ms] of [['c', 30], ['a', 10], ['b', 20], ['b2', 20]] as const) schedule.add({ name, dueUs: t0 + ms * 1000 }, t0 + ms * 1000);
    expect(schedule.size).toBe(4);
    await sleep(60);
    expect(released.map((r) => r.name)).toEqual(['a', 'b', 'b2', 'c']);
    for (const r of released) {
      // the millisecond-grained timer may fire up to ~1 ms early by design; lateness is the
      // machine's (a shared CPU can delay a callback by tens of ms), so only early is bounded here
      expect(r.atUs).toBeGreaterThanOrEqual(r.dueUs - 1100);
    }
    expect(schedule.size).toBe(0);
    schedule.close();
  });

  it('an item added with its predecessor\'s key as notBeforeKey leaves after it, even when due earlier', async () => {
    // the proxy passes each chunk's predecessor's key: the learned wake-up lateness moving between
    // two adds must not put the later chunk in an earlier bucket
    const released: string[] = [];
    const schedule = new ReleaseSchedule<string>((item) => released.push(item));
    const t0 = nowUs();
    const keyA = schedule.add('a', t0 + 10_000);
    const keyB = schedule.add('b', t0 + 5000, keyA);
    expect(keyB).toBe(keyA);
    // without the floor the same due time takes the earlier bucket
    const keyC = schedule.add('c', t0 + 5000);
    expect(keyC).toBeLessThan(keyA);
    await sleep(40);
    expect(released).toEqual(['c', 'a', 'b']);
    schedule.close();
  });

  it('holds everything until the hold ends, then releases it in order; close drops the rest', async () => {
    const released: number[] = [];
    const hold = { untilUs: 0 };
    const schedule = new ReleaseSchedule<number>((n, now) => released.push(now >= hold.untilUs - 1100 ? n : -n), hold);
    const t0 = nowUs();
    schedule.add(1, t0 + 5000);
    schedule.add(2, t0 + 10_000);
    hold.untilUs = t0 + 40_000;
    schedule.rearm();
    await sleep(25);
    expect(released).toEqual([]);
    // the hold ends at 40 ms; 80 ms more leaves room for a callback delayed by a busy machine
    await sleep(80);
    expect(released).toEqual([1, 2]);
    schedule.add(3, nowUs() + 20_000);
    schedule.close();
    schedule.close();
    await sleep(40);
    expect(released).toEqual([1, 2]);
  });
});
