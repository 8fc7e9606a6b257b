/**
 * The reference server: one hub, the transports and the service endpoints on one HTTP port.
 * Routes and request dispatch are servers/router.ts; the `--admin` fault endpoints servers/admin.ts.
 *
 * | endpoint | answer |
 * |---|---|
 * | `GET /poll`, `/long-poll`, `/sse`, `/ws`, `/stream` | the transports (servers/transports/) |
 * | `POST /publish?topic=T` | body PublishRequest → `{"seq":n}` |
 * | `GET /stats` | StatsSnapshot (servers/stats.ts states the semantics) |
 * | `GET /metrics` | the same and more as Prometheus text (servers/metrics.ts) |
 * | `GET /healthz` | `{"ok":true,"epoch":"…"}` |
 * | `GET /time` | `{"nowUs":<µs>}` for clock offset estimation |
 *
 * Every refusal is a 4xx/5xx with `{"error":{"code":"…","message":"…"}}`; no request can crash
 * the process (every handler is guarded, client errors are answered on the raw socket).
 */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { PushbenchError, validationError } from '../core/errors.ts';
import { readTlsMaterial, type TlsMaterial } from '../core/tls.ts';
import type { TlsOptions } from 'node:tls';
import { ALPN_PROTOCOLS, attachHttp2 } from './h2.ts';
import { adminRoutes, injectHere, type AdminAction, type AdminInjector } from './admin.ts';
import { Hub } from './hub.ts';
import { ConnectionCap, SendBudget } from './limits.ts';
import { metricsRoute } from './metrics.ts';
import { DEFAULT_SERVER_OPTIONS, validateServerOptions, type ServerOptions } from './options.ts';
import { Publisher } from './publisher.ts';
import { requestHandlers, routeTable, type RequestHandlers } from './router.ts';
import { ServerStats } from './stats.ts';
import { SERVER_TRANSPORT_LIST, SERVER_TRANSPORTS, type TransportHandler } from './transports/index.ts';
import type { StatsSnapshot } from '../core/wire.ts';

export { DEFAULT_SERVER_OPTIONS, validateServerOptions, type ServerOptions } from './options.ts';
export type { AdminAction } from './admin.ts';

export interface RunningServer {
  /** `http://HOST:PORT` (`https://` with TLS) with the real port */
  url: string;
  host: string;
  port: number;
  hub: Hub;
  /** End every stream, close every connection, stop publishing. Async, idempotent. */
  close(): Promise<void>;
  stats(): StatsSnapshot;
  /**
   * Inject `action` into this process (what the admin endpoints do, also without `--admin`):
   * returns the connections cut (a stall: 1). `spare` is never cut (the asking request's socket).
   */
  inject(action: AdminAction, spare?: Socket): number;
}

/** How long close() waits for connections to end on their own before destroying them, ms. */
const CLOSE_GRACE_MS = 1500;

/** What a cluster worker (servers/cluster.ts) puts in place of a single process's own parts. */
export interface ServerParts {
  /** the hub to serve (default: a new one from the options) */
  hub?: Hub;
  /** the answer of `GET /stats` (default: this process's counters) */
  stats?: () => Promise<StatsSnapshot>;
  /**
   * How the admin endpoints inject a fault (default: into this process only). A cluster worker
   * has every process inject it; resolves with the connections cut over all of them (a stall:
   * the processes stalled).
   */
  admin?: AdminInjector;
}

/**
 * Start a reference server. Options are validated first (every problem at once, PB_BAD_OPTION);
 * a listen failure rejects with PB_SERVER_START.
 */
export async function startServer(partial: Partial<ServerOptions> = {}, parts: ServerParts = {}): Promise<RunningServer> {
  const options: Readonly<ServerOptions> = Object.freeze({ ...DEFAULT_SERVER_OPTIONS, ...partial });
  const problems = validateServerOptions(options);
  if (problems.length > 0) throw validationError(problems, 'invalid server options');

  const hub = parts.hub ?? new Hub({ ringSize: options.ringSize, delayMs: options.delayMs });
  const stats = new ServerStats(SERVER_TRANSPORTS);
  const cap = new ConnectionCap(options.maxConnections, stats);
  const budget = new SendBudget(options.sendBufferBytes, stats);
  const transports = SERVER_TRANSPORT_LIST.map((t) => ({ path: t.path, handler: t.create({ hub, stats, budget, options }) }));
  const publisher = new Publisher(hub, options);
  const snapshot = () => stats.snapshot(hub.epoch, hub.topicCount, hub.published, publisher.schedule());

  const routes = routeTable({ hub, options, transports, snapshot, statsOf: parts.stats });
  routes.set('/metrics', metricsRoute({ stats, hub, summed: parts.stats }));
  const inject = (a: AdminAction, spare?: Socket): number => injectHere(stats.sockets, a, spare);
  const admin = parts.admin ?? ((a: AdminAction, spare: Socket) => Promise.resolve(inject(a, spare)));
  if (options.admin) for (const [path, route] of adminRoutes(admin)) routes.set(path, route);
  const upgrades = new Map(transports.filter((t) => t.handler.upgrade).map((t) => [t.path, t.handler]));

  const { server, h2 } = httpServer(options, stats, cap, requestHandlers(stats, cap, routes, upgrades));
  await listen(server, options);
  publisher.start();

  const { port } = server.address() as AddressInfo;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;

  async function closeAll(): Promise<void> {
    publisher.stop();
    hub.close();
    await closeServer(server, transports.map((t) => t.handler), stats, h2);
  }

  return {
    url: `${options.tlsDir ? 'https' : 'http'}://${urlHost}:${port}`,
    host: options.host,
    port,
    hub,
    stats: snapshot,
    inject,
    close() {
      closing ??= closeAll();
      return closing;
    },
  };
}

