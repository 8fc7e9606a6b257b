/**
 * The reference server's router: the table of its service routes and the three handlers Node's
 * HTTP server calls (requests, upgrades, client errors). A route is found by path alone; a wrong
 * method is a 405 with `allow`. Every refusal is answered with a JSON error and counted in
 * ServerStats; no handler here throws to Node.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpError, rejectSocket, sendError, sendJson, splitTarget, type RequestContext } from './http.ts';
import type { Hub } from './hub.ts';
import { readBody, type ConnectionCap } from './limits.ts';
import type { ServerOptions } from './options.ts';
import type { ServerStats } from './stats.ts';
import type { TransportHandler } from './transports/index.ts';
import { parsePublishRequest } from './upstream.ts';
import { nowUs, type StatsSnapshot } from '../core/wire.ts';

export interface Route {
  method: 'GET' | 'POST';
  handle(ctx: RequestContext): void | Promise<void>;
}

/** What the route table serves. */
export interface RouteDeps {
  hub: Hub;
  options: Readonly<ServerOptions>;
  transports: readonly { path: string; handler: TransportHandler }[];
  /** this process's own `GET /stats` answer */
  snapshot: () => StatsSnapshot;
  /** the answer of `GET /stats` in its place (a cluster worker's sum), when given */
  statsOf?: () => Promise<StatsSnapshot>;
}

/** The transports' paths (GET), `POST /publish`, `GET /stats`, `/healthz` and `/time`. */
export function routeTable({ hub, options, transports, snapshot, statsOf }: RouteDeps): Map<string, Route> {
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
  routes.set('/stats', {
    method: 'GET',
    handle: statsOf
      ? async ({ res }) => sendJson(res, 200, JSON.stringify(await statsOf()))
      : ({ res }) => sendJson(res, 200, JSON.stringify(snapshot())),
  });
  routes.set('/healthz', { method: 'GET', handle: ({ res }) => sendJson(res, 200, JSON.stringify({ ok: true, epoch: hub.epoch })) });
  routes.set('/time', { method: 'GET', handle: ({ res }) => sendJson(res, 200, `{"nowUs":${Math.round(nowUs())}}`) });
  return routes;
}

/** The handlers of Node's `request`, `upgrade` and `clientError` events. */
export interface RequestHandlers {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  onClientError(err: NodeJS.ErrnoException, socket: Duplex): void;
}

/**
 * Dispatch requests to `routes` and upgrades to `upgrades` (by path), after the connection cap's
 * check; refusals are answered and counted in `stats`.
 */
export function requestHandlers(stats: ServerStats, cap: ConnectionCap, routes: ReadonlyMap<string, Route>, upgrades: ReadonlyMap<string, TransportHandler>): RequestHandlers {
  /** Answer a refusal and count it; never throws. */
  function refuse(res: ServerResponse, err: unknown): void {
    const e = err instanceof HttpError ? err : new HttpError(500, 'internal', 'the server failed on this request');
    countRefusal(e);
    // After 413/503 the rest of the request is unread or unwanted: close instead of draining it
    // (HTTP/1.1 only: HTTP/2 forbids the header, and its stream ends with the answer).
    const close = (e.status === 413 || e.status === 503) && res.req?.httpVersionMajor !== 2;
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

  function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const e =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new HttpError(408, 'request_timeout', 'the request headers did not arrive in time')
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? new HttpError(431, 'headers_too_large', 'the request headers are too large')
          : new HttpError(400, 'bad_request', 'the request is not valid HTTP/1.1');
    countRefusal(e);
    rejectSocket(socket, e);
  }

  return { onRequest, onUpgrade, onClientError };
}
