/**
 * The only place that records into histograms. Drivers emit {@link ClientEvents}; the recorder
 * turns them into HDR histograms (µs) and counters for one worker thread's slice of clients.
 *
 * The measured window is [fromUs, toUs) on the shared clock, judged by each message's `ts` (its
 * scheduled publish time), so every client is measured on the same set of messages however late
 * it receives them. Sequence accounting (loss, duplicates, order) runs over the whole run so that
 * a gap straddling the window's edge is still seen; only what falls in the window is counted.
 *
 * Expected: with the publisher's timetable (`schedule`) each client is expected what was scheduled
 * on its topic in the window (from its start), and what it never saw of that — before the first
 * seq it accepted, after the last — is `undelivered` (load/expected.ts), with the age of the oldest
 * such message when the books close. The timetable is checked against each client's first message
 * (once per client and epoch, off the per-delivery path): a message off the schedule (another
 * publisher on the topic) or an epoch change drops it for the run, and expected falls back to what
 * the seqs seen imply, a silent client charged its topic's rate as lost (STALLED).
 *
 * Threading: one recorder per worker thread; every method is called on that thread's event loop.
 */
import type { ClientEvents } from './drivers/types.ts';
import { EngineBook, type EngineTally } from './engine-books.ts';
import { TlsBook } from './tls-books.ts';
import { nowUs, type PublishSchedule } from '../core/wire.ts';
import { HistogramFeed, countsAtOrBelow, createHistogram, encodeHistogram } from '../core/histogram.ts';
import { LATENCY_BUCKETS_US, addBuckets, emptyBuckets, type LatencyBuckets } from './latency-buckets.ts';
import { emptyCounters, type Counters, type Histograms } from '../core/record.ts';
import { ClientBooks, type ClientState, type SeqState } from './client-books.ts';
import { cameBack, faultAt, faultTally, newFaultState, wentDown, type FaultState, type FaultTally } from './fault-books.ts';
import { forgetShortfall, nothingOwed, onSchedule, windowShortfall } from './expected.ts';
import { addTotals, emptyTotals, type RunTotals } from './worker-task.ts';

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
  /** the publisher's timetable and client `id`'s topic index in it: expected from the schedule */
  schedule?: { timetable: PublishSchedule; topicIndex: (id: number) => number };
  /**
   * µs added to every message's ts before anything reads it: minus the server clock's offset from
   * this machine's (a shard on another host, dist/clock.ts), so ts compares with this clock; 0 on one host
   */
  serverClockShiftUs?: number;
}

/** A window's figures as the books close. */
export interface WindowFigures {
  histograms: Histograms;
  counters: Counters;
  /** expected came from the schedule: the oldest undelivered message's age at the close, ms (null: none); else absent */
  backlogAgeMs?: number | null;
}

const MAX_MISSING_TRACKED = 10_000;

export class Recorder {
  readonly counters: Counters = emptyCounters();
  /** the TLS handshakes of the whole run (not only the window's: connects happen at the ramp) */
  readonly tls = new TlsBook();
  /** WebSocket connections of the whole run by the extensions their server accepted */
  readonly wsExtensions: Record<string, number> = {};
  /** a Socket.IO run's Engine.IO events (ClientEvents.engine) */
  readonly engine = new EngineBook();
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
  private readonly timetable: PublishSchedule | undefined;
  /** clients whose first message of an epoch was off the timetable (it is then not used) */
  offSchedule = 0;
  /** an epoch changed during the run: the timetable (that server's) no longer applies */
  private reset = false;
  /** what a live staircase's closed windows counted (their counters start afresh at each step) */
  private readonly closedTotals: RunTotals = emptyTotals();
  /** deliveries folded into the histograms outside a tick (a window's last partial second), not yet in a tick's buckets */
  private untickedBuckets: LatencyBuckets = emptyBuckets();

  private readonly shiftUs: number;

