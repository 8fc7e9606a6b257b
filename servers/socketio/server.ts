/**
 * The reference Socket.IO server (the `socket.io` package itself, not pushbench's hub): what the
 * generator's Socket.IO transports are tested and ranked against (docs/socketio.md).
 *
 * - A client joins the room its Socket.IO CONNECT names in `auth.topic` (on the namespace given);
 *   a recovered session keeps its rooms, so the join is repeated harmlessly.
 * - `POST /pushbench/publish` with `{"topic": T, "data": D}` emits `event` with D to room T of the
 *   namespace (204): the HTTP publish hook pushbench's publisher calls (the same contract a user's
 *   server implements in a few lines).
 * - `POST /admin/cut?fraction=F` drops that share of the namespace's Engine.IO connections
 *   abruptly (a WebSocket's TCP socket destroyed; a polling session's pending poll destroyed, or
 *   the session closed without a close packet): the `cut-connections` fault's hook. Answers
 *   `{"cut": n}`. The publisher's HTTP connections are never cut.
 * - `GET /healthz` answers 204 (the generator's reachability check).
 *
 * Connection-state recovery (`recoveryMs` > 0): socket.io keeps a cut session's rooms and missed
 * packets that long, and a client that CONNECTs again with its `pid` and last `offset` gets them.
 */
import http from 'node:http';
import type net from 'node:net';
import { Server, type Namespace } from 'socket.io';

export interface SocketioServerOptions {
  /** 0: any free port */
  port: number;
  host: string;
  /** the namespace clients connect to, e.g. `/` or `/chat` */
  namespace: string;
  /** the event each publish is emitted as */
  event: string;
  /** connection-state recovery window, ms; 0 leaves recovery off */
  recoveryMs: number;
  /** Engine.IO heartbeat: the server pings every pingIntervalMs and waits pingTimeoutMs for the pong */
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

export const SOCKETIO_DEFAULTS: Readonly<SocketioServerOptions> = Object.freeze({
  port: 0, host: '127.0.0.1', namespace: '/', event: 'message', recoveryMs: 0, pingIntervalMs: 25_000, pingTimeoutMs: 20_000,
});

/** The path of the HTTP publish hook (docs/socketio.md): the one load/target/socketio.ts posts to (servers/ does not import load/; they meet over HTTP). */
export const PUBLISH_PATH = '/pushbench/publish';

export interface SocketioServer {
  /** `http://host:port` */
  readonly url: string;
  /** Stop accepting, close every session; idempotent. */
  close(): Promise<void>;
}

/** Start the server; resolves once it listens. */
export async function startSocketioServer(given: Partial<SocketioServerOptions> = {}): Promise<SocketioServer> {
  const o = { ...SOCKETIO_DEFAULTS, ...given };
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    serveClient: false,
    pingInterval: o.pingIntervalMs,
    pingTimeout: o.pingTimeoutMs,
    ...(o.recoveryMs > 0 ? { connectionStateRecovery: { maxDisconnectionDuration: o.recoveryMs, skipMiddlewares: true } } : {}),
  });
  const nsp = io.of(o.namespace);
  nsp.on('connection', (socket) => {
    const topic: unknown = socket.handshake.auth?.topic;
    if (typeof topic === 'string' && topic !== '') void socket.join(topic);
  });
  // socket.io answers its own path; everything else comes here
  httpServer.on('request', (req, res) => {
    if (req.url?.startsWith('/socket.io/')) return;
    route(req, res, nsp, o.event);
  });
  const sockets = new Set<net.Socket>();
  httpServer.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(o.port, o.host, () => resolve());
  });
  const { port } = httpServer.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${o.host}:${port}`,
    close: () => (closing ??= new Promise<void>((resolve) => {
      void io.close(() => resolve());
      for (const s of sockets) s.destroy();
    })),
  };
}

function route(req: http.IncomingMessage, res: http.ServerResponse, nsp: Namespace, event: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET' && url.pathname === '/healthz') return void res.writeHead(204).end();
  if (req.method === 'POST' && url.pathname === '/admin/cut') {
    const fraction = Number(url.searchParams.get('fraction'));
    if (!(fraction > 0 && fraction <= 1)) return void res.writeHead(400).end('fraction must be in (0, 1]\n');
    const cut = cutConnections(nsp, fraction);
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cut }));
  }
  if (req.method === 'POST' && url.pathname === PUBLISH_PATH) return publish(req, res, nsp, event);
  res.writeHead(404).end('not found\n');
}

/** The publish hook: `{"topic","data"}` → `event` with data to the topic's room. */
function publish(req: http.IncomingMessage, res: http.ServerResponse, nsp: Namespace, event: string): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: { topic?: unknown; data?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString()) as typeof body;
    } catch {
      return void res.writeHead(400).end('body must be JSON {"topic","data"}\n');
    }
    if (typeof body.topic !== 'string' || body.data === undefined) return void res.writeHead(400).end('body must be JSON {"topic","data"}\n');
    nsp.to(body.topic).emit(event, body.data);
    res.writeHead(204).end();
  });
}

/** Internals of engine.io's transports this cut reaches (not part of its typed API). */
interface EngineTransport {
  name: string;
  socket?: { _socket?: net.Socket };
  req?: { socket?: net.Socket };
}

/**
 * Cut every k-th session of the namespace (an even spread of `fraction`), without a close packet:
 * a WebSocket's TCP socket is destroyed, a polling session's pending poll is destroyed (the client
 * sees a failed request, or its next poll refused), and the session is closed on the server at once
 * ("forced close"). Each is a disconnect socket.io's recovery covers. Returns how many were cut.
 */
function cutConnections(nsp: Namespace, fraction: number): number {
  const all = [...nsp.sockets.values()];
  const want = Math.round(all.length * fraction);
  let cut = 0;
  for (let i = 0; i < all.length && cut < want; i++) {
    if (Math.floor((i + 1) * fraction) === Math.floor(i * fraction)) continue;
    const t = (all[i].conn as unknown as { transport: EngineTransport }).transport;
    const raw = t.name === 'websocket' ? t.socket?._socket : t.req?.socket;
    raw?.destroy();
    // Closed here as well, at once (discarding the transport: no close packet goes out): the
    // server must not learn of the destroyed socket later, from an event a broadcast in between
    // can remove (a poll answered on the dead socket drops its 'close' listener), or the session
    // would stay open and the client's recovery would find it still connected.
    all[i].conn.close(true);
    cut++;
  }
  return cut;
}
