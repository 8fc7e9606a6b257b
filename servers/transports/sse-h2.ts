/**
 * Server-Sent Events over HTTP/2: `GET /sse-h2?topic=T` on an HTTP/2 connection (TLS, ALPN `h2`:
 * servers/h2.ts) answers `text/event-stream` on its own stream, framed exactly as SSE over
 * HTTP/1.1 (servers/transports/sse.ts: `retry:`, `id:`/`data:` events, `:hb` beats, resume by
 * `Last-Event-ID`). Many such streams share one connection, as a browser's tabs do; `/stats` counts
 * the connection once in `open` and each stream in `streams`.
 *
 * Each stream has its own flow-control window and buffer: a slow tab is judged by its own unsent
 * bytes and, over the budget, reset alone (RST_STREAM), not the connection it shares.
 * Over HTTP/1.1 the path answers 505: this transport is HTTP/2 or nothing.
 */
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { sessionSocket } from '../h2.ts';
import { HttpError } from '../http.ts';
import { sseFraming, sseReplay } from './sse.ts';
import { streamSubscribers } from './stream.ts';
import type { ServerTransport, TransportFactory } from './types.ts';

const createSseH2: TransportFactory = (deps) => {
  const { stats } = deps;
  const streams = streamSubscribers(deps, sseFraming('sse-h2'));

  return {
    handle({ req, res, query }) {
      // the router hands HTTP/2 requests over through the compatibility API
      const h2 = req as unknown as Http2ServerRequest;
      if (req.httpVersionMajor !== 2 || h2.stream === undefined) {
        throw new HttpError(505, 'http2_required', 'this endpoint is SSE over HTTP/2: connect over TLS with ALPN h2');
      }
      const { topic, head, messages } = sseReplay(deps, query, req.headers);
      stats.tag(sessionSocket(h2.stream.session!), 'sse-h2');
      const out = (res as unknown as Http2ServerResponse).stream;
      out.respond({ ':status': 200, 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      out.on('error', () => {});
      const stream = streams.open(out, topic);
      if (!stream.write(head)) return;
      for (const m of messages) stream.deliver(m);
    },
    async close() {
      streams.close();
    },
  };
};

/** SSE over HTTP/2 on the reference server (registered in servers/transports/index.ts). */
export const sseH2Transport: ServerTransport = { name: 'sse-h2', path: '/sse-h2', create: createSseH2 };
