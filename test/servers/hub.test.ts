/**
 * Runs alone: a publish rate held over elapsed time to 150 ms.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Hub, type HubMessage } from '../../servers/hub.ts';
import { EARLY_US, makePayload, Publisher } from '../../servers/publisher.ts';
import { nowUs } from '../../core/wire.ts';
import { sleep } from './helpers.ts';

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

function hub(ringSize = 10, delayMs = 0): Hub {
  const h = new Hub({ ringSize, delayMs, epoch: 'E1' });
  closers.push(() => h.close());
  return h;
}

describe('Hub', () => {
  it('numbers each topic from 1 and fans out to subscribers in order', () => {
    const h = hub();
    const got: HubMessage[] = [];
    const off = h.subscribe('a', { deliver: (m) => got.push(m) });
    expect([h.publish('a', 'x', 10), h.publish('b', 'y', 11), h.publish('a', 'z', 12)]).toEqual([1, 1, 2]);
    off();
    h.publish('a', 'after', 13);
    expect(got.map((m) => [m.seq, m.ts, m.topic, m.epoch, m.data])).toEqual([
      [1, 10, 'a', 'E1', 'x'],
      [2, 12, 'a', 'E1', 'z'],
    ]);
    expect(got[0].json).toBe('{"seq":1,"ts":10,"topic":"a","epoch":"E1","data":"x"}');
  });

  it('answers a cursor with the retained messages after it, a gap when they are gone, and caps the batch', () => {
    const h = hub(4);
    for (let i = 0; i < 10; i++) h.publish('a', `m${i + 1}`, i);
    const seqs = (r: { messages: HubMessage[] }) => r.messages.map((m) => m.seq);
    expect(h.since('a', undefined, undefined, 100)).toEqual({ messages: [], next: 10 });
    expect(seqs(h.since('a', 8, 'E1', 100))).toEqual([9, 10]);
    expect(h.since('a', 8, 'E1', 100).gap).toBeUndefined();
    const gone = h.since('a', 2, 'E1', 100);
    expect([seqs(gone), gone.gap, gone.next]).toEqual([[7, 8, 9, 10], { from: 3, to: 6 }, 10]);
    expect(seqs(h.since('a', 0, 'other', 100))).toEqual([7, 8, 9, 10]);
    expect(h.since('a', 0, 'other', 100).gap).toBeUndefined();
    const capped = h.since('a', 6, 'E1', 3);
    expect([seqs(capped), capped.next]).toEqual([[7, 8, 9], 9]);
    expect(h.since('a', 10, 'E1', 100)).toEqual({ messages: [], next: 10, gap: undefined });
  });

  it('memoizes a transport frame once per message', () => {
    const h = hub();
    let builds = 0;
    const key = Symbol('frame');
    const frames: string[] = [];
    for (let i = 0; i < 3; i++) h.subscribe('a', { deliver: (m) => frames.push(m.memo(key, (x) => (builds++, `F${x.seq}`))) });
    h.publish('a', 'x', 1);
    expect([frames, builds]).toEqual([['F1', 'F1', 'F1'], 1]);
  });

  it('holds every message delayMs before anyone sees it, keeping its ts', async () => {
    const h = hub(10, 80);
    const got: [number, number][] = [];
    h.subscribe('a', { deliver: (m) => got.push([m.seq, nowUs()]) });
    const t0 = nowUs();
    expect(h.publish('a', 'x', t0)).toBe(1);
    expect(h.since('a', 0, undefined, 10).messages).toEqual([]);
    await sleep(200);
    expect(got.map((g) => g[0])).toEqual([1]);
    expect(got[0][1] - t0).toBeGreaterThanOrEqual(79_000);
    expect(h.since('a', 0, undefined, 10).messages[0].ts).toBe(t0);
  });
});

describe('Publisher', () => {
  it('publishes ratePerS per topic over every topic, ts = scheduled time, from one timer, never a ts in the future', async () => {
    const h = hub(100);
    const p = new Publisher(h, { ratePerS: 20, payloadBytes: 7, topics: 500 });
    closers.push(() => p.stop());
    const got: HubMessage[] = [];
    let future = 0;
    for (let i = 0; i < 500; i++) {
      h.subscribe(`t${i}`, {
        deliver: (m) => {
          if (m.ts > nowUs()) future++;
          got.push(m);
        },
      });
    }
    const start = nowUs();
    p.start();
    await sleep(300);
    p.stop();
    const elapsedS = (nowUs() - start) / 1e6;
    // 500 topics × 20/s = 10,000 msg/s in total
    expect(got.length).toBeGreaterThan(10_000 * (elapsedS - 0.15));
    // a tick publishes what is due within EARLY_US of now: up to that much of the schedule ahead
    expect(got.length).toBeLessThanOrEqual(10_000 * (elapsedS + EARLY_US / 1e6) + 1);
    expect(got.every((m) => m.data === makePayload(7))).toBe(true);
    expect(future).toBe(0);
    // the schedule's period; a message whose timer fired early carries the (earlier) time it left
    const t7 = got.filter((m) => m.topic === 't7');
    for (let i = 1; i < t7.length; i++) expect(Math.abs(t7[i].ts - t7[i - 1].ts - 50_000)).toBeLessThanOrEqual(EARLY_US);
    expect(t7.map((m) => m.seq)).toEqual(t7.map((_, i) => i + 1));
  });

  it('charges a stalled loop for the stall: the owed messages keep their scheduled ts', async () => {
    const h = hub(1000);
    const p = new Publisher(h, { ratePerS: 100, payloadBytes: 1, topics: 1 });
    closers.push(() => p.stop());
    const got: HubMessage[] = [];
    h.subscribe('t0', { deliver: (m) => got.push(m) });
    p.start();
    const stallUntil = Date.now() + 150;
    while (Date.now() < stallUntil);
    const stallEndUs = nowUs();
    await sleep(30);
    p.stop();
    expect(got.length).toBeGreaterThanOrEqual(15);
    // the owed ones were all late, so each keeps its scheduled ts exactly
    const owed = got.filter((m) => m.ts < stallEndUs);
    expect(owed.length).toBeGreaterThanOrEqual(14);
    for (let i = 1; i < owed.length; i++) expect(Math.round(owed[i].ts - owed[i - 1].ts)).toBe(10_000);
  });
});
