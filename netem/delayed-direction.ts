/**
 * One direction of one relayed connection of the latency proxy (netem/proxy.ts states the model):
 * each chunk's release time from its arrival, the link's serialisation, the delay and jitter, a
 * loss's retransmission delay and the FIFO rule; the source paused while too much is queued; the
 * queue dropped on a reset. The link (its serialisation queue) is the direction's own, or shared
 * with the other connections of one browser (`link=browser`); the FIFO rule (and with it a loss's
 * hold on later chunks) and the backpressure are always the connection's.
 */
import type net from 'node:net';
import { nowUs } from '../core/wire.ts';
import type { ReleaseSchedule } from './release-schedule.ts';
import { SEGMENT_BYTES, burstLoss, chunkLossProbability, rackDelayMs, retransmitDelayMs, segmentsOf } from './loss.ts';

/**
 * A virtual link's serialisation queue in one direction: when it has transmitted everything handed
 * to it so far (µs). Chunks of every direction that holds the same Link are sent one after another
 * at the bandwidth, in arrival order.
 */
export interface Link {
  freeUs: number;
  /** with bursty loss: the link's loss chain is in its losing state (netem/loss.ts) */
  losing?: boolean;
}

/** One delayed chunk (null: the FIN) of one direction, waiting in the proxy's release schedule. */
export interface Pending {
  dir: DelayedDirection;
  chunk: Buffer | null;
  arrivalUs: number;
  releaseUs: number;
  /** the loss model held it for a retransmission (its releaseUs includes that delay) */
  lost: boolean;
  /** replaced by an earlier copy (a later segment revealed the loss sooner): the schedule skips it */
  cancelled?: boolean;
}

/**
 * A lost piece whose retransmission delay is still the timer's: the next piece of its direction
 * that arrives, if it comes soon enough, reveals the loss sooner (netem/loss.ts).
 */
interface OpenLoss {
  p: Pending;
  /** the schedule bucket it is in */
  key: number;
  sentUs: number;
  /** its release without the retransmission delay */
  firstCopyUs: number;
  extraUs: number;
  /** the direction's release and schedule bucket before it, which its earlier copy keeps to */
  releaseBeforeUs: number;
  keyBefore: number;
}

export interface DirectionContext {
  delayUs: number;
  jitterUs: number;
  bytesPerUs: number | undefined;
  /** with a bandwidth: a chunk is transmitted and released in pieces of at most this many bytes (whole segments, about 1 ms of the link) */
  pieceBytes: number | undefined;
  maxQueuedBytes: number;
  random: () => number;
  /** per-segment loss probability (0: never) and the [0, 1) source a chunk's loss is drawn from */
  lossRate: number;
  /** mean segments per loss run on one link; undefined: each segment lost on its own */
  lossBurst: number | undefined;
  lossRandom: (chunk: Buffer) => number;
  /** a chunk of this direction was lost */
  onLost(): void;
  up: boolean;
  schedule: ReleaseSchedule<Pending>;
  /** bytes entered (+) or left (−) this direction's queue */
  onQueued(deltaBytes: number): void;
  /** blackhole: nothing is released before this time (µs), shared by every direction */
  hold: { untilUs: number };
}

/**
 * One direction of one connection: assigns each chunk its release time and hands it to the
 * proxy's one release schedule; pauses its source when too much is queued.
 */
export class DelayedDirection {
  queuedBytes = 0;
  private lastReleaseUs = 0;
  /** the schedule bucket of this direction's previous chunk: the next goes in none before it */
  private lastKey = -Infinity;
  private paused = false;
  /** lost pieces, in order, waiting for a later piece to reveal them sooner than their timers */
  private openLosses: OpenLoss[] = [];
  /** when the direction's last data piece left the link (µs) */
  private lastSentUs = -Infinity;
  stopped = false;

  constructor(
    private readonly from: net.Socket,
    readonly to: net.Socket,
    readonly ctx: DirectionContext,
    /** this direction's own link, or its browser's (shared with the browser's other connections) */
    private readonly link: Link = { freeUs: 0 },
  ) {
    from.on('data', (chunk: Buffer) => this.enqueue(chunk));
    from.on('end', () => this.enqueue(null));
    to.on('drain', () => this.checkFlow());
  }

  /**
   * A chunk read from the source: on a capped link its pieces (ctx.pieceBytes) are transmitted one
   * after another and each is released at its own transmission end plus the delay, as a link's
   * segments arrive; without a cap it leaves whole (every segment at once).
   */
  private enqueue(chunk: Buffer | null): void {
    if (this.stopped) return;
    const arrivalUs = nowUs();
    const piece = this.ctx.pieceBytes;
    if (!chunk || piece === undefined || chunk.length <= piece) return this.enqueuePiece(chunk, arrivalUs);
    for (let at = 0; at < chunk.length; at += piece) this.enqueuePiece(chunk.subarray(at, at + piece), arrivalUs);
  }

