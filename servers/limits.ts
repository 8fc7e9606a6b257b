/**
 * The server's hard limits: the connection cap, the request body limit and the bounded
 * per-connection send buffer (slow consumers are dropped and counted, never buffered without
 * bound). Header, request and idle timeouts are Node's own (see servers/server.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpError } from './http.ts';
import type { ServerStats } from './stats.ts';

const OVER_CAP = Symbol('pushbench.overCap');
type Marked = Socket & { [OVER_CAP]?: boolean };

/**
 * Admit or refuse connections past `maxConnections`. A refused connection is kept just long
 * enough to answer its first request with 503 (a JSON body, then close), so every client sees why.
 */
export class ConnectionCap {
  constructor(
    private readonly maxConnections: number,
    private readonly stats: ServerStats,
  ) {}

  /** Call on every new TCP connection, after stats.track (which counts it as open). */
  admit(socket: Socket): void {
    if (this.stats.sockets.size > this.maxConnections) (socket as Marked)[OVER_CAP] = true;
  }

  /** Throws a 503 HttpError when `socket` came in past the cap. */
  check(socket: Socket): void {
    if ((socket as Marked)[OVER_CAP]) {
      this.stats.rejected.connectionCap++;
      throw new HttpError(503, 'connection_cap', `the server holds its maximum of ${this.maxConnections} connections; retry later`);
    }
  }
}

/** Read the whole request body as UTF-8, refusing (413) more than `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () => new HttpError(413, 'body_too_large', `request body exceeds ${maxBytes} bytes`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    req.once('close', () => reject(new HttpError(400, 'aborted', 'the request was aborted')));
  });
}

/**
 * The per-connection send budget: a subscriber whose unsent bytes exceed `sendBufferBytes` is a
 * slow consumer; its socket is destroyed and the drop counted.
 */
export class SendBudget {
  constructor(
    private readonly sendBufferBytes: number,
    private readonly stats: ServerStats,
  ) {}

  /**
   * After a write: true (and the socket destroyed) when `pendingBytes` exceeds the budget. An
   * HTTP/2 stream is judged alone (its own buffer; destroying it resets that stream only).
   */
  overflowed(socket: Duplex, pendingBytes: number = socket.writableLength): boolean {
    if (pendingBytes <= this.sendBufferBytes) return false;
    this.stats.slowConsumerDrops++;
    socket.destroy();
    return true;
  }
}
