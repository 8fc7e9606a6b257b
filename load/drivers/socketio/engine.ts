/**
 * One Engine.IO v4 session of a simulated Socket.IO client, spoken with the official
 * `engine.io-parser` (docs/socketio.md): the handshake (`GET /socket.io/?EIO=4&transport=polling`,
 * or a WebSocket straight away), long polling with a second connection for what the client sends
 * (as browsers hold one poll open and POST beside it), the upgrade to WebSocket (`2probe` →
 * `3probe`, polling paused — the server ends the held poll with a `6` noop — then `5`), and the
 * heartbeat: the server pings (`2`) every pingInterval, the client answers `3`; no ping within
 * pingInterval + pingTimeout ends the session (`EIO_PING_TIMEOUT`), as engine.io-client does.
 *
 * What the session carries (Engine.IO `4` message packets: Socket.IO packets as text) goes to its
 * owner; the owner reconnects when it ends. Heartbeats answered, the upgrade and its time are
 * reported through `ClientEvents.engine`; every GET and POST through `request`.
 *
 * Threading: one session on its client's event loop; nothing blocks or throws on the hot path.
 */
import type { Client as UndiciClient } from 'undici';
import type net from 'node:net';
import WebSocket from 'ws';
import { decodePacket, decodePayload, type Packet } from 'engine.io-parser';
import { codeOf } from '../../../core/errors.ts';
import { nowUs } from '../../../core/wire.ts';
import { Exchange, openHttpConnection } from '../http.ts';
import { countingNetConnect, type SocketCounter } from '../sockets.ts';
import type { ClientEvents, ClientSpec } from '../types.ts';

/** How a session starts: a WebSocket at once, long polling only, or polling then the upgrade. */
export type EngineMode = 'websocket' | 'polling' | 'upgrade';

/** The record separator between the packets of one polling payload (Engine.IO v4). */
const SEPARATOR = '\x1e';
/** Error code of a handshake that is not an Engine.IO open packet. */
export const EIO_BAD_HANDSHAKE = 'EIO_BAD_HANDSHAKE';

/** What the session tells its owner (the Socket.IO layer). */
export interface EngineOwner {
  /** the handshake is done: the session can carry packets */
  opened(): void;
  /** an Engine.IO message packet's text (one Socket.IO packet), read at `recvUs` */
  packet(text: string, recvUs: number): void;
  /** the session ended (not by {@link EngineSession.close}): the code to count */
  ended(code: string, problem?: string): void;
}

interface Handshake {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
}

export class EngineSession {
  private sid = '';
  private ws: WebSocket | undefined;
  /** the polling connections: the held GET, and the POSTs beside it */
  private getConn: UndiciClient | undefined;
  private postConn: UndiciClient | undefined;
  private getX: Exchange | undefined;
  private postX: Exchange | undefined;
  private getSentUs = 0;
  private postSentUs = 0;
  private polling = false;
  private posting = false;
  /** packets waiting for the POST in flight (polling) or for the upgrade to finish */
  private readonly outbox: string[] = [];
  /** WebSocket carries the session (from the start, or since the upgrade) */
  private onWs = false;
  /** the probe answered: polling stops once its GET and POST are back */
  private pausing = false;
  private probe: WebSocket | undefined;
  private openedUs = 0;
  private heartbeatMs = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private done = false;
  private readonly origin: string;

  constructor(
    private readonly mode: EngineMode,
    private readonly spec: ClientSpec,
    private readonly events: ClientEvents,
    private readonly sockets: SocketCounter,
    private readonly owner: EngineOwner,
  ) {
    this.origin = spec.baseUrl;
  }

  /** Start the handshake (returns at once). */
  open(): void {
    if (this.mode === 'websocket') this.openWs();
    else this.openPolling();
  }

  /** Send one Socket.IO packet (text) as an Engine.IO message. */
  send(text: string): void {
    this.write(`4${text}`);
  }

