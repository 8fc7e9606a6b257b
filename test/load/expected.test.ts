/**
 * Expected from the schedule (load/expected.ts) and what the recorder makes of it: which seqs a
 * timetable puts in a window, what a client never got of them (undelivered: the head before the
 * first it saw, the tail after the last), the backlog's age, and the fall-back to the seqs seen
 * when a message contradicts the timetable. Made-up messages, no run.
 */
import { describe, expect, it } from 'vitest';
import { onSchedule, scheduledUs, shortfall, usableSchedule, windowSeqs } from '../../load/expected.ts';
import { Recorder } from '../../load/recorder.ts';
import type { PublishSchedule, WireMessage } from '../../core/wire.ts';

const S = 1e6;
/** 2 topics at 5 msg/s each: message g at 1 s + g × 100 ms on topic g mod 2; topic i's seq k at 1 s + ((k−1)·2 + i) × 100 ms */
const T: PublishSchedule = { firstUs: 1 * S, stepUs: 0.1 * S, topics: 2 };
const at = (i: number, k: number) => scheduledUs(T, i, k);
const msg = (i: number, seq: number): WireMessage => ({ seq, ts: at(i, seq), topic: `t${i}`, epoch: 'run1', data: 'xxxx' });

describe('the timetable', () => {
  it('puts topic i\'s seq k at its interleaved place, and finds a window\'s seqs exactly at its edges', () => {
    expect(at(0, 1)).toBe(1 * S);
    expect(at(1, 1)).toBe(1.1 * S);
    expect(at(0, 3)).toBe(1.4 * S);
    // [2 s, 3 s): topic 0 at 2.0, 2.2, …, 2.8 (seqs 6…10); topic 1 at 2.1 … 2.9 (seqs 6…10)
    expect(windowSeqs(T, 0, 2 * S, 3 * S)).toEqual({ first: 6, last: 10 });
    expect(windowSeqs(T, 1, 2 * S, 3 * S)).toEqual({ first: 6, last: 10 });
    // an edge one µs past a message moves it out (from) or in (to)
    expect(windowSeqs(T, 0, 2 * S + 1, 3 * S + 1)).toEqual({ first: 7, last: 11 });
    // before the first message: from seq 1; a window before it holds none
    expect(windowSeqs(T, 0, 0, 1.3 * S)).toEqual({ first: 1, last: 2 });
    const none = windowSeqs(T, 1, 0, 0.5 * S);
    expect(none.last).toBeLessThan(none.first);
    // no window at all (a staircase's books after its last step), or an empty one
    expect(windowSeqs(T, 0, Infinity, Infinity)).toEqual({ first: 1, last: 0 });
    expect(windowSeqs(T, 0, 3 * S, 2 * S)).toEqual({ first: 1, last: 0 });
  });

  it('judges an edge as the recorder and the publisher do: the µs a token carries, and at the end the exact time', () => {
    // messages at 1 s + 0.3 µs + k × 100 ms; tokens carry them rounded down to 1.0 s, 1.1 s, …
    const F: PublishSchedule = { firstUs: 1 * S + 0.3, stepUs: 0.1 * S, topics: 1 };
    // from 1.2 s + 0.3: the token 1.2 s is before it (as the recorder judges it); to 1.5 s + 0.3: the
    // message exactly there is never sent (a publisher stops at the window's end), its token 1.5 s notwithstanding
    expect(windowSeqs(F, 0, 1.2 * S + 0.3, 1.5 * S + 0.3)).toEqual({ first: 4, last: 5 });
  });

  it('knows a message off the schedule: a seq one period away, not a stamp a little early', () => {
    expect(onSchedule(T, 0, 3, at(0, 3) - 500)).toBe(true);
    expect(onSchedule(T, 0, 3, at(0, 4))).toBe(false);
    expect(onSchedule(T, 1, 3, at(1, 3) - 0.099 * S)).toBe(true); // less than half of the topic's 200 ms period off
    expect(onSchedule(T, 1, 3, at(0, 3))).toBe(false); // topic 0's seq 3: half a period off
    expect(onSchedule(T, 1, 3, at(1, 3) + 0.1 * S + 1)).toBe(false);
  });

  it('is usable with a positive step and enough topics', () => {
    expect(usableSchedule(T, 2)).toBe(true);
    expect(usableSchedule(T, 3)).toBe(false);
    expect(usableSchedule(null, 1)).toBe(false);
    expect(usableSchedule({ ...T, stepUs: 0 }, 1)).toBe(false);
  });
});

describe('shortfall: what a client never saw of a window\'s seqs 6…10', () => {
  it.each([
    ['saw them all (and more around them)', 3, 12, 0, 0],
    ['nothing at all', 0, 0, 5, 6],
    ['fell behind: the last it saw was 8', 3, 8, 2, 9],
    ['started late: the first it saw was 8', 8, 12, 2, 6],
    ['both ends', 7, 9, 2, 6],
    ['saw only seqs after the window', 11, 14, 5, 6],
    ['saw only seqs before it', 1, 4, 5, 6],
  ])('%s', (_what, firstSeq, lastSeq, count, oldest) => {
    expect(shortfall(6, 10, firstSeq, lastSeq)).toEqual({ count, oldest });
  });

  it('an empty window owes nothing', () => {
    expect(shortfall(6, 5, 0, 0)).toEqual({ count: 0, oldest: 0 });
  });
});

