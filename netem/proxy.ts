/**
 * The user-space latency proxy: a TCP relay between clients and the target that delays every
 * chunk in each direction by a one-way delay ± jitter, optionally caps bandwidth, and preserves
 * byte order. It stands in for netem, which this kernel lacks.
 *
 * Model, per connection and per direction (client→target "up", target→client "down"):
 * - a chunk that arrives at `a` is serialised onto a virtual link of `bandwidthBytesPerS` (when
 *   set) in pieces of whole segments, about 1 ms of the link each ({@link pieceBytes}): a piece's
 *   transmission starts at max(a, link free) and ends `bytes / bandwidth` later, the next piece's
 *   then, as a link's segments arrive one by one. Without a bandwidth a chunk is one piece. With
 *   `link: 'connection'` (the default) each connection has links of its own; with `'browser'` the
 *   connections from one source address (the generator gives each simulated browser a loopback
 *   address of its own) share one link per direction, so their chunks are transmitted one after
 *   another in arrival order, as a browser's connections share its access link's queue;
 * - a piece is released at max(transmission end + delay + jitter sample, previous release), so a
 *   jitter sample never reorders bytes (the max is what a real FIFO link does too);
 * - jitter is uniform in [-jitterMs, +jitterMs], the sum clipped at 0;
 * - loss (`lossRate` P, netem/loss.ts): each data piece is "lost" with the probability that one
 *   of its segments is, drawn per piece per direction. Nothing is dropped: a lost piece is
 *   released a retransmission delay after its first copy would have been (the RTO or the
 *   tail-loss probe, or sooner when the next piece of its direction reveals the loss), and the
 *   FIFO rule then holds every later piece of that connection and direction behind it — TCP's
 *   head-of-line blocking of one connection. Other connections (a browser's other HTTP/1.1 tabs,
 *   other browsers) are not held, even on a shared link. A chunk is one socket read; a piece is
 *   the proxy's unit of release.
 *
 * Timing: every piece of every connection goes into ONE release schedule of whole-millisecond
 * buckets drained by one timer for the whole proxy (netem/release-schedule.ts): a broadcast that
 * hands the proxy a chunk per connection at once costs an array push per chunk, not a timer.
 * Each piece leaves within about ±0.5 ms of its due time on a quiet machine, never more than 1 ms
 * early. Node's shortest timer is 1 ms, so a delay under about 1 ms (the `lan` profile's 0.5 ms)
 * comes out at about 1.0–1.3 ms.
 *
 * Lateness (release time − due time) is the proxy's own error (a loss's retransmission delay is
 * part of the due time, not lateness): it is what its event loop adds when it has more to do than
 * the time between due chunks. Releases due inside the run's
 * measured window (`measureWindow`) go into an HDR histogram; `stats().lateness` gives its
 * p50/p99/max, which the runner judges (with the proxy's CPU) to decide whether the emulated
 * network was the configured one.
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
 * Cost: nearly all of a relayed chunk's CPU is its socket read and write (the write ~20 µs here,
 * the kernel's loopback path included); the schedule adds an array push and a histogram record.
 * Every run records the proxy's CPU (`proxy.cpuPct`); docs/networks.md gives `npm start`'s figures.
 *
 * Threading: everything runs on the caller's event loop. For honest CPU accounting run it in
 * its own process (netem/proxy-main.ts). One direction of one connection is netem/delayed-direction.ts.
 */
import net from 'node:net';
import { nowUs } from '../core/wire.ts';
import { createHistogram, type Histogram } from '../core/histogram.ts';
import { ReleaseSchedule } from './release-schedule.ts';
import { SEGMENT_BYTES } from './loss.ts';
import { DelayedDirection, type DirectionContext, type Link, type Pending } from './delayed-direction.ts';
import type { LinkMode } from './network.ts';

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
  /** per direction per link; unlimited when absent */
  bandwidthBytesPerS?: number;
  /** a link per connection (default), or one per source address shared by its connections */
  link?: LinkMode;
  /** backpressure bound per direction per connection, bytes; 1 MiB by default */
  maxQueuedBytes?: number;
  /** uniform [0, 1) source for jitter; Math.random by default (inject for reproducible tests) */
  random?: () => number;
  /** per-segment loss probability (0 ≤ P < 1): a chunk is held for a retransmission when one of its segments is lost (netem/loss.ts); 0 by default */
  lossRate?: number;
  /** with `lossRate`: losses come in runs of this many segments on average on one link (netem/loss.ts); absent: independent */
  lossBurst?: number;
  /**
   * uniform [0, 1) source for losses (a chunk is lost when it draws below its loss probability);
   * `random` by default. It is handed the chunk, so a test can lose a chosen one.
   */
  lossRandom?: (chunk: Buffer) => number;
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
  /**
   * Lateness of the releases due inside the window set by `measureWindow` (the whole life of the
   * proxy when none was set), ms: how far the proxy's own work pushed chunks past their due time.
   * Absent when nothing was released in the window.
   */
  lateness?: ProxyLateness;
  /** with a loss rate: pieces lost (netem/loss.ts; the field keeps its first name) over the proxy's life, and of the releases due in the measured window */
  lostChunks?: { total: number; inWindow: number };
}

