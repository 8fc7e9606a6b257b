/**
 * WebSocket: `GET /ws?topic=T[&since=S][&epoch=E]` upgrades (ws library). Each message is one
 * text frame holding the contract JSON; without compression the frame is built once per message
 * and written to every subscriber's socket as it is. With `wsCompression` a client that offers
 * permessage-deflate gets it (ws's defaults: context takeover both ways, messages from 1 KB on
 * compressed), and each of its messages goes through its own deflate context (`ws.send`). A resume that fell out of the ring gets a
 * GapNotice text frame first. Every heartbeatMs the server pings; a peer that has not answered
 * the previous ping is terminated. Clients may send PublishRequest text frames upstream (the
 * topic defaults to the connection's); a bad one is answered with an `{"type":"error",…}` frame.
 * Frames past maxWsPayloadBytes close the connection with 1009.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Hub, HubMessage, Subscriber } from '../hub.ts';
import { cursorParam, HttpError, topicParam, type Cursor } from '../http.ts';
import { parsePublishRequest } from '../upstream.ts';
import type { GapNotice } from '../../core/wire.ts';
import type { SendBudget } from '../limits.ts';
import type { ServerStats } from '../stats.ts';
import type { ServerTransport, TransportFactory } from './types.ts';
import { SpreadHeartbeat } from '../heartbeat.ts';

const FRAME = Symbol('ws.frame');

/** ws's frame builder (exported at runtime as `Sender`, absent from @types/ws). */
interface FrameBuilder {
  frame(data: Buffer, o: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
}
const Sender = (wsModule as unknown as { Sender: FrameBuilder }).Sender;

/** The unmasked, final, uncompressed text frame carrying `m.json`. */
function frameOf(m: HubMessage): Buffer {
  const parts = Sender.frame(Buffer.from(m.json), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false });
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** What every connection of one WebSocket transport shares. */
interface WsShared {
  readonly hub: Hub;
  readonly stats: ServerStats;
  readonly budget: SendBudget;
  readonly ringSize: number;
  /** the open connections, for close() */
  readonly conns: Set<WsConnection>;
  readonly heartbeat: SpreadHeartbeat<WsConnection>;
}

/** One subscriber's WebSocket: replay on open, then every message of its topic as one frame. */
class WsConnection implements Subscriber {
  alive = true;
  private readonly unsubscribe: () => void;
  /** permessage-deflate was negotiated on this connection */
  private readonly deflates: boolean;

  constructor(
    private readonly shared: WsShared,
    readonly ws: WebSocket,
    private readonly socket: Socket,
    private readonly topic: string,
    cursor: Cursor,
  ) {
    const { hub, conns, heartbeat } = shared;
    this.deflates = ws.extensions !== '';
    // Replay and subscription happen in one synchronous step, so no message falls between them.
    this.unsubscribe = hub.subscribe(topic, this);
    conns.add(this);
    heartbeat.add(this);
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('message', (data, isBinary) => this.upstream(data, isBinary));
    ws.on('error', () => {});
    ws.once('close', () => {
      this.unsubscribe();
      conns.delete(this);
      heartbeat.delete(this);
    });
    const r = hub.since(topic, cursor.since, cursor.epoch, shared.ringSize);
    if (r.gap) {
      const notice: GapNotice = { type: 'gap', topic, epoch: hub.epoch, from: r.gap.from, to: r.gap.to };
      ws.send(JSON.stringify(notice));
    }
    for (const m of r.messages) this.deliver(m);
  }

  deliver(m: HubMessage): void {
    if (this.ws.readyState !== WebSocket.OPEN || this.socket.destroyed) return;
    // Compressed: the connection's own deflate context, queued by ws in order. Otherwise ws's
    // Sender writes synchronously (no Blobs), so a shared frame never interleaves with its frames.
    if (this.deflates) this.ws.send(m.json);
    else this.socket.write(m.memo(FRAME, frameOf));
    if (!this.shared.budget.overflowed(this.socket)) this.shared.stats.delivered.ws++;
  }

  private upstream(data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) throw new HttpError(400, 'bad_frame', 'publish frames are text');
      const p = parsePublishRequest(data.toString(), this.topic);
      void this.shared.hub.publishUpstream(p.topic, p.data, p.ts);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(400, 'bad_frame', String(err));
      this.shared.stats.rejected.badRequest++;
      this.ws.send(JSON.stringify({ type: 'error', error: { code: e.code, message: e.message } }));
    }
  }
}

/** A peer that has not answered the previous ping by its next beat is dead. */
function pingOrTerminate(c: WsConnection): void {
  if (!c.alive) {
    c.ws.terminate();
    return;
  }
  c.alive = false;
  c.ws.ping();
}

/** Close every connection with 1001; a peer that never answers the close frame is cut off after 1 s. */
async function closeAll(conns: ReadonlySet<WsConnection>): Promise<void> {
  const closing = [...conns].map(
    (c) =>
      new Promise<void>((resolve) => {
        if (c.ws.readyState === WebSocket.CLOSED) return resolve();
        c.ws.once('close', () => resolve());
        c.ws.close(1001, 'server shutting down');
      }),
  );
  const grace = setTimeout(() => {
    for (const c of conns) c.ws.terminate();
  }, 1000);
  await Promise.all(closing);
  clearTimeout(grace);
}

const createWebSocket: TransportFactory = ({ hub, stats, budget, options }) => {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: options.wsCompression,
    clientTracking: false,
    maxPayload: options.maxWsPayloadBytes,
  });
  const conns = new Set<WsConnection>();
  const heartbeat = new SpreadHeartbeat<WsConnection>(options.heartbeatMs, pingOrTerminate);
  const shared: WsShared = { hub, stats, budget, ringSize: options.ringSize, conns, heartbeat };

  return {
    handle() {
      throw new HttpError(426, 'upgrade_required', 'GET /ws needs a WebSocket upgrade');
    },
    upgrade(req: IncomingMessage, socket: Socket, head: Buffer, query: URLSearchParams) {
      const topic = topicParam(query);
      const cursor = cursorParam(query);
      wss.handleUpgrade(req, socket, head, (ws) => {
        stats.tag(socket, 'ws');
        try {
          new WsConnection(shared, ws, socket, topic, cursor);
        } catch {
          ws.terminate();
        }
      });
    },
    async close() {
      heartbeat.close();
      await closeAll(conns);
      wss.close();
    },
  };
};

/** WebSocket on the reference server (registered in servers/transports/index.ts). */
export const webSocketTransport: ServerTransport = { name: 'ws', path: '/ws', create: createWebSocket };
