/**
 * WebSocket driver (`ws` library; permessage-deflate offered with `spec.wsCompression`): `GET /ws?topic=T[&since=S&epoch=E]` upgraded
 * (`wss:` over TLS, load/drivers/tls.ts),
 * one text frame per message; a frame with `"type":"gap"` is a GapNotice. Publishing sends
 * `{"topic","data","ts"}` upstream on the same socket.
 *
 * Reports: `connected(openUs - startUs)` (TCP connect + handshake) on open; each frame as a message
 * received when its frame was read. A lost connection counts the error that caused it
 * (`ECONNREFUSED`, `HTTP_<status>` for a refused upgrade, …) or else `WS_<close code>` (`WS_1006`
 * for an abnormal close), and reconnects after backoff from the last seq seen. The first attempt
 * binds `spec.localPort` when given; if another socket holds that port on the address (one the
 * kernel gave out, or another program's: `EADDRINUSE` at bind, `EADDRNOTAVAIL` at connect), the
 * attempt is made again at once on the kernel's port, counting nothing: the generator's own choice
 * failed, not the server.
 *
 * `ws` makes the connection and keeps the protocol (handshake, pings, close, errors); the server's
 * plain text frames are read off the socket by {@link FrameReader} (load/drivers/ws-frames.ts),
 * at a fraction of the cost of `ws`'s receive path.
 */
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import WebSocket from 'ws';
import { codeOf } from '../../core/errors.ts';
import { nowUs } from '../../core/wire.ts';
import { BaseClient } from './client-base.ts';
import { ContractCodec } from './codec.ts';
import { Cursor } from './cursor.ts';
import { countingNetConnect } from './sockets.ts';
import { ReadThrottle } from './throttle.ts';
import { FrameReader } from './ws-frames.ts';
import { TlsDialer, tlsNetConnect } from './tls.ts';
import { profileRules } from './profile-rules.ts';
import type { ClientEvents, ClientSpec, Dialect, Driver } from './types.ts';

/** Error code counted for a publish while no connection is open (the message is dropped). */
export const WS_NOT_OPEN = 'WS_NOT_OPEN';
/** Error code of a connection failed for a text frame that is not UTF-8 (the code `ws` itself gives). */
export const WS_INVALID_UTF8 = 'WS_ERR_INVALID_UTF8';
/** How long `close()` waits for the server's close frame before dropping the socket. */
const CLOSE_GRACE_MS = 1000;

export class WsClient extends BaseClient {
  private ws: WebSocket | undefined;
  /** `ws://host:port` of the server (the codec gives the path) */
  private readonly origin: string;
  private readonly topicJson: string;
  private readonly createConnection: (options: net.NetConnectOpts) => net.Socket;
  private startUs = 0;
  /** the error that ended the current attempt, reported instead of its close code */
  private attemptError: string | undefined;
  /** the source port of the next attempt: the spec's on the first, then the kernel's (undefined) */
  private localPort: number | undefined;
  /** the current attempt binds a port of our choosing */
  private attemptBinds = false;
  /** ... and found it taken */
  private portTaken = false;

  constructor(spec: ClientSpec, events: ClientEvents, dialect?: Dialect) {
    // The contract publishes in band (a frame on the same socket); a profile describes its own request.
    super(spec, events,
      dialect?.codec(spec, events) ?? new ContractCodec(new Cursor(events), `/ws?topic=${encodeURIComponent(spec.topic)}`, 'query'),
      dialect?.upstream(spec, events));
    this.origin = spec.baseUrl.replace(/^http/, 'ws');
    this.topicJson = JSON.stringify(spec.topic);
    this.localPort = spec.localPort;
    const counting = spec.tls ? tlsNetConnect(new TlsDialer(spec.tls, events), this.sockets) : countingNetConnect(this.sockets);
    const rate = spec.readBytesPerS;
    this.createConnection = rate === undefined ? counting : (options) => {
      // A slow consumer: pause the socket whenever the read budget is spent.
      const socket = counting(options);
      const throttle = new ReadThrottle(rate);
      socket.on('data', (chunk: Buffer) => {
        const waitMs = throttle.take(chunk.length);
        if (waitMs === 0 || socket.isPaused()) return;
        socket.pause();
        this.pauseTimer = setTimeout(() => {
          this.pauseTimer = undefined;
          if (!socket.destroyed) socket.resume();
        }, waitMs);
      });
      return socket;
    };
  }

  /** pending resume of a throttled socket (slow consumers only) */
  private pauseTimer: NodeJS.Timeout | undefined;

  get open(): boolean {
    return !this.closed && this.ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.connect();
  }

  protected reconnect(): void {
    this.connect();
  }

