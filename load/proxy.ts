/**
 * The user-space latency proxy: a TCP relay between clients and the target that delays every
 * chunk in each direction by a one-way delay ± jitter, optionally caps bandwidth, and preserves
 * byte order. It stands in for netem, which this kernel lacks.
 *
 * Model, per connection and per direction (client→target "up", target→client "down"):
 * - a chunk that arrives at `a` is serialised onto a virtual link of `bandwidthBytesPerS` (when
 *   set): its transmission starts at max(a, link free) and ends `bytes / bandwidth` later;
 * - it is then released at max(transmission end + delay + jitter sample, previous release), so a
 *   jitter sample never reorders bytes (the max is what a real FIFO link does too);
 * - jitter is uniform in [-jitterMs, +jitterMs], the sum clipped at 0.
 *
 * Timing: each direction holds one FIFO queue drained by at most one timer (no timer per chunk,
 * no spinning). libuv fires timers on whole milliseconds of CLOCK_MONOTONIC, the clock nowUs()
 * reads, so the proxy asks for the whole-millisecond boundary nearest to (due − learned wake-up
 * lateness) and, when the timer fires, releases everything due within
 * {@link RELEASE_TOLERANCE_US}. Each chunk is then within about ±0.5 ms of its due time (more on a
 * loaded machine) and the median lands within a few tenths of a ms (measured here: 20 ms →
 * +0.1…0.25 ms, 3 ms → −0.1…+0.4 ms over bare loopback). Node's shortest timer is 1 ms, so a
 * delay under about 1 ms (the `lan` profile's 0.5 ms) comes out at about 1.0–1.3 ms.
 *
 * Backpressure: when a direction's queued bytes plus the destination's unsent bytes exceed
 * `maxQueuedBytes` the source socket is paused; it resumes below half of that. Memory per
 * connection is therefore bounded by about 2 × maxQueuedBytes plus the socket buffers.
 *
 * Half-close and reset: a FIN travels like data (after the bytes before it, with the same delay);
 * an error or close without FIN on one side resets the other side at once (RST, queued bytes are
 * dropped — what a reset does to a real connection).
 *
 * Ports: the proxy connects to the target from the default source address, so one target
 * address and port accepts at most ~28,000 proxied connections at a time (the ephemeral range
 * 32768–60999); above that connecting fails with EADDRNOTAVAIL, counted in `stats().connectErrors`.
 * Each relayed connection also holds two file descriptors, so under this machine's limit of 20,000
 * open files per process one proxy process relays at most about 9,900 connections; run several
 * proxies (each its own process and port) for more.
 *
 * Cost: about 30 µs of CPU per relayed chunk (a read, a write and a share of a timer); measured
 * here, 1,000 connections × 10 small messages/s through `wan` kept the proxy process at ~31 % of
 * one core.
 *
 * Threading: everything runs on the caller's event loop. For honest CPU accounting run it in
 * its own process (load/proxy-main.ts).
 */
import net from 'node:net';
import { nowUs } from '../servers/wire.ts';

export interface LatencyProxyOptions {
  targetHost: string;
  targetPort: number;
  /** address to listen on; 127.0.0.1 by default */
  host?: string;
  /** port to listen on; 0 (any free port) by default */
  port?: number;
  /** one-way delay added to each direction, ms */
  delayMs: number;
  /** jitter, ms: each chunk's delay is drawn uniformly from delayMs ± jitterMs (clipped at 0) */
  jitterMs?: number;
  /** per direction per connection; unlimited when absent */
  bandwidthBytesPerS?: number;
  /** backpressure bound per direction per connection, bytes; 1 MiB by default */
  maxQueuedBytes?: number;
  /** uniform [0, 1) source for jitter; Math.random by default (inject for reproducible tests) */
  random?: () => number;
}

export interface LatencyProxyStats {
  /** connections accepted since start */
  connections: number;
  /** connections currently relayed */
  open: number;
  /** bytes released towards the target / towards the clients */
  bytesUp: number;
  bytesDown: number;
  /** bytes held in the proxy's delay queues now, and at most so far (all connections) */
  queuedBytes: number;
  maxQueuedBytes: number;
  /** connections to the target that failed (refused, EADDRNOTAVAIL when out of ports, …) */
  connectErrors: number;
  /** longest time any chunk spent inside the proxy, ms (delay + jitter + serialisation + lateness) */
  maxQueueDelayMs?: number;
  /**
   * largest lateness of a release against its scheduled time, ms: a few ms means the proxy kept up;
   * tens of ms mean its event loop was saturated and the run's latencies are inflated by it.
   */
  maxLatenessMs?: number;
}