/** The distribution of release lateness (release time − due time, clipped at 0), ms. */
export interface ProxyLateness {
  releases: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LatencyProxy {
  /** `http://HOST:PORT` of the listener */
  url: string;
  port: number;
  /** Closes the listener and every relayed connection. Async, idempotent. */
  close(): Promise<void>;
  /** Stop every byte, both ways, for `ms` (connections stay open); returns when it ends (µs). */
  blackhole(ms: number): number;
  /**
   * Judge lateness only for releases due in [fromUs, toUs] (µs on the nowUs clock): the run's
   * measured window, not the connection burst of its warm-up. Resets the lateness histogram.
   */
  measureWindow(fromUs: number, toUs: number): void;
  stats(): LatencyProxyStats;
}

const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/** What the proxy counts over its life; `-1` where nothing was released yet. */
interface ProxyCounters {
  connections: number;
  open: number;
  queuedBytes: number;
  maxQueuedBytes: number;
  bytesUp: number;
  bytesDown: number;
  connectErrors: number;
  maxQueueDelayUs: number;
  maxLatenessUs: number;
  lostChunks: number;
  lostInWindow: number;
}

/** Start a latency proxy listening on `host:port` that relays to `targetHost:targetPort`. */
export async function startLatencyProxy(opts: LatencyProxyOptions): Promise<LatencyProxy> {
  const host = opts.host ?? '127.0.0.1';
  const counters: ProxyCounters = { connections: 0, open: 0, queuedBytes: 0, maxQueuedBytes: 0, bytesUp: 0, bytesDown: 0, connectErrors: 0, maxQueueDelayUs: -1, maxLatenessUs: -1, lostChunks: 0, lostInWindow: 0 };
  const sockets = new Set<net.Socket>();
  const hold = { untilUs: 0 };
  // Lateness inside the measured window only: the connection burst before it is not the run's.
  const window = { fromUs: -Infinity, toUs: Infinity };
  const lateness = createHistogram();
  const release = (p: Pending, now: number) => {
    const { dir } = p;
    if (dir.stopped || p.cancelled) return;
    const bytes = p.chunk ? p.chunk.length : 0;
    if (dir.ctx.up) counters.bytesUp += bytes;
    else counters.bytesDown += bytes;
    const dueUs = Math.max(p.releaseUs, hold.untilUs);
    const lateUs = now - dueUs;
    if (now - p.arrivalUs > counters.maxQueueDelayUs) counters.maxQueueDelayUs = now - p.arrivalUs;
    if (lateUs > counters.maxLatenessUs) counters.maxLatenessUs = lateUs;
    if (dueUs >= window.fromUs && dueUs <= window.toUs) {
      lateness.recordValue(lateUs > 0 ? Math.round(lateUs) : 0);
      if (p.lost) counters.lostInWindow++;
    }
    dir.write(p);
  };
  const schedule = new ReleaseSchedule<Pending>(release, hold);
  const onQueued = (delta: number) => {
    counters.queuedBytes += delta;
    if (counters.queuedBytes > counters.maxQueuedBytes) counters.maxQueuedBytes = counters.queuedBytes;
  };
  const onLost = () => { counters.lostChunks++; };
  const { upCtx, downCtx } = directionContexts(opts, schedule, { onQueued, onLost }, hold);

  const links = opts.link === 'browser' ? new BrowserLinks() : null;
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => relay(client, opts, counters, sockets, upCtx, downCtx, links));
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
      hold.untilUs = Math.max(hold.untilUs, nowUs() + ms * 1000);
      schedule.rearm();
      return hold.untilUs;
    },
    measureWindow(fromUs: number, toUs: number) {
      window.fromUs = fromUs;
      window.toUs = toUs;
      lateness.reset();
      counters.lostInWindow = 0;
    },
    close() {
      closing ??= (async () => {
        schedule.close();
        const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        const socketsClosed = [...sockets].map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
        for (const s of sockets) s.destroy();
        await Promise.all([listenerClosed, ...socketsClosed]);
      })();
      return closing;
    },
    stats: () => proxyStats(counters, lateness, (opts.lossRate ?? 0) > 0),
  };
}

