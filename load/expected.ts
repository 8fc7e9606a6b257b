/**
 * Expected from the schedule: which seqs of a topic its publisher scheduled inside a window
 * (core/wire.ts PublishSchedule), whether a message sits where the schedule puts it, and what a
 * client that saw its topic's seqs firstSeq … lastSeq never got of the window's — the head before
 * the first it saw and the tail after the last (the gaps in between the recorder counts as lost).
 * Pure, but for forgetShortfall, which moves the clients' sequences on.
 */
import type { PublishSchedule } from '../core/wire.ts';

/** The scheduled time of seq `k` (from 1) of topic index `i`, µs. */
export function scheduledUs(s: PublishSchedule, i: number, k: number): number {
  return s.firstUs + ((k - 1) * s.topics + i) * s.stepUs;
}

/**
 * The seqs of topic `i` scheduled in [fromUs, toUs): first … last (last < first when none). A
 * message is judged by its scheduled time in whole µs, as its token or contract message carries it
 * and the recorder judges it; at the end also by its exact time, as a publisher that stops at
 * `toUs` judges whether to send it (a window and a timetable on one t0 put messages on its edges).
 */
export function windowSeqs(s: PublishSchedule, i: number, fromUs: number, toUs: number): { first: number; last: number } {
  // no window (a staircase's books after its last step) or an empty one
  if (!Number.isFinite(fromUs) || !Number.isFinite(toUs) || toUs <= fromUs) return { first: 1, last: 0 };
  const ts = (k: number) => Math.round(scheduledUs(s, i, k));
  const before = (k: number) => ts(k) < toUs && scheduledUs(s, i, k) < toUs;
  let first = Math.max(1, Math.ceil(((fromUs - s.firstUs) / s.stepUs - i) / s.topics) + 1);
  let last = Math.ceil(((toUs - s.firstUs) / s.stepUs - i) / s.topics);
  // the division's rounding may be one off either way at an edge
  while (first > 1 && ts(first - 1) >= fromUs) first--;
  while (ts(first) < fromUs) first++;
  while (last >= 1 && !before(last)) last--;
  while (before(last + 1)) last++;
  return { first, last };
}

/**
 * Whether message `seq` of topic `i` with timestamp `ts` is where the schedule puts it: within
 * half the topic's period (a publisher may stamp a message a little early or late; a seq off by
 * one is a whole period away). False means another publisher shares the topic, or the schedule
 * is another server's.
 */
export function onSchedule(s: PublishSchedule, i: number, seq: number, ts: number): boolean {
  return 2 * Math.abs(ts - scheduledUs(s, i, seq)) < s.topics * s.stepUs;
}

/**
 * Of the window's seqs first … last, those a client never saw: before `firstSeq` and after
 * `lastSeq`, the first and last seq it accepted (firstSeq 0: it saw none). `oldest` is the
 * earliest of them (0 when none).
 */
export function shortfall(first: number, last: number, firstSeq: number, lastSeq: number): { count: number; oldest: number } {
  if (last < first) return { count: 0, oldest: 0 };
  if (firstSeq === 0) return { count: last - first + 1, oldest: first };
  const head = Math.max(0, Math.min(firstSeq - 1, last) - first + 1);
  const tailFrom = Math.max(lastSeq, first - 1) + 1;
  const tail = Math.max(0, last - tailFrom + 1);
  return { count: head + tail, oldest: head > 0 ? first : tail > 0 ? tailFrom : 0 };
}

/** Whether `s` can say what clients should get: a positive step, at least `topics` topics. */
export function usableSchedule(s: PublishSchedule | null | undefined, topics: number): s is PublishSchedule {
  return s != null && Number.isFinite(s.firstUs) && Number.isFinite(s.stepUs) && s.stepUs > 0 && Number.isInteger(s.topics) && s.topics >= topics;
}

/** Where a client stands on its topic (load/client-books.ts ClientState). */
export interface OwingClient {
  topicIndex: number;
  startedUs: number;
  /** its first connection (0: never connected) */
  subscribedUs: number;
  firstSeq: number;
  lastSeq: number;
}

/**
 * What `c` never saw of the seqs its topic had scheduled in [fromUs, toUs) ({@link shortfall}),
 * and the last of them. A client owes what was scheduled from its first connection on (a message
 * published while it was still connecting had no subscriber to reach); one that never connected,
 * everything since its start.
 */
export function clientShortfall(s: PublishSchedule, c: OwingClient, fromUs: number, toUs: number): { count: number; oldest: number; last: number } {
  const w = windowSeqs(s, c.topicIndex, Math.max(fromUs, c.subscribedUs || c.startedUs), toUs);
  return { ...shortfall(w.first, w.last, c.firstSeq, c.lastSeq), last: w.last };
}

/**
 * Every client's shortfall over the window added up: how many seqs, and the scheduled time of the
 * oldest of them (Infinity: none).
 */
export function windowShortfall(s: PublishSchedule, clients: Iterable<OwingClient>, fromUs: number, toUs: number): { count: number; oldestUs: number } {
  let count = 0;
  let oldestUs = Infinity;
  for (const c of clients) {
    const miss = clientShortfall(s, c, fromUs, toUs);
    if (miss.count === 0) continue;
    count += miss.count;
    oldestUs = Math.min(oldestUs, scheduledUs(s, c.topicIndex, miss.oldest));
  }
  return { count, oldestUs };
}

/** Whether every client has every seq of the window and no gap of its (`missing`) may still fill. */
export function nothingOwed(s: PublishSchedule, clients: Iterable<OwingClient & { missing: ReadonlySet<number> | null }>, fromUs: number, toUs: number): boolean {
  for (const c of clients) {
    if (c.missing !== null && c.missing.size > 0) return false;
    if (clientShortfall(s, c, fromUs, toUs).count > 0) return false;
  }
  return true;
}

/**
 * Moves each client's sequence past the window's seqs it never got (counted undelivered as the
 * window closed), so the next window does not charge them again as a gap. Mutates `clients`.
 */
export function forgetShortfall(s: PublishSchedule, clients: Iterable<OwingClient>, fromUs: number, toUs: number): void {
  for (const c of clients) {
    if (c.firstSeq === 0) continue;
    const { last } = clientShortfall(s, c, fromUs, toUs);
    if (c.lastSeq < last) c.lastSeq = last;
  }
}