export interface LatencyProxy {
  /** `http://HOST:PORT` of the listener */
  url: string;
  port: number;
  /** Closes the listener and every relayed connection. Async, idempotent. */
  close(): Promise<void>;
  /** Stop every byte, both ways, for `ms` (connections stay open); returns when it ends (µs). */
  blackhole(ms: number): number;
  stats(): LatencyProxyStats;
}

/**
 * A release within this many µs of being due goes out when a timer fires rather than waiting for
 * another one (a timer is ms-grained: waiting would cost a whole extra millisecond).
 */
export const RELEASE_TOLERANCE_US = 1000;
const MIN_TIMER_MS = 1;
const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

interface Entry {
  /** null: the FIN */
  chunk: Buffer | null;
  arrivalUs: number;
  releaseUs: number;
}

/** How long after its millisecond boundary a timer callback runs, µs (moving average, shared). */
const timerLateness = { us: 200 };

interface DirectionContext {
  delayUs: number;
  jitterUs: number;
  bytesPerUs: number | undefined;
  maxQueuedBytes: number;
  random: () => number;
  onRelease(bytes: number, arrivalUs: number, releaseUs: number, now: number): void;
  /** bytes entered (+) or left (−) this direction's queue */
  onQueued(deltaBytes: number): void;
  /** blackhole: nothing is released before this time (µs), shared by every direction */
  hold: { untilUs: number };
}