/**
 * The piece a capped link transmits and releases at a time: whole segments, as many as the link
 * sends in a millisecond (at least one) — the release schedule's grain, so finer pieces would add
 * writes and no precision.
 */
export function pieceBytes(bytesPerS: number): number {
  return SEGMENT_BYTES * Math.max(1, Math.floor(bytesPerS / 1000 / SEGMENT_BYTES));
}

/** The two directions' settings (the same but for `up`), sharing the schedule, the queue and loss counts and the hold. */
function directionContexts(opts: LatencyProxyOptions, schedule: ReleaseSchedule<Pending>, on: Pick<DirectionContext, 'onQueued' | 'onLost'>, hold: { untilUs: number }): { upCtx: DirectionContext; downCtx: DirectionContext } {
  const random = opts.random ?? Math.random;
  const base = {
    delayUs: opts.delayMs * 1000,
    jitterUs: (opts.jitterMs ?? 0) * 1000,
    bytesPerUs: opts.bandwidthBytesPerS === undefined ? undefined : opts.bandwidthBytesPerS / 1e6,
    pieceBytes: opts.bandwidthBytesPerS === undefined ? undefined : pieceBytes(opts.bandwidthBytesPerS),
    maxQueuedBytes: opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    random,
    lossRate: opts.lossRate ?? 0,
    lossBurst: opts.lossBurst,
    lossRandom: opts.lossRandom ?? random,
    schedule,
    ...on,
    hold,
  };
  return { upCtx: { ...base, up: true }, downCtx: { ...base, up: false } };
}

/**
 * Relay an accepted `client` to the target through two delayed directions. An abnormal end of
 * either side (an error, or a close without FIN) drops both queues and resets the other side.
 */
function relay(client: net.Socket, opts: LatencyProxyOptions, counters: ProxyCounters, sockets: Set<net.Socket>, upCtx: DirectionContext, downCtx: DirectionContext, links: BrowserLinks | null): void {
  counters.connections++;
  counters.open++;
  let closedSides = 0;
  const target = net.connect({ host: opts.targetHost, port: opts.targetPort, allowHalfOpen: true, noDelay: true });
  sockets.add(client);
  sockets.add(target);
  const browser = client.remoteAddress ?? '';
  const shared = links?.take(browser);
  const up = new DelayedDirection(client, target, upCtx, shared?.up);
  const down = new DelayedDirection(target, client, downCtx, shared?.down);
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
        links?.give(browser);
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
}

/**
 * `link: 'browser'`: one link per direction per source address, shared by the connections open
 * from it. It goes when its last connection closes (whose chunks were released or dropped by
 * then), so a browser that reconnects later starts on an idle link.
 */
class BrowserLinks {
  private readonly byAddress = new Map<string, { up: Link; down: Link; users: number }>();

  take(address: string): { up: Link; down: Link } {
    let l = this.byAddress.get(address);
    if (l === undefined) {
      l = { up: { freeUs: 0 }, down: { freeUs: 0 }, users: 0 };
      this.byAddress.set(address, l);
    }
    l.users++;
    return l;
  }

  give(address: string): void {
    const l = this.byAddress.get(address);
    if (l !== undefined && --l.users === 0) this.byAddress.delete(address);
  }
}

/** The proxy's figures now (lateness: of the releases due in the measured window). */
function proxyStats(counters: ProxyCounters, lateness: Histogram, lossy: boolean): LatencyProxyStats {
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
  if (lossy) s.lostChunks = { total: counters.lostChunks, inWindow: counters.lostInWindow };
  if (counters.maxLatenessUs >= 0) s.maxLatenessMs = Math.max(0, counters.maxLatenessUs) / 1000;
  if (lateness.totalCount > 0) {
    const ms = (us: number) => us / 1000;
    s.lateness = {
      releases: lateness.totalCount,
      p50Ms: ms(lateness.getValueAtPercentile(50)),
      p99Ms: ms(lateness.getValueAtPercentile(99)),
      maxMs: ms(lateness.maxValue),
    };
  }
  return s;
}
