/**
 * SSE over HTTP/2: `GET /sse-h2?topic=T` with `Accept: text/event-stream` (and `Last-Event-ID`
 * when resuming) as one stream of an HTTP/2 connection (`node:http2` over TLS, ALPN `h2`), the
 * body fed into {@link SseParser} as SSE's is.
 *
 * The browser model: a client is one subscription (a tab's EventSource); `--streams-per-connection
 * N` subscriptions of one generator thread, in arrival order, form one browser and share its one
 * connection, which the browser opens when its first tab asks and opens again, once, when it was
 * lost (the first tab to reconnect opens it, the others' streams join it). The browser keeps its
 * TLS session ticket and offers it on its next connection. Its connection's bytes are counted on
 * its first tab's books (the sum over clients is the wire's); its handshakes too.
 *
 * Reports per stream: `connected` at its response headers (the first tab's includes the TCP and TLS
 * connect); each `message` event; `event: gap` as `gap()`. The stream ending counts `SSE_EOF`, a
 * non-200 answer `HTTP_<status>`, a stream reset or its connection lost the error's code
 * (`SSE_H2_CUT` when the stream closed without one); each reconnects after backoff, resuming.
 *
 * Threading: a browser's tabs live on one worker thread's event loop.
 */
import http2 from 'node:http2';
import { codeOf } from '../../core/errors.ts';
import { nowUs } from '../../core/wire.ts';
import { BaseClient } from './client-base.ts';
import { ContractCodec, httpStatusCode } from './codec.ts';
import { Cursor } from './cursor.ts';
import { ContractUpstream } from './publish.ts';
import type { SseDataReader, SseParser } from './sse-parser.ts';
import { eventStreamParser, SSE_EOF } from './sse.ts';
import { profileRules } from './profile-rules.ts';
import { SocketCounter } from './sockets.ts';
import { ReadThrottle } from './throttle.ts';
import { TlsDialer } from './tls.ts';
import type { ClientEvents, ClientSpec, Dialect, Driver } from './types.ts';

/** How long a closing connection may wait for its streams before it is destroyed, ms. */
const CLOSE_GRACE_MS = 500;

/** Error code of a stream that closed without an end and without an error (its connection went). */
export const SSE_H2_CUT = 'SSE_H2_CUT';
/** Error code of a run without TLS: browsers speak HTTP/2 over TLS only (the option checks refuse it first). */
export const SSE_H2_NEEDS_TLS = 'SSE_H2_NEEDS_TLS';

const ACCEPT: Readonly<Record<string, string>> = Object.freeze({ accept: 'text/event-stream' });

/**
 * The receive windows a browser advertises (Chromium's net/http/http_network_session.cc: 6 MB per
 * stream, 15 MB per connection). Node's default is HTTP/2's initial 65,535 bytes for both, which
 * caps a whole connection at 64 KB per round trip: behind a 25 ms proxy that is ~640 KB/s shared by
 * every tab, a limit of the simulator that a browser does not have.
 */
export const BROWSER_STREAM_WINDOW_BYTES = 6 * 1024 * 1024;
export const BROWSER_CONNECTION_WINDOW_BYTES = 15 * 1024 * 1024;
const H2_ALPN = ['h2'] as const;

/** One simulated browser: one HTTP/2 connection (opened on demand) shared by up to `capacity` tabs. */
class Browser {
  /** tabs that joined (never more than capacity); a full or emptied browser takes no more */
  joined = 0;
  private live = 0;
  readonly counter = new SocketCounter();
  private readonly dialer: TlsDialer;
  private session: http2.ClientHttp2Session | undefined;
  private readonly url: URL;

  constructor(
    private readonly spec: ClientSpec,
    events: ClientEvents,
    readonly capacity: number,
  ) {
    this.url = new URL(spec.baseUrl);
    // the handshakes are the connection's: heard on the first tab's books
    this.dialer = new TlsDialer(spec.tls ?? {}, events);
  }

  get open(): boolean {
    return this.joined < this.capacity && (this.joined === 0 || this.live > 0);
  }

  join(): void {
    this.joined++;
    this.live++;
  }

