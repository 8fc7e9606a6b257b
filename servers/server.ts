/**
 * The reference server: one hub, the four transports and the service endpoints on one HTTP port.
 *
 * | endpoint | answer |
 * |---|---|
 * | `GET /poll`, `/long-poll`, `/sse`, `/ws` | the transports (servers/transports/) |
 * | `POST /publish?topic=T` | body PublishRequest → `{"seq":n}` |
 * | `GET /stats` | StatsSnapshot (servers/stats.ts states the semantics) |
 * | `GET /metrics` | the same and more as Prometheus text (servers/metrics.ts) |
 * | `GET /healthz` | `{"ok":true,"epoch":"…"}` |
 * | `GET /time` | `{"nowUs":<µs>}` for clock offset estimation |
 *
 * Every refusal is a 4xx/5xx with `{"error":{"code":"…","message":"…"}}`; no request can crash
 * the process (every handler is guarded, client errors are answered on the raw socket).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PushbenchError, validationError } from '../core/errors.ts';
import { Hub } from './hub.ts';
import { metricsRoute } from './metrics.ts';
import { HttpError, rejectSocket, sendError, sendJson, splitTarget, type RequestContext } from './http.ts';
import { ConnectionCap, readBody, SendBudget } from './limits.ts';
import { DEFAULT_SERVER_OPTIONS, validateServerOptions, type ServerOptions } from './options.ts';
import { Publisher } from './publisher.ts';
import { ServerStats } from './stats.ts';
import { SERVER_TRANSPORT_LIST, SERVER_TRANSPORTS } from './transports/index.ts';
import { parsePublishRequest } from './upstream.ts';
import { nowUs, type StatsSnapshot } from '../core/wire.ts';

export { DEFAULT_SERVER_OPTIONS, validateServerOptions, type ServerOptions } from './options.ts';

export interface RunningServer {
  /** `http://HOST:PORT` with the real port */
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

/** A fault the admin endpoints inject: block the event loop, or drop a share of the connections. */
export type AdminAction = { kind: 'stall'; ms: number } | { kind: 'cut'; fraction: number };

interface Route {
  method: 'GET' | 'POST';
  handle(ctx: RequestContext): void | Promise<void>;
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
  admin?: (action: AdminAction, spare: Socket) => Promise<number>;
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
  const snapshot = () => stats.snapshot(hub.epoch, hub.topicCount, hub.published);

  const routes = new Map<string, Route>();
  for (const t of transports) routes.set(t.path, { method: 'GET', handle: (ctx) => t.handler.handle(ctx) });
  routes.set('/publish', {
    method: 'POST',
    async handle({ req, res, query }) {
      const body = await readBody(req, options.maxBodyBytes);
      const p = parsePublishRequest(body, query.get('topic') ?? undefined);
      const seq = await hub.publishUpstream(p.topic, p.data, p.ts);
      sendJson(res, 200, `{"seq":${seq}}`);
    },
  });
  const statsOf = parts.stats;
  routes.set('/stats', {
    method: 'GET',
    handle: statsOf
      ? async ({ res }) => sendJson(res, 200, JSON.stringify(await statsOf()))
      : ({ res }) => sendJson(res, 200, JSON.stringify(snapshot())),
  });
  routes.set('/metrics', metricsRoute({ stats, hub, summed: statsOf }));
  routes.set('/healthz', { method: 'GET', handle: ({ res }) => sendJson(res, 200, JSON.stringify({ ok: true, epoch: hub.epoch })) });
  routes.set('/time', { method: 'GET', handle: ({ res }) => sendJson(res, 200, `{"nowUs":${Math.round(nowUs())}}`) });
  const inject = (a: AdminAction, spare?: Socket): number => {
    if (a.kind === 'stall') {
      // Block the event loop once the current callback (the answer) is done: every connection
      // stalls, none closes.
      setImmediate(() => {
        const until = Date.now() + a.ms;
        while (Date.now() < until);
      });
      return 1;
    }
    const victims = [...stats.sockets].filter((x) => x !== spare);
    const n = Math.round(victims.length * a.fraction);
    // Every k-th socket, so the cut spreads over topics and source addresses alike.
    const step = victims.length / Math.max(1, n);
    for (let i = 0; i < n; i++) victims[Math.floor(i * step)].destroy();
    return n;
  };
  const admin = parts.admin ?? ((a: AdminAction, spare: Socket) => Promise.resolve(inject(a, spare)));
  if (options.admin) {
    // Fault injection for `run --fault` (issue 8): off unless asked for.
    routes.set('/admin/stall', {
      method: 'POST',
      async handle({ req, res, query }) {
        const ms = Number(query.get('ms'));
        if (!(ms > 0 && ms <= 60_000)) throw new HttpError(400, 'bad_stall', 'ms must be in (0, 60000]');
        const processes = await admin({ kind: 'stall', ms }, req.socket);
        sendJson(res, 200, `{"stallMs":${ms},"processes":${processes}}`);
      },
    });
    routes.set('/admin/cut', {
      method: 'POST',
      async handle({ req, res, query }) {
        const fraction = Number(query.get('fraction'));
        if (!(fraction > 0 && fraction <= 1)) throw new HttpError(400, 'bad_fraction', 'fraction must be in (0, 1]');
        const n = await admin({ kind: 'cut', fraction }, req.socket);
        sendJson(res, 200, `{"cut":${n}}`);
      },
    });
  }
  const upgrades = new Map(transports.filter((t) => t.handler.upgrade).map((t) => [t.path, t.handler]));