/** One direction of one connection: a FIFO of delayed chunks drained by one timer. */
class DelayedDirection {
  private readonly queue: Entry[] = [];
  private head = 0;
  private queuedBytes = 0;
  private lastReleaseUs = 0;
  private linkFreeUs = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDueUs = 0;
  private paused = false;
  private stopped = false;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly ctx: DirectionContext,
  ) {
    from.on('data', (chunk: Buffer) => this.enqueue(chunk));
    from.on('end', () => this.enqueue(null));
    to.on('drain', () => this.checkFlow());
  }

  private enqueue(chunk: Buffer | null): void {
    if (this.stopped) return;
    const { ctx } = this;
    const arrivalUs = nowUs();
    let sentUs = arrivalUs;
    if (chunk && ctx.bytesPerUs !== undefined) {
      const startUs = Math.max(arrivalUs, this.linkFreeUs);
      this.linkFreeUs = startUs + chunk.length / ctx.bytesPerUs;
      sentUs = this.linkFreeUs;
    }
    const jitter = ctx.jitterUs > 0 ? (ctx.random() * 2 - 1) * ctx.jitterUs : 0;
    const releaseUs = Math.max(sentUs + Math.max(0, ctx.delayUs + jitter), this.lastReleaseUs, ctx.hold.untilUs);
    this.lastReleaseUs = releaseUs;
    this.queue.push({ chunk, arrivalUs, releaseUs });
    if (chunk) {
      this.queuedBytes += chunk.length;
      ctx.onQueued(chunk.length);
    }
    this.checkFlow();
    this.schedule(arrivalUs);
  }

  private schedule(now: number): void {
    if (this.head >= this.queue.length || this.stopped) return;
    const dueUs = this.queue[this.head].releaseUs;
    if (this.timer !== undefined && this.timerDueUs <= dueUs) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    // libuv fires a timer on the first whole millisecond of its clock at or after start + wait,
    // so ask for whole milliseconds and pick the boundary nearest to when the callback should run
    const nowMs = Math.floor(now / 1000);
    const waitMs = Math.max(MIN_TIMER_MS, Math.round((dueUs - timerLateness.us) / 1000) - nowMs);
    this.timerDueUs = dueUs;
    const askedUs = (nowMs + waitMs) * 1000;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const fired = nowUs();
      // learn how late timers fire on this machine (bounded, so one stall cannot poison it)
      const late = Math.min(2000, Math.max(-1000, fired - askedUs));
      timerLateness.us += (late - timerLateness.us) / 16;
      this.release(fired);
    }, waitMs);
  }

  private release(now: number): void {
    const { queue } = this;
    while (this.head < queue.length && queue[this.head].releaseUs <= now + RELEASE_TOLERANCE_US) {
      const e = queue[this.head++];
      if (e.chunk) {
        this.queuedBytes -= e.chunk.length;
        this.ctx.onQueued(-e.chunk.length);
        this.ctx.onRelease(e.chunk.length, e.arrivalUs, e.releaseUs, now);
        if (!this.to.destroyed) this.to.write(e.chunk);
      } else {
        this.ctx.onRelease(0, e.arrivalUs, e.releaseUs, now);
        if (!this.to.destroyed) this.to.end();
      }
    }
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > queue.length) {
      queue.splice(0, this.head);
      this.head = 0;
    }
    this.checkFlow();
    this.schedule(now);
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

  /**
   * Blackhole until `untilUs`: what is queued and what arrives meanwhile is held (as TCP would
   * retransmit it) and released, in order, when the hole closes; the connection stays open.
   */
  holdUntil(untilUs: number): void {
    if (this.stopped) return;
    for (let i = this.head; i < this.queue.length; i++) this.queue[i].releaseUs = Math.max(this.queue[i].releaseUs, untilUs);
    this.lastReleaseUs = Math.max(this.lastReleaseUs, untilUs);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule(nowUs());
  }

  /** Drop what is queued and stop the timer (the connection is gone). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
    this.ctx.onQueued(-this.queuedBytes);
    this.queuedBytes = 0;
  }
}

/** Start a latency proxy listening on `host:port` that relays to `targetHost:targetPort`. */
export async function startLatencyProxy(opts: LatencyProxyOptions): Promise<LatencyProxy> {
  const host = opts.host ?? '127.0.0.1';
  const counters = { connections: 0, open: 0, queuedBytes: 0, maxQueuedBytes: 0, bytesUp: 0, bytesDown: 0, connectErrors: 0, maxQueueDelayUs: -1, maxLatenessUs: -1 };
  const sockets = new Set<net.Socket>();
  const onRelease = (up: boolean) => (bytes: number, arrivalUs: number, releaseUs: number, now: number) => {
    if (up) counters.bytesUp += bytes;
    else counters.bytesDown += bytes;
    counters.maxQueueDelayUs = Math.max(counters.maxQueueDelayUs, now - arrivalUs);
    counters.maxLatenessUs = Math.max(counters.maxLatenessUs, now - releaseUs);
  };
  const onQueued = (delta: number) => {
    counters.queuedBytes += delta;
    if (counters.queuedBytes > counters.maxQueuedBytes) counters.maxQueuedBytes = counters.queuedBytes;
  };
  const base = {
    delayUs: opts.delayMs * 1000,
    jitterUs: (opts.jitterMs ?? 0) * 1000,
    bytesPerUs: opts.bandwidthBytesPerS === undefined ? undefined : opts.bandwidthBytesPerS / 1e6,
    maxQueuedBytes: opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    random: opts.random ?? Math.random,
    onQueued,
    hold: { untilUs: 0 },
  };
  const directions = new Set<DelayedDirection>();

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    counters.connections++;
    counters.open++;
    let closedSides = 0;
    const target = net.connect({ host: opts.targetHost, port: opts.targetPort, allowHalfOpen: true, noDelay: true });
    sockets.add(client);
    sockets.add(target);
    const up = new DelayedDirection(client, target, { ...base, onRelease: onRelease(true) });
    const down = new DelayedDirection(target, client, { ...base, onRelease: onRelease(false) });
    directions.add(up);
    directions.add(down);
    let connected = false;
    target.once('connect', () => { connected = true; });
    const watch = (self: net.Socket, other: net.Socket) => {
      let sawEnd = false;
      self.once('end', () => { sawEnd = true; });
      self.on('error', () => { /* handled on close */ });
      self.once('close', (hadError) => {
        sockets.delete(self);
        if (++closedSides === 2) {
          counters.open--;
          directions.delete(up);
          directions.delete(down);
        }
        if (self === target && !connected) counters.connectErrors++;
        if (hadError || !sawEnd) {
          // an abnormal end on one side resets the other (RST), dropping what is queued
          up.stop();
          down.stop();
          if (!other.destroyed) {
            if (typeof other.resetAndDestroy === 'function' && other.readyState !== 'opening') other.resetAndDestroy();
            else other.destroy();
          }
        }
      });
    };
    watch(client, target);
    watch(target, client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // a ramp of thousands of clients overflows Node's default backlog of 511 (the kernel caps it at somaxconn)
    server.listen({ port: opts.port ?? 0, host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${port}`,
    port,
    blackhole(ms: number) {
      const untilUs = nowUs() + ms * 1000;
      base.hold.untilUs = Math.max(base.hold.untilUs, untilUs);
      for (const d of directions) d.holdUntil(base.hold.untilUs);
      return base.hold.untilUs;
    },
    close() {
      closing ??= (async () => {
        const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        const socketsClosed = [...sockets].map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
        for (const s of sockets) s.destroy();
        await Promise.all([listenerClosed, ...socketsClosed]);
      })();
      return closing;
    },
    stats() {
      const s: LatencyProxyStats = {
        connections: counters.connections,
        open: counters.open,
        bytesUp: counters.bytesUp,
        bytesDown: counters.bytesDown,
        queuedBytes: counters.queuedBytes,
        maxQueuedBytes: counters.maxQueuedBytes,
        connectErrors: counters.connectErrors,
      };
      if (counters.maxQueueDelayUs >= 0) s.maxQueueDelayMs = counters.maxQueueDelayUs / 1000;
      if (counters.maxLatenessUs >= 0) s.maxLatenessMs = Math.max(0, counters.maxLatenessUs) / 1000;
      return s;
    },
  };
}