  constructor(opts: RecorderOptions) {
    this.opts = opts;
    this.shiftUs = opts.serverClockShiftUs ?? 0;
    this.faults = (opts.faultsAtUs ?? []).map(newFaultState);
    this.timetable = opts.schedule?.timetable;
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
  recordMessage(state: ClientState, epoch: string, seq: number, serverTs: number, source: string | undefined, dataLength: number, recvUs: number): void {
    const ts = serverTs + this.shiftUs;
    const c = this.counters;
    const measured = this.inWindow(ts);
    const fault = this.faults.length ? faultAt(this.faults, recvUs) : undefined;
    if (state.epoch !== epoch) {
      if (state.epoch !== '') {
        c.resets++;
        this.reset = true;
        if (fault) {
          fault.resets++;
          fault.resetFromTs.push(state.lastTs);
          fault.newEpochMissed += Math.max(0, seq - 1);
        }
      }
      state.epoch = epoch;
      state.lastSeq = seq - 1;
      state.firstSeq = seq;
      state.missing = null;
      state.sources = null;
      if (this.timetable !== undefined && source === undefined && !onSchedule(this.timetable, state.topicIndex, seq, ts)) this.offSchedule++;
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
        state.lost += n;
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
        state.lost--;
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
    const books = new ClientBooks(this, startedUs, this.opts.schedule ? this.opts.schedule.topicIndex(id) : -1);
    this.clients.set(id, books);
    return books;
  }

  /** A client's new connection is usable (for {@link ClientBooks}). */
  connected(state: ClientState, connectUs: number): void {
    const now = nowUs();
    if (state.subscribedUs === 0) state.subscribedUs = now;
    cameBack(this.faults, state, now);
    this.counters.connectionsOpened++;
    this.connect.recordValue(Math.max(1, Math.round(connectUs)));
  }

  /** The Engine.IO figures of this thread's clients, each one's loss too. */
  engineTally(): EngineTally {
    return this.engine.tally([...this.clients.values()].map((b) => b.lost));
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
    wentDown(this.faults, state, nowUs());
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

  /** Whether expected comes from the timetable: there is one, and nothing seen contradicted it. */
  get bySchedule(): boolean {
    return this.timetable !== undefined && this.offSchedule === 0 && !this.reset;
  }

  /**
   * Whether every client has every message the timetable put in the window (false without a
   * timetable, or while a gap may still fill): the drain can end. `heldPoll`: a long poll's last
   * request of the window is answered by its topic's next message, and counts once answered, so
   * that message is owed too.
   */
  owesNothing(heldPoll = false): boolean {
    if (!this.bySchedule) return false;
    const t = this.timetable!;
    const toUs = this.opts.toUs + (heldPoll ? t.topics * t.stepUs : 0);
    return nothingOwed(t, this.clients.values(), this.opts.fromUs, toUs);
  }

  /**
   * Close the books at the end of the run (`endUs`: when they close, for the backlog's age). With
   * the timetable, what never arrived is `undelivered`. Without it, a client whose stream went
   * silent more than `silenceUs` before the window's end is charged what its topic carried
   * meanwhile (lost, and one `STALLED` error), so tail loss is never invisible.
   */
  finish(silenceUs: number, endUs = nowUs()): WindowFigures {
    if (this.bySchedule) {
      const backlogAgeMs = this.countUndelivered(endUs);
      return { histograms: this.histograms(), counters: this.counters, backlogAgeMs };
    }
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
   * Every client's shortfall against the timetable over the window (load/expected.ts): added to
   * `undelivered` and `expected`. Returns the oldest one's age at `endUs`, ms (null: none).
   */
  private countUndelivered(endUs: number): number | null {
    const { count, oldestUs } = windowShortfall(this.timetable!, this.clients.values(), this.opts.fromUs, this.opts.toUs);
    this.counters.undelivered = count;
    this.counters.expected += count;
    return count > 0 ? Math.max(0, (endUs - oldestUs) / 1000) : null;
  }

  /**
   * Close the current window (one step of a live staircase) and open `next`: returns the closed
   * window's figures exactly as {@link finish} would, then counts afresh. Clients and their
   * sequence state carry over, so a client that stays connected is not charged a gap at the
   * boundary; seqs still owed to the closed window are forgotten, so one that arrives late counts
   * neither as out of order nor against the next window.
   */
  nextWindow(silenceUs: number, next: { fromUs: number; toUs: number }, endUs = nowUs()): WindowFigures {
    const figures = this.finish(silenceUs, endUs);
    // what the closed window owed was counted undelivered: not again as a gap in the next
    if (figures.backlogAgeMs !== undefined) forgetShortfall(this.timetable!, this.clients.values(), this.opts.fromUs, this.opts.toUs);
    const closed = { ...figures.counters, errors: { ...figures.counters.errors } };
    addTotals(this.closedTotals, closed);
    Object.assign(this.counters, emptyCounters());
    delete this.counters.undelivered;
    for (const h of [this.delivery, this.connect, this.request, this.requestRaw]) h.reset();
    for (const state of this.clients.values()) state.missing = null;
    this.opts = { ...this.opts, fromUs: next.fromUs, toUs: next.toUs };
    return { ...figures, counters: closed };
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