  /** The connection, opened again when it was lost or is going away. Throws when it cannot be made. */
  connection(): http2.ClientHttp2Session {
    const s = this.session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    if (this.spec.tls === undefined) throw Object.assign(new Error('SSE over HTTP/2 needs TLS'), { code: SSE_H2_NEEDS_TLS });
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(this.url.port) || 443;
    const session = http2.connect(this.spec.baseUrl, {
      createConnection: () => this.dialer.connect(this.counter, { host, port, localAddress: this.spec.localAddress, alpn: H2_ALPN }),
      settings: { enablePush: false, initialWindowSize: BROWSER_STREAM_WINDOW_BYTES },
    });
    // the connection window is not a setting: it is opened by a WINDOW_UPDATE once connected
    session.once('connect', () => session.setLocalWindowSize(BROWSER_CONNECTION_WINDOW_BYTES));
    // a lost connection is reported by each of its streams
    session.on('error', () => {});
    session.once('close', () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }

  /** A tab closed; the last one closes the connection (resolves once its socket is closed). */
  async leave(): Promise<void> {
    if (--this.live > 0) return;
    const s = this.session;
    this.session = undefined;
    if (s !== undefined && !s.destroyed) {
      // close(cb) never calls back on a session already closing (a GOAWAY came): wait for its 'close'.
      // A graceful close also waits for streams a slow tab paused, whose data is never read: after
      // CLOSE_GRACE_MS the connection is dropped, as a browser drops it when its last tab goes.
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.close();
      const grace = setTimeout(() => s.destroy(), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(grace);
    }
    this.counter.destroyAll();
  }
}

/** Browsers still taking tabs, per target (a thread's runs follow each other; each target its own). */
const forming = new Map<string, Browser>();

/** The browser client `spec` joins: the forming one of its thread, or a new one when that is full. */
function browserFor(spec: ClientSpec, events: ClientEvents): { browser: Browser; first: boolean } {
  const capacity = Math.max(1, spec.streamsPerConnection ?? 1);
  let b = forming.get(spec.baseUrl);
  if (b === undefined || !b.open || b.capacity !== capacity) {
    b = new Browser(spec, events, capacity);
    forming.set(spec.baseUrl, b);
  }
  b.join();
  if (!b.open) forming.delete(spec.baseUrl);
  return { browser: b, first: b.joined === 1 };
}

export class SseH2Client extends BaseClient implements SseDataReader {
  private readonly parser: SseParser;
  private readonly browser: Browser;
  /** this tab's connection bytes are the browser's (the first tab) or none */
  private readonly countsConnection: boolean;
  private stream: http2.ClientHttp2Stream | undefined;
  private status = 0;
  private requestStartUs = 0;
  private recvUs = 0;
  private readonly throttle: ReadThrottle | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;

  constructor(spec: ClientSpec, events: ClientEvents, dialect?: Dialect) {
    super(spec, events,
      dialect?.codec(spec, events) ?? new ContractCodec(new Cursor(events), `/sse-h2?topic=${encodeURIComponent(spec.topic)}`, 'last-event-id', ACCEPT),
      dialect?.upstream(spec, events) ?? new ContractUpstream(spec, events));
    const { browser, first } = browserFor(spec, events);
    this.browser = browser;
    this.countsConnection = first;
    this.throttle = spec.readBytesPerS === undefined ? undefined : new ReadThrottle(spec.readBytesPerS);
    this.parser = eventStreamParser(this.codec, () => this.closed, () => this.recvUs, this.reconnector.backoff, this);
  }

  /** True while this tab's stream is being received. */
  get open(): boolean {
    return !this.closed && this.status === 200;
  }

  start(): void {
    this.connect();
  }

  protected reconnect(): void {
    this.connect();
  }

  override bytes(): { read: number; written: number } {
    const own = super.bytes();
    return this.countsConnection ? this.browser.counter.addBytesTo(own) : own;
  }

  /** {@link SseDataReader}: a message in the contract's exact form, read by the codec in place. */
  readInPlace(buf: Buffer, from: number, to: number): number {
    return this.codec.readInPlace(buf, from, to);
  }

  /** {@link SseDataReader}: the message read in place was a whole event. */
  deliverInPlace(): void {
    if (!this.closed) this.codec.deliverInPlace(this.recvUs);
  }

  private connect(): void {
    if (this.closed) return;
    this.parser.reset();
    this.status = 0;
    this.requestStartUs = nowUs();
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.browser.connection().request({ ':method': 'GET', ':path': this.codec.path(), ...this.codec.headers() }, { endStream: true });
    } catch (err) {
      this.fail(codeOf(err));
      return;
    }
    this.stream = stream;
    let code: string | undefined;
    stream.once('response', (headers) => {
      this.status = Number(headers[':status']);
      if (this.status !== 200) return;
      this.reconnector.backoff.reset();
      if (!this.closed) this.events.connected(nowUs() - this.requestStartUs);
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.status === 200) this.onChunk(stream, chunk);
    });
    stream.once('end', () => (code ??= this.status === 200 ? SSE_EOF : httpStatusCode(this.status)));
    stream.on('error', (err) => (code ??= codeOf(err)));
    stream.once('close', () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.status = 0;
      if (this.pauseTimer) clearTimeout(this.pauseTimer);
      this.pauseTimer = undefined;
      this.fail(code ?? SSE_H2_CUT);
    });
  }

  /** Read a chunk; a slow consumer pauses its stream (HTTP/2 flow control then holds the server's writes). */
  private onChunk(stream: http2.ClientHttp2Stream, chunk: Buffer): void {
    this.recvUs = nowUs();
    this.parser.push(chunk);
    const waitMs = this.throttle?.take(chunk.length) ?? 0;
    if (waitMs === 0) return;
    stream.pause();
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      stream.resume();
    }, waitMs);
  }

  protected async shutdown(): Promise<void> {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    const s = this.stream;
    this.stream = undefined;
    if (s !== undefined && !s.destroyed) s.close(http2.constants.NGHTTP2_CANCEL);
    await this.browser.leave();
  }
}

export const sseH2Driver: Driver = {
  transport: 'sse-h2',
  title: 'SSE over HTTP/2',
  colour: '#72b7b2',
  traits: { pollInterval: false, longPollTimeout: false, publishesInBand: false, multiplexes: true, tlsOnly: true },
  profile: profileRules({
    cursors: ['last-event-id', 'none'],
    split: false,
    events: true,
    reference: { url: '/sse-h2?topic={topic}', headers: { accept: 'text/event-stream' }, json: 'data', cursor: { style: 'last-event-id' } },
  }),
  create: (spec, events, dialect) => new SseH2Client(spec, events, dialect),
};