describe('the recorder with a timetable', () => {
  const books = () => new Recorder({ fromUs: 2 * S, toUs: 3 * S, topicRatePerS: 5, schedule: { timetable: T, topicIndex: (id) => id % 2 } });

  it('counts what never arrived as undelivered, in expected, with the oldest one\'s age at the close', () => {
    const r = books();
    const behind = r.forClient(0, 0); // topic 0: gets seqs 1…8 of the window's 6…10
    for (let k = 1; k <= 8; k++) behind.message(msg(0, k), at(0, k) + 1000);
    const gap = r.forClient(1, 0); // topic 1: all of 1…12 but seq 7 (a gap, so lost)
    for (let k = 1; k <= 12; k++) if (k !== 7) gap.message(msg(1, k), at(1, k) + 1000);
    const never = r.forClient(2, 0); // topic 0: nothing at all
    const late = r.forClient(3, 2.3 * S); // topic 1, started at 2.3 s: owes seqs from 2.3 s (7…10); saw 9…10
    for (let k = 9; k <= 10; k++) late.message(msg(1, k), at(1, k) + 1000);
    expect(never).toBeDefined();
    const { counters, backlogAgeMs } = r.finish(2 * S, 3.5 * S);
    expect(counters.delivered).toBe(3 + 4 + 2);
    expect(counters.lost).toBe(1);
    expect(counters.undelivered).toBe(2 + 0 + 5 + 2);
    expect(counters.expected).toBe(5 + 5 + 5 + 4);
    expect(counters.expected).toBe(counters.delivered + counters.lost + counters.undelivered!);
    // no silence charge on top: the tails are undelivered, not lost
    expect(counters.errors.STALLED).toBeUndefined();
    // the oldest: the silent client's seq 6 of topic 0, scheduled at 2.0 s, 1.5 s before the close
    expect(backlogAgeMs).toBeCloseTo(1500, 6);
  });

  it('has no backlog when every client got the window\'s messages', () => {
    const r = books();
    for (const id of [0, 1]) {
      const ev = r.forClient(id, 0);
      for (let k = 1; k <= 11; k++) ev.message(msg(id, k), at(id, k) + 1000);
    }
    expect(r.finish(2 * S, 3.5 * S)).toMatchObject({ counters: { undelivered: 0, expected: 10, delivered: 10 }, backlogAgeMs: null });
  });

  it('falls back to the seqs seen when a first message is off the timetable (another publisher on the topic)', () => {
    const r = books();
    const ev = r.forClient(0, 0);
    // seq 4 stamped where seq 9 belongs: this topic's seqs are not the timetable's
    ev.message({ ...msg(0, 9), seq: 4 }, at(0, 9) + 1000);
    const figures = r.finish(0.1 * S, 3.5 * S);
    expect(r.offSchedule).toBe(1);
    expect(figures.counters.undelivered).toBeUndefined();
    expect(figures.backlogAgeMs).toBeUndefined();
    // the old rule: silent since 2.8 s at 5 msg/s is charged as lost (and STALLED)
    expect(figures.counters.errors.STALLED).toBe(1);
  });

  it('a staircase: each step\'s window owes its own seqs; the books after the last step owe nothing', () => {
    const r = books();
    const ev = r.forClient(0, 0);
    for (let k = 1; k <= 8; k++) ev.message(msg(0, k), at(0, k) + 1000);
    // step 1 [2 s, 3 s) owes seqs 6…10 and got 6…8; step 2 [3 s, 4 s) owes 11…15 and gets 11…16
    const step1 = r.nextWindow(2 * S, { fromUs: 3 * S, toUs: 4 * S }, 3.5 * S);
    expect(step1.counters).toMatchObject({ delivered: 3, undelivered: 2, expected: 5 });
    ev.message(msg(0, 9), 3.6 * S); // one of step 1's, late: before step 2's window, counted nowhere
    for (let k = 11; k <= 16; k++) ev.message(msg(0, k), at(0, k) + 1000);
    const step2 = r.nextWindow(2 * S, { fromUs: Infinity, toUs: Infinity }, 4.5 * S);
    // 9…10 were step 1's undelivered: not charged again as a gap in step 2
    expect(step2.counters).toMatchObject({ delivered: 5, lost: 0, duplicates: 0, outOfOrder: 0, undelivered: 0, expected: 5 });
    expect(r.finish(2 * S, 5 * S).counters).toMatchObject({ expected: 0, undelivered: 0 });
  });

  it('counts another run\'s messages apart, in no other counter', () => {
    const r = books();
    const ev = r.forClient(0, 0);
    ev.foreign?.(3);
    for (let k = 1; k <= 11; k++) ev.message(msg(0, k), at(0, k) + 1000);
    ev.foreign?.(2);
    const { counters } = r.finish(2 * S, 3.5 * S);
    expect(counters.foreign).toBe(5);
    expect(counters).toMatchObject({ delivered: 5, expected: 5, lost: 0, duplicates: 0, undelivered: 0 });
  });
});