/**
 * Node's HTTP server (HTTPS with `options.tlsDir`, HTTP/2 beside HTTP/1.1 by ALPN: servers/h2.ts)
 * with the limits of `options`, every connection tracked and capped. Counters and cuts follow the
 * TCP socket (its bytes are the wire's); with TLS the cap marks and the deadline go on the TLS
 * socket, which is what requests arrive on.
 */
function httpServer(options: Readonly<ServerOptions>, stats: ServerStats, cap: ConnectionCap, handlers: RequestHandlers): { server: Server; h2?: { close(): void } } {
  const limits = {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.idleTimeoutMs,
    // Node checks header/request deadlines on this period (30 s by default): keep it finer.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(options.headersTimeoutMs / 4))),
    noDelay: true,
  };
  const tls = options.tlsDir ? readTlsMaterial(options.tlsDir) : null;
  const server: Server = tls
    ? createHttpsServer({ ...limits, ...tlsOptions(tls), handshakeTimeout: options.headersTimeoutMs }, handlers.onRequest)
    : createServer(limits, handlers.onRequest);
  server.on('connection', (socket: Socket) => {
    stats.track(socket);
    socket.on('error', () => {});
    if (!tls) admitted(socket, cap, options);
  });
  server.on('upgrade', handlers.onUpgrade);
  server.on('clientError', handlers.onClientError);
  if (!tls) return { server };
  // the compatibility API's request and response stand in for HTTP/1.1's (servers/h2.ts)
  const onRequest = handlers.onRequest as unknown as Parameters<typeof attachHttp2>[2];
  const h2 = attachHttp2(server as HttpsServer, (socket) => {
    // every record this connection writes holds at most this much: a receiver reads none of a record before its last byte
    if (options.tlsRecordBytes) socket.setMaxSendFragment(options.tlsRecordBytes);
    admitted(socket, cap, options);
  }, onRequest);
  return { server, h2 };
}

/**
 * The server's TLS settings. The session context is fixed (Node's default hashes the process's
 * argv, which differs between a server and its restart on a given port): with the shared ticket
 * keys, every process serving this material resumes the sessions any of them issued.
 */
function tlsOptions(tls: TlsMaterial): TlsOptions {
  return { key: tls.key, cert: tls.cert, ticketKeys: tls.ticketKeys, sessionIdContext: 'pushbench', minVersion: 'TLSv1.2', ALPNProtocols: [...ALPN_PROTOCOLS] };
}

/** A connection requests arrive on: capped, and given its header deadline. */
function admitted(socket: Socket, cap: ConnectionCap, options: Readonly<ServerOptions>): void {
  cap.admit(socket);
  // Node's header deadline starts at the first byte; a connection that sends nothing at all
  // would hold its slot forever. Node destroys a socket on 'timeout'; a request clears it.
  socket.setTimeout(options.headersTimeoutMs);
}

/** Listen on `options.host:port`; a failure rejects with PB_SERVER_START. */
function listen(server: Server, options: Readonly<ServerOptions>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new PushbenchError('PB_SERVER_START', `cannot listen on ${options.host}:${options.port}: ${err.message}`));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Stop listening, have every transport end its streams, close idle connections, and destroy
 * what is still open after CLOSE_GRACE_MS (then every tracked socket once the server closed).
 */
async function closeServer(server: Server, handlers: readonly TransportHandler[], stats: ServerStats, h2?: { close(): void }): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await Promise.all(handlers.map((h) => h.close()));
  h2?.close();
  server.closeIdleConnections();
  const force = setTimeout(() => {
    server.closeAllConnections();
    for (const s of stats.sockets) s.destroy();
  }, CLOSE_GRACE_MS);
  await closed;
  for (const s of stats.sockets) s.destroy();
  clearTimeout(force);
}
