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
import { cursorParam, topicParam } from '../http.ts';
import type { GapNotice } from '../../core/wire.ts';
import { sseEventId } from '../../core/wire.ts';
import { streamSubscribers } from './stream.ts';
import type { ServerTransport, TransportFactory } from './types.ts';

const createSse: TransportFactory = (deps) => {
  const { hub, stats, options } = deps;
  const streams = streamSubscribers(deps, {
    name: 'sse',
    frame: (m) => Buffer.from(`id: ${sseEventId(m.epoch, m.seq)}\ndata: ${m.json}\n\n`),
    heartbeat: Buffer.from(':hb\n\n'),
  });

  return {
    handle({ req, res, query }) {
      const topic = topicParam(query);
      const lastEventId = req.headers['last-event-id'];
      const cursor = cursorParam(query, typeof lastEventId === 'string' ? lastEventId : undefined);
      const r = hub.since(topic, cursor.since, cursor.epoch, options.ringSize);
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
      let head = `retry: ${options.sseRetryMs}\n\n`;
      if (r.gap) {
        const notice: GapNotice = { type: 'gap', topic, epoch: hub.epoch, from: r.gap.from, to: r.gap.to };
        head += `event: gap\ndata: ${JSON.stringify(notice)}\n\n`;
      }
      if (!stream.write(head)) return;
      for (const m of r.messages) stream.deliver(m);
    },
    async close() {
      streams.close();
    },
  };
};

/** Server-Sent Events on the reference server (registered in servers/transports/index.ts). */
export const sseTransport: ServerTransport = { name: 'sse', path: '/sse', create: createSse };
