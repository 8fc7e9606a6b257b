/**
 * Socket accounting shared by every driver: each TCP socket a client opens is tracked so that
 * `bytes()` sums bytes read and written on all of them, across reconnects, and `close()` can prove
 * none is left open.
 *
 * Threading: one counter per client, on that client's event loop.
 */
import net from 'node:net';
import { buildConnector } from 'undici';
import { nowUs } from '../../core/wire.ts';

/** Cumulative socket byte counts. */
export interface ByteCounts {
  read: number;
  written: number;
}

export class SocketCounter {
  private closedReadBytes = 0;
  private closedWrittenBytes = 0;
  private readonly live = new Set<net.Socket>();

  /** Count `socket` from now on; its bytes move to the closed totals when it closes. */
  track(socket: net.Socket): void {
    this.live.add(socket);
    socket.once('close', () => {
      this.closedReadBytes += socket.bytesRead;
      this.closedWrittenBytes += socket.bytesWritten;
      this.live.delete(socket);
    });
  }

  /** Sockets tracked and not yet closed. */
  get liveCount(): number {
    return this.live.size;
  }

  /** Adds this counter's bytes into `into` (so several counters sum without allocating). */
  addBytesTo(into: ByteCounts): ByteCounts {
    into.read += this.closedReadBytes;
    into.written += this.closedWrittenBytes;
    for (const s of this.live) {
      into.read += s.bytesRead;
      into.written += s.bytesWritten;
    }
    return into;
  }

  /** Destroy every socket still open (last resort of a `close()`). */
  destroyAll(): void {
    for (const s of this.live) s.destroy();
  }
}

// One shared base connector: it only holds TLS session state, which plain TCP never uses.
const baseConnect = buildConnector({});

/**
 * An undici `connect` function that opens the socket like undici does (TCP keep-alive, no delay,
 * connect timeout), tracks it in `counter`, and reports the TCP connect time in µs to
 * `onConnected` (omit it when "connected" means something later, as for SSE).
 */
export function countingConnector(counter: SocketCounter, onConnected?: (connectUs: number) => void): buildConnector.connector {
  return (options, callback) => {
    const startUs = nowUs();
    baseConnect(options, (err, socket) => {
      if (err !== null) {
        callback(err, null);
        return;
      }
      counter.track(socket);
      onConnected?.(nowUs() - startUs);
      callback(null, socket);
    });
  };
}

/** A `net.connect` for `ws`'s `createConnection` option that tracks each socket in `counter`. */
export function countingNetConnect(counter: SocketCounter): (options: net.NetConnectOpts) => net.Socket {
  return (options) => {
    // `ws` hands over the HTTP request options, whose `path` is the URL path, not an IPC path.
    const socket = net.connect({ ...(options as net.TcpNetConnectOpts), path: undefined } as net.TcpNetConnectOpts);
    counter.track(socket);
    return socket;
  };
}
