/**
 * One simulated Socket.IO v5 client over an Engine.IO session (engine.ts), spoken with the
 * official `socket.io-parser`: it CONNECTs to the namespace with `auth: {topic}` (the server joins
 * it to that room, docs/socketio.md), and on a reconnect also `pid` and the last `offset` it saw —
 * the server's connection-state recovery then replays what the cut lost. Each event named
 * `event` carries pushbench's token (load/target/token.ts) as its first argument; the token of
 * another run is counted foreign, anything else BAD_MESSAGE.
 *
 * Reports: `connected` when the namespace's CONNECT is acknowledged (handshake and CONNECT
 * together, from the attempt's start); on a reconnect, `engine('recovered' | 'not-recovered')` by
 * whether the server's answer kept the session's pid. A lost session counts its code and
 * reconnects after the shared backoff.
 *
 * Threading: one client on one event loop; nothing blocks or throws on the hot path.
 */
import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';
import { nowUs } from '../../../core/wire.ts';
import { decodeToken, FOREIGN } from '../../target/token.ts';
import { Reconnector } from '../backoff.ts';
import { BAD_MESSAGE } from '../cursor.ts';
import { SocketCounter } from '../sockets.ts';
import type { Client, ClientEvents, ClientSpec } from '../types.ts';
import { EngineSession, type EngineMode, type EngineOwner } from './engine.ts';

/** What a client of a Socket.IO target needs beyond its spec. */
export interface SocketioOptions {
  /** the namespace to CONNECT to, e.g. `/` or `/chat` */
  namespace: string;
  /** the event that carries the published token */
  event: string;
  /** the run id the tokens of this run carry (load/run/settings.ts) */
  run: string;
  /** told, in a sentence, when the target answers as no Socket.IO server would (the probe) */
  onProblem?: (sentence: string) => void;
}

/** Error codes of a refused namespace CONNECT and of a server-side disconnect of the namespace. */
export const SIO_CONNECT_ERROR = 'SIO_CONNECT_ERROR';
export const SIO_DISCONNECT = 'SIO_DISCONNECT';

const encoder = new Encoder();

export class SocketioClient implements Client, EngineOwner {
  private readonly sockets = new SocketCounter();
  private readonly reconnector: Reconnector;
  private readonly decoder = new Decoder();
  private session: EngineSession | undefined;
  private attemptUs = 0;
  private connectedNow = false;
  /** the session id recovery restores (sent by a server with recovery on), and the last offset seen */
  private pid: string | undefined;
  private offset: string | undefined;
  private everConnected = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly mode: EngineMode,
    private readonly spec: ClientSpec,
    private readonly events: ClientEvents,
    private readonly o: SocketioOptions,
  ) {
    this.reconnector = new Reconnector(events, spec.reconnectMinMs, spec.reconnectMaxMs, () => this.connect(), spec.reconnectJitter);
    this.decoder.on('decoded', this.decoded);
  }

  get open(): boolean {
    return !this.closed && this.connectedNow;
  }

  start(): void {
    this.connect();
  }

  /** Chat is not offered on a Socket.IO target (the CLI refuses it); a publish is counted, not sent. */
  publish(): void {
    this.events.error('NO_UPSTREAM');
  }

  bytes(): { read: number; written: number } {
    return this.sockets.addBytesTo({ read: 0, written: 0 });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.reconnector.stop();
      try {
        await this.session?.close();
      } finally {
        this.sockets.destroyAll();
      }
    })();
    return this.closing;
  }

  private connect(): void {
    if (this.closed) return;
    this.attemptUs = nowUs();
    this.decoder.destroy();
    this.session = new EngineSession(this.mode, this.spec, this.events, this.sockets, this);
    this.session.open();
  }

  opened(): void {
    const auth: Record<string, string> = { topic: this.spec.topic };
    if (this.pid !== undefined) {
      auth.pid = this.pid;
      if (this.offset !== undefined) auth.offset = this.offset;
    }
    this.session!.send(encoder.encode({ type: PacketType.CONNECT, nsp: this.o.namespace, data: auth })[0] as string);
  }

  packet(text: string, recvUs: number): void {
    this.recvUs = recvUs;
    try {
      this.decoder.add(text);
    } catch {
      this.problem(`a Socket.IO packet (got ${JSON.stringify(text.slice(0, 60))})`);
    }
  }

  ended(code: string, problem?: string): void {
    this.connectedNow = false;
    this.session = undefined;
    if (problem !== undefined) this.o.onProblem?.(`${this.mode} at ${this.spec.baseUrl}: ${problem}`);
    if (!this.closed) this.reconnector.fail(code);
  }

  /** when the packet being decoded was read */
  private recvUs = 0;

  private readonly decoded = (p: Packet): void => {
    if (this.closed || p.nsp !== this.o.namespace) return;
    if (p.type === PacketType.EVENT) return this.onEvent(p.data as unknown[]);
    if (p.type === PacketType.CONNECT) return this.onConnect(p.data as { sid?: string; pid?: string } | undefined);
    if (p.type === PacketType.CONNECT_ERROR) {
      this.problem(`the namespace ${this.o.namespace} to accept the CONNECT (got ${JSON.stringify(p.data)})`, SIO_CONNECT_ERROR);
    } else if (p.type === PacketType.DISCONNECT) this.drop(SIO_DISCONNECT);
  };

  private onConnect(data: { sid?: string; pid?: string } | undefined): void {
    this.connectedNow = true;
    this.reconnector.backoff.reset();
    if (this.everConnected) this.events.engine?.(this.pid !== undefined && data?.pid === this.pid ? 'recovered' : 'not-recovered', 0);
    this.everConnected = true;
    this.pid = data?.pid;
    this.events.connected(nowUs() - this.attemptUs);
  }

  private onEvent(args: unknown[]): void {
    if (args[0] !== this.o.event) return;
    // with recovery on, the server appends the packet's offset as the last argument
    if (this.pid !== undefined && args.length > 2 && typeof args[args.length - 1] === 'string') this.offset = args[args.length - 1] as string;
    const token = args[1];
    const m = typeof token === 'string' ? decodeToken(token, this.o.run) : undefined;
    if (m === FOREIGN) this.events.foreign?.(1);
    else if (m !== undefined) this.events.message(m, this.recvUs);
    else this.problem(`the first argument of event "${this.o.event}" to hold pushbench's token (got ${JSON.stringify(token)?.slice(0, 60)})`);
  }

  /** Count `code` (BAD_MESSAGE by default) and, for the probe, say what was expected. */
  private problem(expected: string, code = BAD_MESSAGE): void {
    this.o.onProblem?.(`${this.mode} at ${this.spec.baseUrl}${this.o.namespace}: expected ${expected}`);
    if (code === BAD_MESSAGE) this.events.error(code);
    else this.drop(code);
  }

  /** End the session from this side and reconnect after backoff. */
  private drop(code: string): void {
    const s = this.session;
    this.session = undefined;
    this.connectedNow = false;
    void s?.close();
    if (!this.closed) this.reconnector.fail(code);
  }
}
