/**
 * HTTP streaming: `GET /stream?topic=T[&since=S&epoch=E]` answers one long chunked response of
 * newline-delimited JSON (`application/x-ndjson`): each message is one line holding the contract
 * JSON. Resume with `since`/`epoch` on reconnect: the missed messages are replayed from the ring;
 * if some are gone, a GapNotice line (it has `"type":"gap"`) comes first. An empty line every
 * heartbeatMs keeps an idle connection from looking dead to proxies and clients.
 *
 * Each message's chunk (its hex size, the line, the chunk's CRLFs) is built once per message and
 * written to every subscriber's socket as it is; the response never ends on its own (the server's
 * shutdown writes the last chunk and closes the connection).
 */
import { cursorParam, topicParam } from '../http.ts';
import type { GapNotice } from '../../core/wire.ts';
import { streamSubscribers } from './stream.ts';
import type { ServerTransport, TransportFactory } from './types.ts';

/** `line` + LF as one chunk of a chunked body. */
function chunkOf(line: string): Buffer {
  const body = `${line}\n`;
  return Buffer.from(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`);
}

const createHttpStream: TransportFactory = (deps) => {
  const { hub, stats, options } = deps;
  // an empty line as one chunk is the heartbeat; the chunked body's last chunk ends it at shutdown
  const streams = streamSubscribers(deps, { name: 'http-stream', frame: (m) => chunkOf(m.json), heartbeat: Buffer.from('1\r\n\n\r\n'), last: '0\r\n\r\n' });

  return {
    handle({ req, res, query }) {
      const topic = topicParam(query);
      const cursor = cursorParam(query);
      const r = hub.since(topic, cursor.since, cursor.epoch, options.ringSize);
      stats.tag(req.socket, 'http-stream');
      // The chunks are framed here and written to the socket directly: Node adds no framing of
      // its own to a response whose body it never writes.
      res.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'cache-control': 'no-store',
        'transfer-encoding': 'chunked',
        connection: 'close',
        'x-accel-buffering': 'no',
      });
      res.flushHeaders();
      const stream = streams.open(req.socket, topic);
      if (r.gap) {
        const notice: GapNotice = { type: 'gap', topic, epoch: hub.epoch, from: r.gap.from, to: r.gap.to };
        if (!stream.write(chunkOf(JSON.stringify(notice)))) return;
      }
      for (const m of r.messages) stream.deliver(m);
    },
    async close() {
      streams.close();
    },
  };
};

/** HTTP streaming on the reference server (registered in servers/transports/index.ts). */
export const httpStreamTransport: ServerTransport = { name: 'http-stream', path: '/stream', create: createHttpStream };
