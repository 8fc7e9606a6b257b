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
import type { Socket } from 'node:net';
import type { HubMessage, Subscriber } from '../hub.ts';
import { cursorParam, topicParam } from '../http.ts';
import type { GapNotice } from '../../core/wire.ts';
import { sseEventId } from '../../core/wire.ts';
import type { ServerTransport, TransportFactory } from './types.ts';
import { SpreadHeartbeat } from '../heartbeat.ts';

const FRAME = Symbol('sse.frame');
const HEARTBEAT = Buffer.from(':hb\n\n');

const createSse: TransportFactory = ({ hub, stats, budget, options }) => {
  const streams = new Set<SseStream>();
  const frameOf = (m: HubMessage) => Buffer.from(`id: ${sseEventId(m.epoch, m.seq)}\ndata: ${m.json}\n\n`);

  class SseStream implements Subscriber {
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
      if (this.write(m.memo(FRAME, frameOf))) stats.delivered.sse++;
    }

    /** Write `chunk` unless the socket is gone; false when it is (or was just dropped as slow). */
    write(chunk: Buffer | string): boolean {
      if (this.socket.destroyed) return false;
      this.socket.write(chunk);
      return !budget.overflowed(this.socket);
    }

    end(): void {
      this.socket.end();
    }
  }

  const heartbeat: SpreadHeartbeat<SseStream> = new SpreadHeartbeat(options.heartbeatMs, (s) => s.write(HEARTBEAT));

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
      const stream = new SseStream(req.socket, topic);
      let head = `retry: ${options.sseRetryMs}\n\n`;
      if (r.gap) {
        const notice: GapNotice = { type: 'gap', topic, epoch: hub.epoch, from: r.gap.from, to: r.gap.to };
        head += `event: gap\ndata: ${JSON.stringify(notice)}\n\n`;
      }
      if (!stream.write(head)) return;
      for (const m of r.messages) stream.deliver(m);
    },
    async close() {
      heartbeat.close();
      for (const s of streams) s.end();
    },
  };
};

/** Server-Sent Events on the reference server (registered in servers/transports/index.ts). */
export const sseTransport: ServerTransport = { name: 'sse', path: '/sse', create: createSse };