  /** End the session and its connections; the owner hears nothing more. Idempotent. */
  async close(): Promise<void> {
    if (this.done && !this.getConn && !this.ws && !this.probe) return;
    this.done = true;
    this.stopHeartbeat();
    const ws = this.ws;
    const probe = this.probe;
    this.ws = this.probe = undefined;
    for (const w of [ws, probe]) {
      if (w && w.readyState === WebSocket.OPEN) w.send('1');
      w?.terminate();
    }
    const conns = [this.getConn, this.postConn];
    this.getConn = this.postConn = undefined;
    await Promise.all(conns.map((c) => c?.destroy().catch(() => undefined)));
  }

  private path(transport: string): string {
    return `/socket.io/?EIO=4&transport=${transport}${this.sid ? `&sid=${encodeURIComponent(this.sid)}` : ''}`;
  }

  private openWs(): void {
    const ws = this.newWs(this.path('websocket'));
    this.ws = ws;
    this.onWs = true;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.receive(data.toString(), nowUs());
    });
    ws.on('close', (code: number) => this.end(`WS_${code}`));
  }

  private newWs(path: string): WebSocket {
    const ws = new WebSocket(this.origin.replace(/^http(s?):/, 'ws$1:') + path, {
      perMessageDeflate: false,
      localAddress: this.spec.localAddress,
      createConnection: countingNetConnect(this.sockets) as unknown as typeof net.createConnection,
      handshakeTimeout: 30_000,
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      this.end(`HTTP_${res.statusCode ?? 0}`, `expected a WebSocket upgrade at ${this.origin}${path} (got HTTP ${res.statusCode})`);
      ws.terminate();
    });
    ws.on('error', (err) => this.end(codeOf(err)));
    return ws;
  }

  private openPolling(): void {
    // no timeouts on the held GET: the server answers it at least every pingInterval, and the
    // heartbeat ends a session whose server went quiet
    this.getConn = openHttpConnection(this.spec, this.sockets, { headersTimeoutMs: 0, bodyTimeoutMs: 0, events: this.events });
    this.getX = new Exchange(this.getConn, this.polled);
    this.poll();
  }

  private poll(): void {
    if (this.done || this.onWs || this.pausing) return;
    this.polling = true;
    this.getSentUs = nowUs();
    this.getX!.send('GET', this.path('polling'));
  }

  private readonly polled = (err: Error | null, status: number, body: Buffer): void => {
    this.polling = false;
    if (this.done) return;
    const doneUs = nowUs();
    if (err !== null) return this.end(codeOf(err));
    const text = body.toString();
    if (status !== 200) return this.end(`HTTP_${status}`, this.sid ? undefined : this.badHandshake(`HTTP ${status} ${JSON.stringify(text.slice(0, 60))}`));
    if (!this.sid && !text.startsWith('0{')) return this.end(EIO_BAD_HANDSHAKE, this.badHandshake(JSON.stringify(text.slice(0, 60))));
    let empty = true;
    for (const p of text.includes(SEPARATOR) ? decodePayload(text) : [decodePacket(text)]) {
      if (p.type === 'message') empty = false;
      this.handle(p, doneUs);
      if (this.done) return;
    }
    this.events.request(this.getSentUs, this.getSentUs, doneUs, empty);
    if (this.pausing) this.maybeUpgrade();
    else this.poll();
  };

  private badHandshake(got: string): string {
    return `expected an Engine.IO open packet (0{"sid":…}) answering GET ${this.origin}${this.path('polling')} (got ${got}): is it a Socket.IO server (v3 or later)?`;
  }

  /** Packets sent while polling go in one POST at a time; the rest wait for it. */
  private write(packet: string): void {
    if (this.done) return;
    if (this.onWs) return void this.ws!.send(packet);
    this.outbox.push(packet);
    if (!this.posting && !this.pausing) this.flush();
  }

  private flush(): void {
    if (this.outbox.length === 0 || this.done) return;
    if (!this.postConn) {
      this.postConn = openHttpConnection(this.spec, this.sockets, { headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000, events: this.events });
      this.postX = new Exchange(this.postConn, this.posted);
    }
    this.posting = true;
    this.postSentUs = nowUs();
    const body = this.outbox.join(SEPARATOR);
    this.outbox.length = 0;
    this.postX!.send('POST', this.path('polling'), body, { 'content-type': 'text/plain;charset=UTF-8' });
  }

  private readonly posted = (err: Error | null, status: number): void => {
    this.posting = false;
    if (this.done) return;
    if (err !== null) return this.end(codeOf(err));
    if (status !== 200) return this.end(`HTTP_${status}`);
    this.events.request(this.postSentUs, this.postSentUs, nowUs(), true);
    if (this.pausing) this.maybeUpgrade();
    else this.flush();
  };

  /** One Engine.IO packet, from a poll's payload or a WebSocket frame. */
  private receive(text: string, recvUs: number): void {
    if (this.done) return;
    // the hot path: a message packet needs no decoding beyond its type character
    if (text.charCodeAt(0) === 0x34 /* '4' */) return this.owner.packet(text.slice(1), recvUs);
    if (!this.sid && !text.startsWith('0{')) return this.end(EIO_BAD_HANDSHAKE, this.badHandshake(JSON.stringify(text.slice(0, 60))));
    this.handle(decodePacket(text), recvUs);
  }

  private handle(p: Packet, recvUs: number): void {
    switch (p.type) {
      case 'message': return this.owner.packet(String(p.data), recvUs);
      case 'open': return this.opened(p.data as string);
      case 'ping':
        this.write('3');
        this.events.engine?.('heartbeat', 0);
        return this.armHeartbeat();
      case 'close': return this.end('EIO_CLOSE');
      default: // noop (the end of a poll held over an upgrade), and what v4 servers do not send
    }
  }

  private opened(data: string): void {
    let h: Handshake;
    try {
      h = JSON.parse(data) as Handshake;
    } catch {
      return this.end(EIO_BAD_HANDSHAKE, this.badHandshake(JSON.stringify(data.slice(0, 60))));
    }
    this.sid = h.sid;
    this.heartbeatMs = h.pingInterval + h.pingTimeout;
    this.openedUs = nowUs();
    this.events.engine?.('open', 0);
    this.armHeartbeat();
    this.owner.opened();
    if (this.mode === 'upgrade' && !this.done) {
      if (h.upgrades.includes('websocket')) this.startProbe();
      else this.events.engine?.('upgrade-failed', 0);
    }
  }

  private armHeartbeat(): void {
    this.stopHeartbeat();
    if (!this.done) this.heartbeat = setTimeout(() => this.end('EIO_PING_TIMEOUT'), this.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** The upgrade probe: a WebSocket on the same sid, `2probe` until `3probe`. */
  private startProbe(): void {
    const probe = this.newWs(this.path('websocket'));
    this.probe = probe;
    const failed = (): void => {
      if (this.probe !== probe || this.done) return;
      this.probe = undefined;
      this.pausing = false;
      this.events.engine?.('upgrade-failed', 0);
      this.poll();
      this.flush();
    };
    // a failed probe must not end the session: replace newWs's handlers
    probe.removeAllListeners('error').removeAllListeners('unexpected-response');
    probe.on('error', failed);
    probe.on('unexpected-response', (_req, res) => (res.resume(), probe.terminate()));
    probe.on('open', () => probe.send('2probe'));
    probe.on('message', (data: Buffer) => {
      const text = data.toString();
      if (this.onWs) return this.receive(text, nowUs());
      if (text !== '3probe') return failed();
      this.pausing = true;
      this.maybeUpgrade();
    });
    probe.on('close', (code: number) => (this.onWs ? this.end(`WS_${code}`) : failed()));
  }

  /** Polling paused: once neither its GET nor a POST is in flight, `5` over the WebSocket. */
  private maybeUpgrade(): void {
    if (this.polling || this.posting || this.done || !this.probe) return;
    this.ws = this.probe;
    this.probe = undefined;
    this.onWs = true;
    this.pausing = false;
    this.ws.send('5');
    this.events.engine?.('upgraded', nowUs() - this.openedUs);
    for (const p of this.outbox.splice(0)) this.ws.send(p);
    const conns = [this.getConn, this.postConn];
    this.getConn = this.postConn = undefined;
    for (const c of conns) void c?.close().catch(() => undefined);
  }

  /** The session ended on its own: tell the owner once. */
  private end(code: string, problem?: string): void {
    if (this.done) return;
    void this.close();
    this.owner.ended(code, problem);
  }
}
