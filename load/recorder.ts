/**
 * The only place that records into histograms. Drivers emit {@link ClientEvents}; the recorder
 * turns them into HDR histograms (µs) and counters for one worker thread's slice of clients.
 *
 * The measured window is [fromUs, toUs) on the shared clock, judged by each message's `ts` (its
 * scheduled publish time), so every client is measured on the same set of messages however late
 * it receives them. Sequence accounting (loss, duplicates, order) runs over the whole run so that
 * a gap straddling the window's edge is still seen; only what falls in the window is counted.
 *
 * Threading: one recorder per worker thread; every method is called on that thread's event loop.
 */
import type { ClientEvents } from './drivers/types.ts';
import { nowUs } from '../core/wire.ts';
import { HistogramFeed, countsAtOrBelow, createHistogram, encodeHistogram } from '../core/histogram.ts';
import { LATENCY_BUCKETS_US, type LatencyBuckets } from './latency-buckets.ts';
import { emptyCounters, type Counters, type Histograms } from '../core/record.ts';
import { ClientBooks, type ClientState, type SeqState } from './client-books.ts';
import { faultTally, newFaultState, type FaultState, type FaultTally } from './fault-books.ts';
import type { RunTotals } from './worker-task.ts';

export type { FaultTally } from './fault-books.ts';

export interface RecorderOptions {
  fromUs: number;
  toUs: number;
  /**
   * Messages per second each client's topic carries (0 when unknown). With it, a client whose
   * stream went silent before the window's end is charged the messages it must have missed.
   */
  topicRatePerS: number;
  /** start times of injected faults (µs, ascending); each opens a window until the next */
  faultsAtUs?: readonly number[];
}

const MAX_MISSING_TRACKED = 10_000;

export class Recorder {
  readonly counters: Counters = emptyCounters();
  private readonly delivery = createHistogram();
  private readonly connect = createHistogram();
  private readonly request = createHistogram();
  private readonly requestRaw = createHistogram();
  /** delivery latency of the current second, for the timeline */
  private readonly interval = createHistogram();
  /** the current second's latencies on their way into {@link interval} (flushed when it is read) */
  private readonly intervalFeed = new HistogramFeed();
  /**
   * request latencies (corrected, raw) on their way into {@link request} and {@link requestRaw},
   * flushed with the interval each second: a closed-loop short poll records two a request, and
   * hdr-histogram-js's recordValue for each is a measurable share of a worker's CPU
   */
  private readonly requestFeed = new HistogramFeed();
  private readonly requestRawFeed = new HistogramFeed();
  private intervalDeliveries = 0;
  private readonly clients = new Map<number, ClientBooks>();
  /** the window moves on in a live staircase (nextWindow); otherwise fixed */
  private opts: RecorderOptions;
  private readonly faults: FaultState[];
  /** what a live staircase's closed windows counted (their counters start afresh at each step) */
  private readonly closedTotals: RunTotals = emptyTotals();
  /** deliveries folded into the histograms outside a tick (a window's last partial second), not yet in a tick's buckets */
  private untickedBuckets: LatencyBuckets = emptyBuckets();

  constructor(opts: RecorderOptions) {
    this.opts = opts;
    this.faults = (opts.faultsAtUs ?? []).map(newFaultState);
  }

  /** The fault window `tUs` falls in, or undefined before the first fault. */
  private faultAt(tUs: number): FaultState | undefined {
    let found: FaultState | undefined;
    for (const f of this.faults) {
      if (f.atUs <= tUs) found = f;
      else break;
    }
    return found;
  }

  private wentDown(state: ClientState): void {
    if (state.downSinceUs !== 0) return;
    const now = nowUs();
    state.downSinceUs = now;
    const f = this.faultAt(now);
    if (!f) return;
    const idx = this.faults.indexOf(f);
    if (state.detectedFault < idx) {
      state.detectedFault = idx;
      f.disconnects++;
      f.detect.recordValue(Math.max(1, Math.round(now - f.atUs)));
    }
  }

  private cameBack(state: ClientState): void {
    if (state.downSinceUs === 0) return;
    const now = nowUs();
    this.faultAt(state.downSinceUs)?.reconnect.recordValue(Math.max(1, Math.round(now - state.downSinceUs)));
    state.downSinceUs = 0;
    state.backAtUs = now;
  }

  private inWindow(tsUs: number): boolean {
    return tsUs >= this.opts.fromUs && tsUs < this.opts.toUs;
  }

  /** The sequence of `source` as `state`'s client sees it; a new source starts at `seq` (as a new epoch does). */
  private sourceState(state: ClientState, source: string, seq: number): SeqState {
    state.sources ??= new Map();
    let seqs = state.sources.get(source);
    if (seqs === undefined) state.sources.set(source, (seqs = { lastSeq: seq - 1, lastTs: 0, missing: null }));
    return seqs;
  }

