/**
 * Server-side counters behind `GET /stats` (core/wire.ts StatsSnapshot). Transports only
 * increment; the snapshot reads socket byte counters, CPU, RSS and event-loop utilization.
 *
 * Semantics:
 * - `bytesWritten` / `bytesRead`: the kernel-facing socket counters (`socket.bytesWritten`,
 *   `socket.bytesRead`) summed over live sockets plus every closed one: headers, framing,
 *   heartbeats and all.
 * - `open[transport]`: open TCP connections whose latest request was for that transport (an SSE
 *   stream, a WebSocket, or a keep-alive connection that last polled).
 * - `streams[transport]`: open push streams (long responses: SSE, HTTP streaming, SSE over HTTP/2),
 *   one per subscription; over HTTP/2 many share one connection, so `open` counts connections and
 *   `streams` what they carry.
 * - `delivered[transport]`: messages written to clients (a poll answer with 3 messages counts 3).
 * - `elu`: event-loop utilization since the previous snapshot (0..1).
 */
import type { Socket } from 'node:net';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { nowUs, type PublishSchedule, type StatsSnapshot, type TransportName } from '../core/wire.ts';

const TAG = Symbol('pushbench.transport');
type Tagged = Socket & { [TAG]?: TransportName };

/**
 * The TCP socket under `socket`: itself, or for a server-side TLS socket the socket the server
 * accepted and wrapped (`_parent`), which {@link ServerStats.sockets} tracks.
 */
export function wireSocket(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
}

function perTransport(names: readonly TransportName[]): Record<TransportName, number> {
  return Object.fromEntries(names.map((t) => [t, 0])) as Record<TransportName, number>;
}

export class ServerStats {
  readonly sockets = new Set<Socket>();
  tcpAccepted = 0;
  httpRequests = 0;
  slowConsumerDrops = 0;
  readonly delivered: Record<TransportName, number>;
  readonly rejected = { connectionCap: 0, badRequest: 0, tooLarge: 0 };
  private readonly open: Record<TransportName, number>;
  private readonly streams: Record<TransportName, number>;
  private closedBytesWritten = 0;
  private closedBytesRead = 0;
  private readonly startedUs = nowUs();
  private elu: EventLoopUtilization = performance.eventLoopUtilization();

  /** `transports`: the names counted apart in `open` and `delivered` (the server's registry) */
  constructor(private readonly transports: readonly TransportName[]) {
    this.delivered = perTransport(transports);
    this.open = perTransport(transports);
    this.streams = perTransport(transports);
  }

  /** Count an open push stream of `transport` until `stream` closes. */
  streamOpened(stream: { once(event: 'close', fn: () => void): unknown }, transport: TransportName): void {
    this.streams[transport]++;
    stream.once('close', () => this.streams[transport]--);
  }

  /** Count a new TCP connection and follow it until it closes. */
  track(socket: Socket): void {
    this.tcpAccepted++;
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.closedBytesWritten += socket.bytesWritten;
      this.closedBytesRead += socket.bytesRead;
    });
  }

  /**
   * Mark `socket` (the one requests arrive on: the TCP socket, or the TLS socket over it) as
   * serving `transport` now (its latest request); it stops counting when it closes.
   */
  tag(socket: Socket, transport: TransportName): void {
    const s = socket as Tagged;
    const prev = s[TAG];
    if (prev === transport || s.destroyed) return;
    if (prev) this.open[prev]--;
    else s.once('close', () => this.open[s[TAG]!]--);
    this.open[transport]++;
    s[TAG] = transport;
  }

  /**
   * The counters now, with the reference publisher's timetable (`schedule`, null without one).
   * `advanceElu` false leaves the ELU baseline where the last /stats left it (a /metrics scrape
   * must not change what the next /stats reports).
   */
  snapshot(epoch: string, topics: number, published: number, schedule: PublishSchedule | null = null, advanceElu = true): StatsSnapshot {
    let bytesWritten = this.closedBytesWritten;
    let bytesRead = this.closedBytesRead;
    for (const s of this.sockets) {
      bytesWritten += s.bytesWritten;
      bytesRead += s.bytesRead;
    }
    const eluNow = performance.eventLoopUtilization();
    const elu = performance.eventLoopUtilization(eluNow, this.elu).utilization;
    if (advanceElu) this.elu = eluNow;
    const cpu = process.cpuUsage();
    const deliveredTotal = this.transports.reduce((a, t) => a + this.delivered[t], 0);
    const now = nowUs();
    return {
      epoch,
      pid: process.pid,
      uptimeS: (now - this.startedUs) / 1e6,
      nowUs: now,
      open: { ...this.open },
      streams: { ...this.streams },
      tcpOpen: this.sockets.size,
      tcpAccepted: this.tcpAccepted,
      httpRequests: this.httpRequests,
      published,
      delivered: { ...this.delivered },
      deliveredTotal,
      bytesWritten,
      bytesRead,
      slowConsumerDrops: this.slowConsumerDrops,
      rejected: { ...this.rejected },
      cpuUs: { user: cpu.user, system: cpu.system },
      rssBytes: process.memoryUsage.rss(),
      heapUsedBytes: process.memoryUsage().heapUsed,
      elu: Number.isFinite(elu) ? elu : 0,
      topics,
      schedule,
    };
  }
}
