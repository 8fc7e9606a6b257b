/**
 * Subscribers whose messages go out on one long response (SSE, HTTP streaming): each is
 * subscribed to its topic for as long as its socket (or HTTP/2 stream) lives, beaten by a spread heartbeat, and
 * dropped as a slow consumer when its unsent bytes pass the send budget. A message's frame is
 * built once per transport (memoized on the message) and written to every socket as it is.
 */
import type { Duplex } from 'node:stream';
import type { TransportName } from '../../core/wire.ts';
import { SpreadHeartbeat } from '../heartbeat.ts';
import type { HubMessage, Subscriber } from '../hub.ts';
import type { TransportDeps } from './types.ts';

export interface StreamFraming {
  /** the transport, as counted in the server's stats */
  name: TransportName;
  /** the bytes of one message on the stream */
  frame(m: HubMessage): Buffer;
  /** what a heartbeat writes */
  heartbeat: Buffer;
  /** written before the connection ends at shutdown (a chunked body's last chunk) */
  last?: string;
}

export interface StreamSubscriber extends Subscriber {
  /** Write `chunk` unless the socket is gone; false when it is (or was just dropped as slow). */
  write(chunk: Buffer | string): boolean;
}

/** The open streams of one transport: `open` one per request, `close` them all at shutdown. */
export function streamSubscribers({ hub, stats, budget, options }: TransportDeps, framing: StreamFraming) {
  const streams = new Set<Stream>();
  const key = Symbol(`${framing.name}.frame`);
  const frameOf = (m: HubMessage) => framing.frame(m);

  class Stream implements StreamSubscriber {
    private readonly unsubscribe: () => void;

    constructor(
      private readonly socket: Duplex,
      topic: string,
    ) {
      this.unsubscribe = hub.subscribe(topic, this);
      stats.streamOpened(socket, framing.name);
      streams.add(this);
      heartbeat.add(this);
      socket.once('close', () => {
        this.unsubscribe();
        streams.delete(this);
        heartbeat.delete(this);
      });
    }

    deliver(m: HubMessage): void {
      if (this.write(m.memo(key, frameOf))) stats.delivered[framing.name]++;
    }

    write(chunk: Buffer | string): boolean {
      if (this.socket.destroyed) return false;
      this.socket.write(chunk);
      return !budget.overflowed(this.socket);
    }

    end(): void {
      if (this.socket.destroyed) return;
      if (framing.last === undefined) this.socket.end();
      else this.socket.end(framing.last);
    }
  }

  const heartbeat: SpreadHeartbeat<Stream> = new SpreadHeartbeat(options.heartbeatMs, (s) => s.write(framing.heartbeat));

  return {
    /** `socket`: what the stream's bytes go to (a connection's socket, or an HTTP/2 stream) */
    open: (socket: Duplex, topic: string): StreamSubscriber => new Stream(socket, topic),
    close(): void {
      heartbeat.close();
      for (const s of streams) s.end();
    },
  };
}
