import { describe, expect, it } from 'vitest';
import { Recorder } from '../../load/recorder.ts';
import { createHistogram, decodeHistogram, encodeHistogram, percentiles } from '../../core/histogram.ts';
import { encodeMessage, nowUs, type WireMessage } from '../../core/wire.ts';
import { contractView, readContract } from '../../load/drivers/fast-decode.ts';

const S = 1e6;
const msg = (seq: number, ts: number, epoch = 'e1'): WireMessage => ({ seq, ts, topic: 't0', epoch, data: 'xxxx' });

describe('Recorder', () => {
  it('records in-window deliveries with latency from the scheduled ts', () => {
    const r = new Recorder({ fromUs: 10 * S, toUs: 20 * S, topicRatePerS: 0 });
    const ev = r.forClient(0, 0);
    ev.message(msg(1, 9 * S), 9 * S + 500); // before the window: sequence state only
    for (let i = 2; i <= 11; i++) ev.message(msg(i, (8 + i) * S), (8 + i) * S + 2000);
    ev.message(msg(12, 20 * S), 20 * S + 10); // after the window
    const { counters, histograms } = r.finish(2 * S);
    expect(counters.delivered).toBe(10);
    expect(counters.expected).toBe(10);
    expect(counters.lost).toBe(0);
    expect(counters.payloadBytesDelivered).toBe(40);
    const p = percentiles(decodeHistogram(histograms.deliveryUs));
    expect(p.count).toBe(10);
    expect(p.p50).toBeGreaterThanOrEqual(1999);
    expect(p.p50).toBeLessThanOrEqual(2002);
  });

  it('owes a client only what was scheduled from its first connection on (undelivered from the timetable)', () => {
    // one topic, a message every 100 ms since t0, half a second ago; the window is [t0, t0 + 1 s)
    const t0 = Math.round(nowUs() - 0.5 * S); // on a whole µs, as a run's t0 is
    const timetable = { firstUs: t0, stepUs: 0.1 * S, topics: 1 };
    const r = new Recorder({ fromUs: t0, toUs: t0 + S, topicRatePerS: 10, schedule: { timetable, topicIndex: () => 0 } });
    // started at t0 but connected only now (~t0 + 500 ms): seqs 1–6 (t0 … t0 + 500 ms) had no
    // subscriber to reach; it gets 7–10
    const late = r.forClient(0, t0);
    late.connected(1000);
    for (let seq = 7; seq <= 10; seq++) late.message(msg(seq, t0 + (seq - 1) * 0.1 * S), t0 + (seq - 1) * 0.1 * S + 500);
    // never connected: owes all ten
    r.forClient(1, t0);
    const { counters } = r.finish(10 * S, t0 + 1.5 * S);
    expect(counters.delivered).toBe(4);
    expect(counters.undelivered).toBe(10);
    expect(counters.expected).toBe(14);
  });

  it('owes nothing once every client has every message the timetable put in the window, and no gap is open', () => {
    // the window [t0, t0 + 1 s) a second from now; the client connects now, so it owes seqs 1–10
    const t0 = Math.round(nowUs() + S); // on a whole µs, as a run's t0 is
    const timetable = { firstUs: t0, stepUs: 0.1 * S, topics: 1 };
    const r = new Recorder({ fromUs: t0, toUs: t0 + S, topicRatePerS: 10, schedule: { timetable, topicIndex: () => 0 } });
    const ev = r.forClient(0, nowUs());
    ev.connected(1000);
    const deliver = (seqs: number[]) => { for (const q of seqs) ev.message(msg(q, t0 + (q - 1) * 0.1 * S), t0 + (q - 1) * 0.1 * S + 500); };
    expect(r.owesNothing()).toBe(false);
    deliver([1, 2, 3, 5, 6, 7, 8, 9]);
    expect(r.owesNothing()).toBe(false); // 4 is a gap that may still fill, 10 has not come
    deliver([10]);
    expect(r.owesNothing()).toBe(false); // the gap is still open
    deliver([4]);
    expect(r.owesNothing()).toBe(true);
    // a long poll's last request of the window is answered by seq 11, the first after it
    expect(r.owesNothing(true)).toBe(false);
    deliver([11]);
    expect(r.owesNothing(true)).toBe(true);
  });

  it('books a message read in place (messageView) exactly as the same message parsed', () => {
    const books = (inPlace: boolean) => {
      const r = new Recorder({ fromUs: 10 * S, toUs: 20 * S, topicRatePerS: 0 });
      const ev = r.forClient(0, 0);
      // in window, a gap (seq 5 missing), a duplicate, a reset to a new epoch, one after the window
      const seqs: [number, number, string][] = [[1, 9], [2, 11], [3, 12], [4, 13], [6, 15], [6, 15], [1, 16], [2, 17], [3, 21]].map(([q, t], i) => [q!, t!, i < 6 ? 'e1' : 'e2']);
      for (const [seq, tsS, epoch] of seqs) {
        const m = { ...msg(seq, tsS * S, epoch), data: 'x'.repeat(seq) };
        if (!inPlace) ev.message(m, tsS * S + 700);
        else {
          expect(readContract(Buffer.from(encodeMessage(m)), {})).toBe(true);
          ev.messageView(contractView, tsS * S + 700);
        }
      }
      const { counters, histograms } = r.finish(2 * S);
      return { counters, delivery: percentiles(decodeHistogram(histograms.deliveryUs)) };
    };
    const parsed = books(false);
    expect(parsed.counters).toMatchObject({ delivered: 6, lost: 1, duplicates: 1, resets: 1 });
    expect(books(true)).toEqual(parsed);
  });

  it('accounts messages that name their source per source (profile chat: each sender numbers its own)', () => {
    const r = new Recorder({ fromUs: 0, toUs: 100 * S, topicRatePerS: 0 });
    const ev = r.forClient(0, 0);
    const from = (source: string, seq: number, ts: number): WireMessage => ({ ...msg(seq, ts), source });
    // two senders interleaved, each from its own seq 1: neither duplicates nor gaps
    ev.message(from('3', 1, 1 * S), 1 * S);
    ev.message(from('8', 1, 1.5 * S), 1.5 * S);
    ev.message(from('3', 2, 2 * S), 2 * S);
    ev.message(from('8', 2, 2.5 * S), 2.5 * S);
    // sender 3 skips its seq 3: one lost; its seq 4 again: one duplicate; sender 8 unaffected
    ev.message(from('3', 4, 4 * S), 4 * S);
    ev.message(from('8', 3, 4.5 * S), 4.5 * S);
    ev.message(from('3', 4, 4 * S), 4.6 * S);
    const c = r.finish(1000 * S).counters;
    expect(c.lost).toBe(1);
    expect(c.duplicates).toBe(1);
    expect(c.outOfOrder).toBe(0);
    expect(c.delivered).toBe(6);
    expect(c.expected).toBe(7);
  });

  it('counts gaps as lost, late arrivals as out of order, repeats as duplicates', () => {
    const r = new Recorder({ fromUs: 0, toUs: 100 * S, topicRatePerS: 0 });
    const ev = r.forClient(0, 0);
    ev.message(msg(1, 1 * S), 1 * S);
    ev.message(msg(4, 4 * S), 4 * S); // 2 and 3 missing
    ev.message(msg(2, 2 * S), 4.1 * S); // 2 arrives late
    ev.message(msg(4, 4 * S), 4.2 * S); // 4 again
    ev.message(msg(5, 5 * S), 5 * S);
    const c = r.finish(1000 * S).counters;
    expect(c.lost).toBe(1);
    expect(c.outOfOrder).toBe(1);
    expect(c.duplicates).toBe(1);
    expect(c.delivered).toBe(4);
    expect(c.expected).toBe(5);
  });

  it('reports an epoch change as a reset, not as loss', () => {
    const r = new Recorder({ fromUs: 0, toUs: 100 * S, topicRatePerS: 0 });
    const ev = r.forClient(0, 0);
    ev.message(msg(40, 1 * S), 1 * S);
    ev.message(msg(41, 2 * S), 2 * S);
    ev.message(msg(1, 3 * S, 'e2'), 3 * S);
    ev.message(msg(2, 4 * S, 'e2'), 4 * S);
    const c = r.finish(1000 * S).counters;
    expect(c.resets).toBe(1);
    expect(c.lost).toBe(0);
    expect(c.delivered).toBe(4);
  });

  it('charges a client that went silent for what its topic carried meanwhile', () => {
    const r = new Recorder({ fromUs: 0, toUs: 10 * S, topicRatePerS: 10 });
    const ev = r.forClient(0, 0);
    ev.message(msg(1, 1 * S), 1 * S); // then nothing for 9 s at 10 msg/s
    const healthy = r.forClient(1, 0);
    for (let i = 1; i <= 99; i++) healthy.message(msg(i, i * 0.1 * S), i * 0.1 * S + 100);
    const c = r.finish(2 * S).counters;
    expect(c.errors.STALLED).toBe(1);
    expect(c.lost).toBe(90);
  });

  it('records request latency from the planned time and from the send time', () => {
    const r = new Recorder({ fromUs: 0, toUs: 100 * S, topicRatePerS: 0 });
    const ev = r.forClient(0, 0);
    ev.request(1 * S, 1.5 * S, 1.5 * S + 1000, true); // sent 500 ms late, answered in 1 ms
    const { counters, histograms } = r.finish(S);
    expect(counters.requests).toBe(1);
    expect(counters.emptyResponses).toBe(1);
    expect(percentiles(decodeHistogram(histograms.requestUs)).max).toBeGreaterThan(500_000);
    expect(percentiles(decodeHistogram(histograms.requestRawUs)).max).toBeLessThan(1100);
  });

  it('request histograms come out as recording every latency directly, across seconds and windows', () => {
    const r = new Recorder({ fromUs: 0, toUs: 10_000 * S, topicRatePerS: 0 }); // every send in the window
    const ev = r.forClient(0, 0);
    const direct = createHistogram();
    const directRaw = createHistogram();
    let x = 12345;
    const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let second = 0; second < 3; second++) {
      for (let k = 0; k < 5000; k++) {
        const planned = second * S + k * 100;
        // raw 0.2 µs (clamped to 1) … 40 s; corrected up to 2^31 µs late (past the feed's range)
        const raw = k === 0 ? 0.2 : 10 ** (next() * 7.6);
        const late = k % 1000 === 1 ? 2 ** 31 : next() * 3000;
        ev.request(planned, planned + late, planned + late + raw, k % 2 === 0);
        direct.recordValue(Math.max(1, Math.round(late + raw)));
        directRaw.recordValue(Math.max(1, Math.round(raw)));
      }
      r.takeInterval(); // the worker's per-second hand-out flushes the feeds
    }
    ev.request(3 * S, 3 * S + 5, 3 * S + 7, false); // still in the feed when the window closes
    direct.recordValue(7);
    directRaw.recordValue(2);
    const { histograms, counters } = r.nextWindow(S, { fromUs: 10_000 * S, toUs: 20_000 * S });
    expect(counters.requests).toBe(15_001);
    expect(histograms.requestUs).toBe(encodeHistogram(direct));
    expect(histograms.requestRawUs).toBe(encodeHistogram(directRaw));
    // the next window starts empty
    ev.request(15_000 * S, 15_000 * S, 15_000 * S + 42, true);
    const after = r.finish(S).histograms;
    expect(percentiles(decodeHistogram(after.requestRawUs)).count).toBe(1);
    expect(percentiles(decodeHistogram(after.requestRawUs)).max).toBe(42);
  });

  it('hands out per-second intervals and starts a new one each time', () => {
    const r = new Recorder({ fromUs: 0, toUs: 100 * S, topicRatePerS: 0 });
    const ev = r.forClient(0, 0);
    ev.message(msg(1, 1 * S), 1 * S + 300);
    ev.message(msg(2, 2 * S), 2 * S + 300);
    const a = r.takeInterval();
    expect(a.deliveries).toBe(2);
    const decoded = percentiles(decodeHistogram(a.encoded));
    expect(decoded.count).toBe(2);
    // The worker's own p50/p99 (the live progress line) are those of the encoded second.
    expect([a.p50Us, a.p99Us]).toEqual([decoded.p50, decoded.p99]);
    expect(a.p50Us).toBeGreaterThanOrEqual(300);
    const empty = r.takeInterval();
    expect([empty.deliveries, empty.p50Us, empty.p99Us]).toEqual([0, 0, 0]);
  });

  it('moves to the next window of a live staircase: each window its own figures, no gap charged at the boundary', () => {
    const r = new Recorder({ fromUs: 10 * S, toUs: 20 * S, topicRatePerS: 1 });
    const ev = r.forClient(0, 0);
    for (let seq = 1; seq <= 15; seq++) if (seq !== 13) ev.message(msg(seq, (5 + seq) * S), (5 + seq) * S + 1000); // 13 (ts 18 s) lost
    ev.error('ECONNRESET');
    // The window closes after its drain; the client stays connected into the next window.
    const first = r.nextWindow(2 * S, { fromUs: 30 * S, toUs: 40 * S });
    expect([first.counters.delivered, first.counters.lost, first.counters.expected]).toEqual([9, 1, 10]);
    expect(first.counters.errors).toEqual({ ECONNRESET: 1 });
    expect(percentiles(decodeHistogram(first.histograms.deliveryUs)).count).toBe(9);
    // Between the windows (not measured), then the second window: seqs go on, nothing lost.
    for (let seq = 16; seq <= 34; seq++) ev.message(msg(seq, (5 + seq) * S), (5 + seq) * S + 2000);
    ev.message(msg(13, 18 * S), 36 * S); // the first window's lost message, very late: counted nowhere
    const second = r.nextWindow(2 * S, { fromUs: 50 * S, toUs: 60 * S });
    expect([second.counters.delivered, second.counters.lost, second.counters.expected, second.counters.outOfOrder]).toEqual([10, 0, 10, 0]);
    expect(second.counters.errors).toEqual({});
    expect(percentiles(decodeHistogram(second.histograms.deliveryUs)).min).toBeGreaterThanOrEqual(1999);
    // The first window's figures were handed out as a copy: later counting left them alone.
    expect(first.counters.delivered).toBe(9);
    // A client silent through the third window is charged what its topic carried there.
    expect(r.finish(2 * S).counters.lost).toBe(10);
  });

  it('counts what a reset makes unrecoverable: the old epoch after the last message to the kill, the new epoch before the first', () => {
    const r = new Recorder({ fromUs: 0, toUs: 100 * S, topicRatePerS: 10, faultsAtUs: [50 * S] });
    const a = r.forClient(0, 0);
    const b = r.forClient(1, 0);
    const late = r.forClient(2, 0);
    // a: old epoch up to ts 49.5 s; the server was killed at 50.2 s → 7 messages of the old epoch
    // (ts 49.6 … 50.2) it never got; it comes back to the new epoch at seq 4 → 3 more.
    for (let i = 1; i <= 495; i++) a.message(msg(i, i * 0.1 * S), i * 0.1 * S + 100);
    // b: had everything up to the kill, and comes back at the new epoch's first message
    for (let i = 1; i <= 502; i++) b.message(msg(i, i * 0.1 * S), i * 0.1 * S + 100);
    r.epochEnded(0, 50.2 * S);
    a.message(msg(4, 51 * S, 'e2'), 51 * S + 100);
    b.message(msg(1, 50.7 * S, 'e2'), 51 * S + 100);
    late.message(msg(5, 51.1 * S, 'e2'), 51.1 * S + 100); // first contact: not a reset
    const [f] = r.faultTallies();
    expect(f.resets).toBe(2);
    expect(f.unrecovered).toBe(7 + 3);
    expect(f.lost).toBe(0);
  });
});

