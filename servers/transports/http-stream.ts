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
import type { Socket } from 'node:net';
import type { HubMessage, Subscriber } from '../hub.ts';
import { cursorParam, topicParam } from '../http.ts';
import type { GapNotice } from '../../core/wire.ts';
import type { ServerTransport, TransportFactory } from './types.ts';
import { SpreadHeartbeat } from '../heartbeat.ts';

const CHUNK = Symbol('http-stream.chunk');
/** An empty line as one chunk (the heartbeat). */
const HEARTBEAT = Buffer.from('1\r\n\n\r\n');
/** The chunked body's last chunk. */
const LAST_CHUNK = '0\r\n\r\n';

/** `line` + LF as one chunk of a chunked body. */
function chunkOf(line: string): Buffer {
  const body = `${line}\n`;
  return Buffer.from(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`);
}

const createHttpStream: TransportFactory = ({ hub, stats, budget, options }) => {
  const streams = new Set<LineStream>();

  class LineStream implements Subscriber {
    private readonly unsubscribe: () => void;

    constructor(
      private readonly socket: Socket,
      topic: string,
    ) {
      this.unsubscribe = hub.subscribe(topic, this);
      streams.add(this);
      heartbeat.add(this);
      socket.once('close', () => {
        this.unsubscribe();
        streams.delete(this);
        heartbeat.delete(this);
      });
    }

    deliver(m: HubMessage): void {
      if (this.write(m.memo(CHUNK, (x) => chunkOf(x.json)))) stats.delivered['http-stream']++;
    }

    /** Write `chunk` unless the socket is gone; false when it is (or was just dropped as slow). */
    write(chunk: Buffer): boolean {
      if (this.socket.destroyed) return false;
      this.socket.write(chunk);
      return !budget.overflowed(this.socket);
    }

    end(): void {
      if (!this.socket.destroyed) this.socket.end(LAST_CHUNK);
    }
  }

  const heartbeat: SpreadHeartbeat<LineStream> = new SpreadHeartbeat(options.heartbeatMs, (s) => s.write(HEARTBEAT));

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
      const stream = new LineStream(req.socket, topic);
      if (r.gap) {
        const notice: GapNotice = { type: 'gap', topic, epoch: hub.epoch, from: r.gap.from, to: r.gap.to };
        if (!stream.write(chunkOf(JSON.stringify(notice)))) return;
      }
      for (const m of r.messages) stream.deliver(m);
    },
    async close() {
      heartbeat.close();
      for (const s of streams) s.end();
    },
  };
};

/** HTTP streaming on the reference server (registered in servers/transports/index.ts). */
export const httpStreamTransport: ServerTransport = { name: 'http-stream', path: '/stream', create: createHttpStream };