  /**
   * One delivery, as its fields (a {@link WireMessage} and a {@link MessageView} both come here):
   * `dataLength` is the length of its data as a string. Called by {@link ClientBooks}.
   */
  recordMessage(state: ClientState, epoch: string, seq: number, ts: number, source: string | undefined, dataLength: number, recvUs: number): void {
    const c = this.counters;
    const measured = this.inWindow(ts);
    const fault = this.faults.length ? this.faultAt(recvUs) : undefined;
    if (state.epoch !== epoch) {
      if (state.epoch !== '') {
        c.resets++;
        if (fault) {
          fault.resets++;
          fault.resetFromTs.push(state.lastTs);
          fault.newEpochMissed += Math.max(0, seq - 1);
        }
      }
      state.epoch = epoch;
      state.lastSeq = seq - 1;
      state.missing = null;
      state.sources = null;
    }
    const seqs = source === undefined ? state : this.sourceState(state, source, seq);
    const expectedSeq = seqs.lastSeq + 1;
    if (seq > expectedSeq) {
      // A gap: seqs expectedSeq … seq-1 never came. Charged to the window when the gap
      // ends inside it (its first missing message was scheduled before this one).
      const n = seq - expectedSeq;
      if (measured || (ts >= this.opts.toUs && seqs.lastTs < this.opts.toUs && seqs.lastTs >= this.opts.fromUs)) {
        c.lost += n;
        c.expected += n;
        if (fault) fault.lost += n;
        if (n <= MAX_MISSING_TRACKED) {
          seqs.missing ??= new Set();
          if (seqs.missing.size + n <= MAX_MISSING_TRACKED) for (let s = expectedSeq; s < seq; s++) seqs.missing.add(s);
        }
      }
    } else if (seq < expectedSeq) {
      if (seqs.missing?.delete(seq)) {
        c.outOfOrder++;
        c.lost--;
        c.expected--;
        if (fault) fault.lost--;
      } else {
        if (measured) c.duplicates++;
        if (fault) fault.duplicates++;
        return;
      }
    }
    if (seq >= expectedSeq) {
      seqs.lastSeq = seq;
      seqs.lastTs = ts;
      if (seqs !== state && ts > state.lastTs) state.lastTs = ts;
    }
    if (fault && state.backAtUs !== 0 && ts < state.backAtUs && ts >= fault.atUs) fault.recovered++;
    if (!measured) return;
    c.expected++;
    c.delivered++;
    c.payloadBytesDelivered += dataLength;
    const latencyUs = Math.max(1, Math.round(recvUs - ts));
    // Recorded once, into the current second; the second is added to the run's histogram when
    // it is handed out (takeInterval) or the books close (histograms).
    this.intervalFeed.record(latencyUs);
    this.intervalDeliveries++;
  }

  /** The event sink for one client (created once per client, kept across its reconnects). */
  forClient(id: number, startedUs: number): ClientEvents {
    const books = new ClientBooks(this, startedUs);
    this.clients.set(id, books);
    return books;
  }

  /** A client's new connection is usable (for {@link ClientBooks}). */
  connected(state: ClientState, connectUs: number): void {
    this.cameBack(state);
    this.counters.connectionsOpened++;
    this.connect.recordValue(Math.max(1, Math.round(connectUs)));
  }

  /** An HTTP request completed (for {@link ClientBooks}). */
  requested(plannedUs: number, sentUs: number, doneUs: number, empty: boolean): void {
    if (!this.inWindow(sentUs)) return;
    const c = this.counters;
    c.requests++;
    if (empty) c.emptyResponses++;
    this.requestFeed.record(Math.round(doneUs - plannedUs));
    this.requestRawFeed.record(Math.round(doneUs - sentUs));
  }

  /** A client lost its connection and is reconnecting (for {@link ClientBooks}). */
  reconnecting(state: ClientState): void {
    // Drivers call this once per lost connection (errors alone may be a failed publish).
    this.counters.reconnects++;
    this.wentDown(state);
  }

  /**
   * The old epoch of fault `index` ended at `atUs` (the runner killed the server then): the end of
   * what a reset client may have missed of it. Call before the new epoch's messages arrive.
   */
  epochEnded(index: number, atUs: number): void {
    const f = this.faults[index];
    if (f) f.epochEndedUs = atUs;
  }

  /** Count one upstream publish (chat workload) sent inside the window. */
  published(tsUs: number): void {
    if (this.inWindow(tsUs)) this.counters.published++;
  }

  /**
   * Delivery latency and count of the second just ended, encoded for the record's timeline and as
   * the p50/p99 the live progress line shows (so the main thread decodes nothing while the run
   * goes on), and in the live metrics' buckets; starts a new interval. Percentiles are 0 for a
   * second without deliveries.
   */
  takeInterval(): { encoded: string; deliveries: number; p50Us: number; p99Us: number; buckets: LatencyBuckets } {
    this.intervalFeed.flushInto(this.interval);
    this.flushRequests();
    const n = this.intervalDeliveries;
    const out = {
      encoded: encodeHistogram(this.interval),
      deliveries: n,
      p50Us: n > 0 ? this.interval.getValueAtPercentile(50) : 0,
      p99Us: n > 0 ? this.interval.getValueAtPercentile(99) : 0,
      buckets: this.takeUnticked(countsAtOrBelow(this.interval, LATENCY_BUCKETS_US)),
    };
    this.delivery.add(this.interval);
    this.interval.reset();
    this.intervalDeliveries = 0;
    return out;
  }