  /** Answer a refusal and count it; never throws. */
  function refuse(res: ServerResponse, err: unknown): void {
    const e = err instanceof HttpError ? err : new HttpError(500, 'internal', 'the server failed on this request');
    countRefusal(e);
    // After 413/503 the rest of the request is unread or unwanted: close instead of draining it.
    const close = e.status === 413 || e.status === 503;
    sendError(res, e, close ? { connection: 'close' } : {});
  }

  function countRefusal(e: HttpError): void {
    if (e.status === 413) stats.rejected.tooLarge++;
    else if (e.status >= 400 && e.status < 500) stats.rejected.badRequest++;
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    stats.httpRequests++;
    req.socket.setTimeout(0);
    try {
      cap.check(req.socket);
      const { path, query } = splitTarget(req.url);
      const route = routes.get(path);
      if (!route) throw new HttpError(404, 'not_found', `no endpoint ${path}`);
      if (req.method !== route.method) {
        res.setHeader('allow', route.method);
        throw new HttpError(405, 'method_not_allowed', `${path} takes ${route.method}`);
      }
      const done = route.handle({ req, res, query });
      if (done) done.catch((err: unknown) => refuse(res, err));
    } catch (err) {
      refuse(res, err);
    }
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    stats.httpRequests++;
    (socket as Socket).setTimeout(0);
    socket.on('error', () => {});
    try {
      cap.check(socket as Socket);
      const { path, query } = splitTarget(req.url);
      const t = upgrades.get(path);
      if (!t?.upgrade) throw new HttpError(404, 'not_found', `no WebSocket endpoint ${path}`);
      t.upgrade(req, socket as Socket, head, query);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'internal', 'the server failed on this upgrade');
      countRefusal(e);
      rejectSocket(socket, e);
    }
  }

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.idleTimeoutMs,
      // Node checks header/request deadlines on this period (30 s by default): keep it finer.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(options.headersTimeoutMs / 4))),
      noDelay: true,
    },
    onRequest,
  );
  server.on('connection', (socket: Socket) => {
    stats.track(socket);
    cap.admit(socket);
    socket.on('error', () => {});
    // Node's header deadline starts at the first byte; a connection that sends nothing at all
    // would hold its slot forever. Node destroys a socket on 'timeout'; a request clears it.
    socket.setTimeout(options.headersTimeoutMs);
  });
  server.on('upgrade', onUpgrade);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const e =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new HttpError(408, 'request_timeout', 'the request headers did not arrive in time')
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? new HttpError(431, 'headers_too_large', 'the request headers are too large')
          : new HttpError(400, 'bad_request', 'the request is not valid HTTP/1.1');
    countRefusal(e);
    rejectSocket(socket, e);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new PushbenchError('PB_SERVER_START', `cannot listen on ${options.host}:${options.port}: ${err.message}`));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  publisher.start();

  const { port } = server.address() as AddressInfo;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;

  async function closeAll(): Promise<void> {
    publisher.stop();
    hub.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(transports.map((t) => t.handler.close()));
    server.closeIdleConnections();
    const force = setTimeout(() => {
      server.closeAllConnections();
      for (const s of stats.sockets) s.destroy();
    }, CLOSE_GRACE_MS);
    await closed;
    for (const s of stats.sockets) s.destroy();
    clearTimeout(force);
  }

  return {
    url: `http://${urlHost}:${port}`,
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