  private enqueuePiece(chunk: Buffer | null, arrivalUs: number): void {
    const { ctx } = this;
    let sentUs = arrivalUs;
    if (chunk && ctx.bytesPerUs !== undefined) {
      const startUs = Math.max(arrivalUs, this.link.freeUs);
      this.link.freeUs = startUs + chunk.length / ctx.bytesPerUs;
      sentUs = this.link.freeUs;
    }
    // a lost piece arrives a retransmission delay after its first copy would have (netem/loss.ts)
    const lost = chunk !== null && ctx.lossRate > 0 && this.draws(chunk);
    if (this.openLosses.length > 0 && !lost) this.revealLosses(sentUs);
    // segments sent within a round trip before this one are still unacknowledged: a lost tail is then probed (TLP), not timed out
    const inFlight = chunk !== null && sentUs - this.lastSentUs < 2 * ctx.delayUs;
    if (chunk) this.lastSentUs = sentUs;
    const jitter = ctx.jitterUs > 0 ? (ctx.random() * 2 - 1) * ctx.jitterUs : 0;
    if (lost) ctx.onLost();
    const firstCopyUs = sentUs + Math.max(0, ctx.delayUs + jitter);
    const extraUs = lost ? retransmitDelayMs(chunk.length, ctx.delayUs / 1000, inFlight) * 1000 : 0;
    // the max with the previous release is the FIFO rule: jitter never reorders bytes, and every
    // piece after a lost one waits for it (TCP's in-order delivery: the head-of-line of one connection)
    const releaseBeforeUs = this.lastReleaseUs;
    const keyBefore = this.lastKey;
    const releaseUs = Math.max(firstCopyUs + extraUs, releaseBeforeUs, ctx.hold.untilUs);
    this.lastReleaseUs = releaseUs;
    if (chunk) {
      this.queuedBytes += chunk.length;
      ctx.onQueued(chunk.length);
      this.checkFlow();
    }
    const p: Pending = { dir: this, chunk, arrivalUs, releaseUs, lost };
    this.lastKey = ctx.schedule.add(p, releaseUs, keyBefore);
    // a one-segment loss waits for a later piece to reveal it; so does any loss in a run behind one
    if (lost && (chunk.length <= SEGMENT_BYTES || this.openLosses.length > 0)) this.openLosses.push({ p, key: this.lastKey, sentUs, firstCopyUs, extraUs, releaseBeforeUs, keyBefore });
  }

  /** Whether `piece` loses a segment: one draw for independent losses, or its segments' steps through the link's loss chain. */
  private draws(piece: Buffer): boolean {
    const { ctx } = this;
    if (ctx.lossBurst === undefined) return ctx.lossRandom(piece) < chunkLossProbability(piece.length, ctx.lossRate);
    return burstLoss(this.link, segmentsOf(piece.length), ctx.lossRate, ctx.lossBurst, () => ctx.lossRandom(piece));
  }

  /**
   * The first piece that arrives after a run of open losses leaves at `sentUs`: its
   * acknowledgement reveals each of them (RACK) when that is sooner than its timer; then their
   * copies move earlier, in order. Nothing after the run is scheduled yet, so the FIFO rule holds.
   */
  private revealLosses(sentUs: number): void {
    const run = this.openLosses;
    this.openLosses = [];
    let beforeUs = run[0].releaseBeforeUs;
    let key = run[0].keyBefore;
    for (const open of run) {
      const extraUs = Math.min(open.extraUs, rackDelayMs((sentUs - open.sentUs) / 1000, this.ctx.delayUs / 1000) * 1000);
      const releaseUs = Math.max(open.firstCopyUs + extraUs, beforeUs, this.ctx.hold.untilUs);
      if (releaseUs < open.p.releaseUs) {
        open.p.cancelled = true;
        key = this.ctx.schedule.add({ ...open.p, releaseUs, cancelled: false }, releaseUs, key);
        beforeUs = releaseUs;
      } else {
        // not sooner: it stays where it is (and so does its release)
        key = open.key;
        beforeUs = open.p.releaseUs;
      }
    }
    this.lastReleaseUs = beforeUs;
    this.lastKey = key;
  }

  /** The schedule released `p` (one of this direction's chunks). */
  write(p: Pending): void {
    if (p.chunk) {
      this.queuedBytes -= p.chunk.length;
      this.ctx.onQueued(-p.chunk.length);
      if (!this.to.destroyed) this.to.write(p.chunk);
      this.checkFlow();
    } else if (!this.to.destroyed) {
      this.to.end();
    }
  }

  private checkFlow(): void {
    if (this.stopped) return;
    const pending = this.queuedBytes + this.to.writableLength;
    if (!this.paused && pending > this.ctx.maxQueuedBytes) {
      this.paused = true;
      this.from.pause();
    } else if (this.paused && pending <= this.ctx.maxQueuedBytes / 2) {
      this.paused = false;
      this.from.resume();
    }
  }

  /** Drop what is queued (the schedule skips a stopped direction's chunks): the connection is gone. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ctx.onQueued(-this.queuedBytes);
    this.queuedBytes = 0;
  }
}