  /**
   * Close the books at the end of the run: a client whose stream went silent more than
   * `silenceUs` before the window's end is charged what its topic carried meanwhile (lost, and
   * one `STALLED` error), so tail loss is never invisible.
   */
  finish(silenceUs: number): { histograms: Histograms; counters: Counters } {
    const { fromUs, toUs, topicRatePerS } = this.opts;
    if (topicRatePerS > 0) {
      for (const state of this.clients.values()) {
        const since = Math.max(state.lastTs, fromUs, state.startedUs);
        if (since < toUs - silenceUs) {
          const missed = Math.floor(((toUs - since) / 1e6) * topicRatePerS);
          if (missed > 0) {
            this.counters.lost += missed;
            this.counters.expected += missed;
            this.counters.errors.STALLED = (this.counters.errors.STALLED ?? 0) + 1;
          }
        }
      }
    }
    return { histograms: this.histograms(), counters: this.counters };
  }

  /**
   * Close the current window (one step of a live staircase) and open `next`: returns the closed
   * window's figures exactly as {@link finish} would, then counts afresh. Clients and their
   * sequence state carry over, so a client that stays connected is not charged a gap at the
   * boundary; seqs still owed to the closed window are forgotten, so one that arrives late counts
   * neither as out of order nor against the next window.
   */
  nextWindow(silenceUs: number, next: { fromUs: number; toUs: number }): { histograms: Histograms; counters: Counters } {
    const { histograms, counters } = this.finish(silenceUs);
    const closed = { ...counters, errors: { ...counters.errors } };
    addTotals(this.closedTotals, closed);
    Object.assign(this.counters, emptyCounters());
    for (const h of [this.delivery, this.connect, this.request, this.requestRaw]) h.reset();
    for (const state of this.clients.values()) state.missing = null;
    this.opts = { ...this.opts, fromUs: next.fromUs, toUs: next.toUs };
    return { histograms, counters: closed };
  }

  /**
   * Per-fault tallies, in fault order (empty without faults); what `unrecovered` counts:
   * {@link faultTally}.
   */
  faultTallies(): FaultTally[] {
    return this.faults.map((f) => faultTally(f, this.opts.topicRatePerS));
  }

  histograms(): Histograms {
    // Fold in the second still open; the interval then starts afresh (nothing is counted twice).
    this.intervalFeed.flushInto(this.interval);
    this.flushRequests();
    this.untickedBuckets = addBuckets(this.untickedBuckets, countsAtOrBelow(this.interval, LATENCY_BUCKETS_US));
    this.delivery.add(this.interval);
    this.interval.reset();
    this.intervalDeliveries = 0;
    return {
      deliveryUs: encodeHistogram(this.delivery),
      connectUs: encodeHistogram(this.connect),
      requestUs: encodeHistogram(this.request),
      requestRawUs: encodeHistogram(this.requestRaw),
    };
  }

  /**
   * Request latencies fed since the last flush into their histograms (each second, and when the
   * histograms are read: a feed's Int32 counts are never left to grow for a whole run).
   */
  private flushRequests(): void {
    this.requestFeed.flushInto(this.request);
    this.requestRawFeed.flushInto(this.requestRaw);
  }

  /**
   * The counts of every window so far, the open one included (read once a second for the tick,
   * never per event).
   */
  runTotals(): RunTotals {
    return addTotals({ ...this.closedTotals, errors: { ...this.closedTotals.errors } }, this.counters);
  }

  /** `b` plus the deliveries no tick has carried yet; those are then carried. */
  takeUnticked(b: LatencyBuckets = emptyBuckets()): LatencyBuckets {
    const out = addBuckets(b, this.untickedBuckets);
    this.untickedBuckets = emptyBuckets();
    return out;
  }

  /** Clients this recorder has seen started. */
  get clientCount(): number {
    return this.clients.size;
  }
}

function emptyTotals(): RunTotals {
  return { delivered: 0, lost: 0, duplicates: 0, errors: {}, connectionsOpened: 0, reconnects: 0, requests: 0 };
}

/** t += c's counts (the fields {@link RunTotals} has); returns t. */
function addTotals(t: RunTotals, c: Counters): RunTotals {
  t.delivered += c.delivered;
  t.lost += c.lost;
  t.duplicates += c.duplicates;
  t.connectionsOpened += c.connectionsOpened;
  t.reconnects += c.reconnects;
  t.requests += c.requests;
  for (const [code, n] of Object.entries(c.errors)) t.errors[code] = (t.errors[code] ?? 0) + n;
  return t;
}

function emptyBuckets(): LatencyBuckets {
  return { atOrBelow: LATENCY_BUCKETS_US.map(() => 0), count: 0, sumUs: 0 };
}

function addBuckets(a: LatencyBuckets, b: LatencyBuckets): LatencyBuckets {
  return { atOrBelow: a.atOrBelow.map((n, i) => n + b.atOrBelow[i]), count: a.count + b.count, sumUs: a.sumUs + b.sumUs };
}
