/**
 * Server-Sent Events: `GET /sse?topic=T` answers `text/event-stream`. The stream opens with
 * `retry: <sseRetryMs>`, then one event per message, `id: <epoch>:<seq>` + `data: <json>`, and a
 * comment `:hb` every heartbeatMs. Resume with the `Last-Event-ID` header (or `?lastEventId=`,
 * or `?since=S&epoch=E`): the missed messages are replayed from the ring; if some are gone, an
 * `event: gap` with `data: <GapNotice JSON>` comes first.
 *
 * The body is delimited by the connection's end (`connection: close`, no chunked framing), so the
 * event frames, built once per message, are written to the socket as they are.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { cursorParam, topicParam } from '../http.ts';
import type { HubMessage } from '../hub.ts';
import type { GapNotice, TransportName } from '../../core/wire.ts';
import { sseEventId } from '../../core/wire.ts';
import { streamSubscribers, type StreamFraming } from './stream.ts';
import type { ServerTransport, TransportDeps, TransportFactory } from './types.ts';

/** The event-stream framing (shared with SSE over HTTP/2): one event per message, `:hb` beats. */
export function sseFraming(name: TransportName): StreamFraming {
  return {
    name,
    frame: (m: HubMessage) => Buffer.from(`id: ${sseEventId(m.epoch, m.seq)}\ndata: ${m.json}\n\n`),
    heartbeat: Buffer.from(':hb\n\n'),
  };
}

/**
 * An event stream's replay for one request: the topic, the head (`retry:`, then an `event: gap`
 * when the resume point left the ring) and the messages to replay. Throws an HttpError for a bad
 * topic or cursor (before anything is written).
 */
export function sseReplay({ hub, options }: TransportDeps, query: URLSearchParams, headers: IncomingHttpHeaders) {
  const topic = topicParam(query);
  const lastEventId = headers['last-event-id'];
  const cursor = cursorParam(query, typeof lastEventId === 'string' ? lastEventId : undefined);
  const r = hub.since(topic, cursor.since, cursor.epoch, options.ringSize);
  let head = `retry: ${options.sseRetryMs}\n\n`;
  if (r.gap) {
    const notice: GapNotice = { type: 'gap', topic, epoch: hub.epoch, from: r.gap.from, to: r.gap.to };
    head += `event: gap\ndata: ${JSON.stringify(notice)}\n\n`;
  }
  return { topic, head, messages: r.messages };
}

const createSse: TransportFactory = (deps) => {
  const { stats } = deps;
  const streams = streamSubscribers(deps, sseFraming('sse'));

  return {
    handle({ req, res, query }) {
      const { topic, head, messages } = sseReplay(deps, query, req.headers);
      stats.tag(req.socket, 'sse');
      res.setHeader('content-type', 'text/event-stream');
      res.setHeader('cache-control', 'no-store');
      res.setHeader('connection', 'close');
      res.setHeader('x-accel-buffering', 'no');
      // No chunked framing: the body runs until the connection closes.
      res.removeHeader('transfer-encoding');
      res.writeHead(200);
      res.flushHeaders();
      const stream = streams.open(req.socket, topic);
      if (!stream.write(head)) return;
      for (const m of messages) stream.deliver(m);
    },
    async close() {
      streams.close();
    },
  };
};

/** Server-Sent Events on the reference server (registered in servers/transports/index.ts). */
export const sseTransport: ServerTransport = { name: 'sse', path: '/sse', create: createSse };