  /** Sends one publish frame; counts {@link WS_NOT_OPEN} and drops it while disconnected. */
  protected override publishInBand(data: string, ts: number): void {
    const ws = this.ws;
    if (this.closed || ws === undefined || ws.readyState !== WebSocket.OPEN) {
      if (!this.closed) this.events.error(WS_NOT_OPEN);
      return;
    }
    ws.send(`{"topic":${this.topicJson},"data":${JSON.stringify(data)},"ts":${Math.round(ts)}}`);
  }

  private connect(): void {
    if (this.closed) return;
    this.attemptError = undefined;
    this.portTaken = false;
    const localPort = this.localPort;
    this.localPort = undefined;
    this.attemptBinds = localPort !== undefined;
    this.startUs = nowUs();
    const ws = new WebSocket(this.origin + this.codec.path(), {
      perMessageDeflate: this.spec.wsCompression === true,
      headers: this.codec.headers(),
      localAddress: this.spec.localAddress,
      localPort,
      createConnection: this.createConnection as unknown as typeof net.createConnection,
      handshakeTimeout: 30_000,
      // Text frames are checked for UTF-8 by the codec instead: a frame the contract reader accepts is
      // plain ASCII already, so only the others need the check (ws would scan every frame).
      skipUTF8Validation: true,
    });
    this.ws = ws;
    if (this.spec.wsCompression) ws.on('upgrade', this.onUpgrade);
    ws.on('open', this.onOpen);
    ws.on('message', this.onMessage);
    ws.on('unexpected-response', this.onUnexpectedResponse);
    ws.on('error', this.onError);
    ws.on('close', this.onClose);
  }

  /**
   * Fails the connection for a text frame that is not UTF-8, as `ws` does when it checks (RFC 6455
   * §8.1: close code 1007), counting {@link WS_INVALID_UTF8}; frames after it are ignored.
   */
  private failInvalidUtf8(): void {
    this.attemptError ??= WS_INVALID_UTF8;
    this.ws?.close(1007);
  }

  /** The server's answer to the handshake: which extensions it accepted, with their parameters. */
  private readonly onUpgrade = (res: IncomingMessage): void => {
    const accepted = res.headers['sec-websocket-extensions'];
    if (accepted && !this.closed) this.events.extensions?.(accepted);
  };

  private readonly onOpen = (): void => {
    this.reconnector.backoff.reset();
    // Plain text frames are read off the socket here (load/drivers/ws-frames.ts); a throttled
    // slow consumer pauses its socket between reads and keeps ws's own reader, and so does a
    // connection that negotiated compression (its frames are ws's to inflate).
    if (this.spec.readBytesPerS === undefined && this.ws !== undefined && this.ws.extensions === '') FrameReader.attach(this.ws, this.onFrameRange);
    if (!this.closed) this.events.connected(nowUs() - this.startUs);
  };

  /** A text frame read by {@link FrameReader}: `buf[from, to)`. */
  private readonly onFrameRange = (buf: Buffer, from: number, to: number, recvUs: number): void => {
    if (this.closed || this.attemptError !== undefined) return;
    if (!this.codec.text(buf, from, to, recvUs)) this.failInvalidUtf8();
  };

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    const recvUs = nowUs();
    if (this.closed || isBinary || this.attemptError !== undefined) return;
    // binaryType is ws's default 'nodebuffer': a text frame arrives as one Buffer
    const bytes = data as Buffer;
    if (!this.codec.text(bytes, 0, bytes.length, recvUs)) this.failInvalidUtf8();
  };

  private readonly onUnexpectedResponse = (_req: unknown, res: IncomingMessage): void => {
    this.attemptError ??= `HTTP_${res.statusCode ?? 0}`;
    res.resume();
    this.ws?.terminate();
  };

  private readonly onError = (err: Error): void => {
    const code = codeOf(err);
    if (this.attemptBinds && this.attemptError === undefined && (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL')) this.portTaken = true;
    else this.attemptError ??= code;
  };

  private readonly onClose = (code: number): void => {
    this.ws = undefined;
    if (this.portTaken && !this.closed) this.connect();
    else this.fail(this.attemptError ?? `WS_${code}`);
  };

  protected async shutdown(): Promise<void> {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    const grace = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    await closed;
    clearTimeout(grace);
  }
}

export const wsDriver: Driver = {
  transport: 'ws',
  title: 'WebSocket',
  claimRank: 1,
  colour: '#4c78a8',
  traits: { pollInterval: false, longPollTimeout: false, publishesInBand: true, deflate: true },
  profile: profileRules({ reference: { url: '/ws?topic={topic}', json: 'data', cursor: { style: 'query', param: 'since', from: 'json:seq' } } }),
  create: (spec, events, dialect) => new WsClient(spec, events, dialect),
};
