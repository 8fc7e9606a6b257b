/**
 * The WebSocket driver's data-frame reader: once `ws` has made the connection, the server's plain
 * text frames are read straight from the socket's chunks, and `ws` keeps everything else.
 *
 * Why: `ws`'s receive path — the socket listener, the Receiver's Writable stream and its frame
 * loop, the per-frame Buffer, the `message` events with their megamorphic property loads — cost
 * several times pushbench's own per-frame work (`npm run profile:perf`; docs/generator-bench.md
 * has the profile).
 * A text frame from the server is a two- or four-byte header and a payload; reading it here is a
 * few compares, and the payload is handed on as a byte range of the chunk, not a new Buffer.
 *
 * What is read here: frames with FIN set, no RSV bits, opcode 1 (text), unmasked, and a 7- or
 * 16-bit length — everything the reference server sends but its pings and its close. Any other
 * frame (control frames, fragments, binary, masked, a 64-bit length, RSV bits) and every byte
 * after it go to `ws`'s own receiver, exactly as its socket listener would have passed them, so
 * the protocol's rules (pong replies, close handshake, error codes 1002/1009, UTF-8 of control
 * frames) stay `ws`'s. The reader takes the stream back only when that receiver stands at a frame
 * boundary with nothing buffered and the connection is still open (so after a ping, not after a
 * close). A frame split over chunks waits here for its end; the bytes are the same either way.
 *
 * This leans on three internals of `ws` 8 (the version is pinned in package-lock.json):
 * `WebSocket#_socket`, `WebSocket#_receiver` and the socket's `data` listener named
 * `socketOnData`, plus the receiver's `_state`, `_bufferedBytes` and `_fragmented` to see it idle.
 * If any is missing the reader does not attach and `ws` reads every frame, as before
 * (test/load/drivers/ws-frames.test.ts says so when that happens).
 *
 * Threading: one reader per connection, on the client's event loop.
 */
import type net from 'node:net';
import WebSocket from 'ws';
import { nowUs } from '../../core/wire.ts';

/** One text frame's payload: `buf[from, to)`, read at `recvUs` (the chunk's arrival). */
export type FrameSink = (buf: Buffer, from: number, to: number, recvUs: number) => void;

/** The parts of `ws`'s Receiver (a Writable) the reader touches. */
interface ReceiverInternals {
  _state: number;
  _bufferedBytes: number;
  _fragmented: number;
  writableLength: number;
  writableEnded: boolean;
  destroyed: boolean;
}

interface WebSocketInternals {
  _socket: net.Socket | null;
  _receiver: ReceiverInternals | null;
}

type DataListener = (this: net.Socket, chunk: Buffer) => void;

/** `ws`'s Receiver state between frames (GET_INFO in lib/receiver.js). */
const GET_INFO = 0;

/** FIN + opcode 1 (text), no RSV bits. */
const FIN_TEXT = 0x81;

/** The receiver has no partial frame or message and nothing queued: the next byte starts a frame. */
function idle(r: ReceiverInternals): boolean {
  return r._state === GET_INFO && r._bufferedBytes === 0 && r._fragmented === 0 && r.writableLength === 0 && !r.writableEnded && !r.destroyed;
}

export class FrameReader {
  /** the bytes of a frame whose end has not arrived yet */
  private carry: Buffer | null = null;
  /** true while this reader takes the socket's chunks; false while `ws`'s listener does */
  private fast = true;
  /** frames read here / chunks handed to `ws` (for tests and diagnostics) */
  framesRead = 0;
  handedOver = 0;

  private constructor(
    private readonly ws: WebSocket,
    private readonly socket: net.Socket,
    private readonly receiver: ReceiverInternals,
    private readonly wsOnData: DataListener,
    private readonly sink: FrameSink,
  ) {}

  /**
   * Takes over the data frames of `ws` (call it from the `open` event, before any frame is read);
   * returns null, leaving `ws` as it was, when its internals are not the ones this reader knows.
   */
  static attach(ws: WebSocket, sink: FrameSink): FrameReader | null {
    const w = ws as unknown as WebSocketInternals;
    const socket = w._socket;
    const receiver = w._receiver;
    if (ws.readyState !== WebSocket.OPEN || !socket || !receiver || typeof receiver._state !== 'number' || typeof receiver._bufferedBytes !== 'number' || typeof receiver._fragmented !== 'number' || !idle(receiver)) return null;
    const wsOnData = (socket.listeners('data') as DataListener[]).find((f) => f.name === 'socketOnData');
    if (wsOnData === undefined) return null;
    const reader = new FrameReader(ws, socket, receiver, wsOnData, sink);
    socket.removeListener('data', wsOnData);
    socket.on('data', reader.onData);
    return reader;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (!this.fast) {
      // `ws`'s listener (ahead of this one) has just had this chunk.
      this.maybeTakeBack();
      return;
    }
    const recvUs = nowUs();
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const end = buf.length;
    let i = 0;
    while (end - i >= 2) {
      const len7 = buf[i + 1]!;
      // Not a plain text frame, masked (bit 7) or a 64-bit length (127): `ws` takes it from here.
      if (buf[i] !== FIN_TEXT || len7 >= 127) {
        this.handOver(buf, i);
        return;
      }
      let from = i + 2;
      let len = len7;
      if (len7 === 126) {
        if (end - i < 4) break;
        len = (buf[i + 2]! << 8) | buf[i + 3]!;
        from = i + 4;
      }
      const to = from + len;
      if (to > end) break;
      this.framesRead++;
      this.sink(buf, from, to, recvUs);
      i = to;
    }
    if (i < end) this.carry = buf.subarray(i);
  };

  /** Gives `ws` the bytes from `buf[from]` on, and the stream after them. */
  private handOver(buf: Buffer, from: number): void {
    this.fast = false;
    this.handedOver++;
    // ws's listener runs first from now on, this one after it only to take the stream back.
    this.socket.prependListener('data', this.wsOnData);
    this.wsOnData.call(this.socket, from === 0 ? buf : buf.subarray(from));
    this.maybeTakeBack();
  }

  /** Reads frames here again if `ws`'s receiver is between frames and the connection is open. */
  private maybeTakeBack(): void {
    if (this.ws.readyState !== WebSocket.OPEN || this.socket.isPaused() || !idle(this.receiver)) return;
    // After a close frame ws removes its listener itself: the stream is then not taken back.
    if (!(this.socket.listeners('data') as DataListener[]).includes(this.wsOnData)) return;
    this.socket.removeListener('data', this.wsOnData);
    this.fast = true;
  }
}
