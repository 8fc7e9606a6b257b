/**
 * HTTP/2 on the reference server's TLS port: the HTTPS server offers `h2` and `http/1.1` in ALPN;
 * a connection that chose `h2` is handed to a `node:http2` server, every other one goes on to the
 * HTTPS server's own HTTP/1.1 handling unchanged (so the HTTP/1.1 transports over TLS keep the path
 * they are measured on). HTTP/2 requests reach the same router through the compatibility API;
 * what serves them is the transport whose path they ask for (SSE over HTTP/2).
 *
 * Threading: the server's event loop.
 */
import type { Server as HttpsServer } from 'node:https';
import { createServer as createH2Server, type Http2Session, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** What ALPN offers a TLS client, most wanted first. */
export const ALPN_PROTOCOLS: readonly string[] = Object.freeze(['h2', 'http/1.1']);

const WIRE = Symbol('pushbench.h2Socket');
type Keyed = Http2Session & { [WIRE]?: TLSSocket };

/** The TLS socket an HTTP/2 session runs on (the one requests arrive on, as for HTTP/1.1). */
export function sessionSocket(session: Http2Session): Socket {
  const s = (session as Keyed)[WIRE];
  if (s === undefined) throw new Error('an HTTP/2 session this server did not accept');
  return s;
}

/** Streams per connection the server allows a client (SETTINGS_MAX_CONCURRENT_STREAMS). */
const MAX_STREAMS = 1000;

/**
 * Serve HTTP/2 on `server` (an HTTPS server made with {@link ALPN_PROTOCOLS}): `onSecure` is what
 * each TLS connection gets first (the cap and deadline), `onRequest` each HTTP/2 request. Returns
 * a `close()` that ends every session gracefully (GOAWAY after its streams); idempotent.
 */
export function attachHttp2(
  server: HttpsServer,
  onSecure: (socket: TLSSocket) => void,
  onRequest: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
): { close(): void } {
  const h2 = createH2Server({ settings: { maxConcurrentStreams: MAX_STREAMS, enablePush: false } });
  const sessions = new Set<Http2Session>();
  let accepting: TLSSocket | undefined;
  h2.on('session', (session: Http2Session) => {
    (session as Keyed)[WIRE] = accepting;
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  h2.on('request', onRequest);
  // the HTTPS server's own listener (Node's HTTP/1.1 connection handling) stays for the rest
  const http1 = server.listeners('secureConnection') as ((s: TLSSocket) => void)[];
  server.removeAllListeners('secureConnection');
  server.on('secureConnection', (socket: TLSSocket) => {
    onSecure(socket);
    if (socket.alpnProtocol !== 'h2') {
      for (const l of http1) l.call(server, socket);
      return;
    }
    // HTTP/2 keeps its own idle rules; the HTTP/1.1 header deadline does not apply to a session
    socket.setTimeout(0);
    accepting = socket;
    // the http2 server makes the session synchronously in its 'connection' listener
    h2.emit('connection', socket);
    accepting = undefined;
  });
  return {
    close() {
      for (const s of sessions) s.close();
    },
  };
}
