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
import { SEGMENT_BYTES, chunkLossProbability, rackDelayMs, retransmitDelayMs } from './loss.ts';

/**
 * A virtual link's serialisation queue in one direction: when it has transmitted everything handed
 * to it so far (µs). Chunks of every direction that holds the same Link are sent one after another
 * at the bandwidth, in arrival order.
 */
export interface Link {
  freeUs: number;
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
 * A lost one-segment chunk whose retransmission delay is still the timer's: the next chunk of its
 * direction, if it comes soon enough, reveals the loss sooner (netem/loss.ts).
 */
interface OpenLoss {
  p: Pending;
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
  private openLoss: OpenLoss | null = null;
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
    if (this.openLoss) this.revealLoss(this.openLoss, sentUs);
    // segments sent within a round trip before this one are still unacknowledged: a lost tail is then probed (TLP), not timed out
    const inFlight = chunk !== null && sentUs - this.lastSentUs < 2 * ctx.delayUs;
    if (chunk) this.lastSentUs = sentUs;
    const jitter = ctx.jitterUs > 0 ? (ctx.random() * 2 - 1) * ctx.jitterUs : 0;
    // a lost chunk arrives a retransmission delay after its first copy would have (netem/loss.ts)
    const lost = chunk !== null && ctx.lossRate > 0 && ctx.lossRandom(chunk) < chunkLossProbability(chunk.length, ctx.lossRate);
    if (lost) ctx.onLost();
    const firstCopyUs = sentUs + Math.max(0, ctx.delayUs + jitter);
    const extraUs = lost ? retransmitDelayMs(chunk.length, ctx.delayUs / 1000, inFlight) * 1000 : 0;
    const ownUs = firstCopyUs + extraUs;
    // the max with the previous release is the FIFO rule: jitter never reorders bytes, and every
    // chunk after a lost one waits for it (TCP's in-order delivery: the head-of-line of one connection)
    const releaseBeforeUs = this.lastReleaseUs;
    const keyBefore = this.lastKey;
    const releaseUs = Math.max(ownUs, releaseBeforeUs, ctx.hold.untilUs);
    this.lastReleaseUs = releaseUs;
    if (chunk) {
      this.queuedBytes += chunk.length;
      ctx.onQueued(chunk.length);
      this.checkFlow();
    }
    const p: Pending = { dir: this, chunk, arrivalUs, releaseUs, lost };
    this.lastKey = ctx.schedule.add(p, releaseUs, keyBefore);
    if (lost && chunk.length <= SEGMENT_BYTES) this.openLoss = { p, sentUs, firstCopyUs, extraUs, releaseBeforeUs, keyBefore };
  }

  /**
   * The first chunk after an open loss leaves at `sentUs`: its acknowledgement reveals the loss
   * (RACK) when that is sooner than the timer; then the lost chunk's copy is moved earlier. Only
   * the first matters: a later one is acknowledged later. Nothing after the lost chunk is scheduled
   * yet, so the FIFO rule holds.
   */
  private revealLoss(open: OpenLoss, sentUs: number): void {
    this.openLoss = null;
    const extraUs = rackDelayMs((sentUs - open.sentUs) / 1000, this.ctx.delayUs / 1000) * 1000;
    if (extraUs >= open.extraUs) return;
    const releaseUs = Math.max(open.firstCopyUs + extraUs, open.releaseBeforeUs, this.ctx.hold.untilUs);
    open.p.cancelled = true;
    const p: Pending = { ...open.p, releaseUs, cancelled: false };
    this.lastReleaseUs = releaseUs;
    this.lastKey = this.ctx.schedule.add(p, releaseUs, open.keyBefore);
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
