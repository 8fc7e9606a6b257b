/**
 * undici plumbing shared by the HTTP transports (SSE, HTTP streaming, long poll, short poll): one
 * keep-alive connection per client (pipelining 1) with counted sockets, and a reusable
 * body-collecting request.
 *
 * The request handlers use undici's raw dispatch handler interface (onConnect/onHeaders/onData/
 * onComplete/onError): it is what undici's Client runs natively, so a response costs no header
 * object and no body stream — the hot path of a poll is one Buffer per chunk, read as bytes
 * by the client's codec.
 */
import { Client as UndiciClient } from 'undici';
import type { Dispatcher } from 'undici';
import { codeOf } from '../../core/errors.ts';
import { nowUs } from '../../core/wire.ts';
import { BaseClient } from './client-base.ts';
import { countingConnector, type SocketCounter } from './sockets.ts';
import { TlsDialer, tlsConnector } from './tls.ts';
import type { ClientEvents, ClientSpec, Codec, ResponseHeaders, Upstream } from './types.ts';

export { httpStatusCode } from './codec.ts';

/** What an HTTP/1.1 connection offers in ALPN. */
const HTTP1_ALPN = ['http/1.1'] as const;

/** Options of one keep-alive connection; times in ms, 0 disables a timeout. */
export interface HttpConnectionOptions {
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** how long an idle keep-alive socket is kept when the server gives no hint */
  keepAliveTimeoutMs?: number;
  /** called with the TCP connect time of each new socket (omit when "connected" means later); with TLS the handshake's too */
  onConnected?: (connectUs: number) => void;
  /** hears each TLS handshake of this connection (`spec.tls`) */
  events?: ClientEvents;
}

/**
 * An undici Client on `spec.baseUrl` from `spec.localAddress`, its sockets counted in `sockets`;
 * over TLS (`spec.tls`) with a session of its own, resumed on its reconnects.
 */
export function openHttpConnection(spec: ClientSpec, sockets: SocketCounter, opts: HttpConnectionOptions): UndiciClient {
  return new UndiciClient(spec.baseUrl, {
    pipelining: 1,
    localAddress: spec.localAddress,
    connect: spec.tls
      ? tlsConnector(new TlsDialer(spec.tls, opts.events), sockets, HTTP1_ALPN, opts.onConnected)
      : countingConnector(sockets, opts.onConnected),
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: opts.bodyTimeoutMs,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 10_000,
  });
}

/**
 * Result of one exchange: a transport error, or the status and the whole body — the bytes as read
 * (a view of the socket's read when it came in one; valid to keep, but copy a slice you keep long).
 */
export type ExchangeCallback = (err: Error | null, status: number, body: Buffer) => void;

const EMPTY_BODY = Buffer.alloc(0);

/**
 * One request at a time on one connection, its body collected into one Buffer. Reused for every
 * request of a poll loop (no per-request handler object). Never call `send` while one is in flight.
 */
export class Exchange implements Dispatcher.DispatchHandler, ResponseHeaders {
  private status = 0;
  /** the last response's raw headers (name, value, name, value …), kept by reference, not parsed */
  private rawHeaders: Buffer[] | string[] | null = null;
  private readonly chunks: Buffer[] = [];
  private abortFn: ((err?: Error) => void) | undefined;
  private inFlight = false;

  constructor(
    private readonly http: UndiciClient,
    private readonly done: ExchangeCallback,
  ) {}

  send(method: Dispatcher.HttpMethod, path: string, body?: string, headers?: Record<string, string>): void {
    this.inFlight = true;
    this.http.dispatch({ method, path, body, headers }, this);
  }

  /** Abort the request in flight, if any (its callback then reports the abort error). */
  abort(): void {
    if (this.inFlight) this.abortFn?.();
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    this.status = 0;
    this.chunks.length = 0;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    return true;
  }

  /** Value of response header `name` (lower case) of the last answer; valid inside its callback. */
  header(name: string): string | undefined {
    const h = this.rawHeaders;
    if (h === null) return undefined;
    for (let i = 0; i + 1 < h.length; i += 2) {
      if (h[i].toString().toLowerCase() === name) return h[i + 1].toString();
    }
    return undefined;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    const chunks = this.chunks;
    const body = chunks.length === 1 ? chunks[0] : chunks.length === 0 ? EMPTY_BODY : Buffer.concat(chunks);
    chunks.length = 0;
    this.finish(null, body);
  }

  onError(err: Error): void {
    this.chunks.length = 0;
    this.finish(err, EMPTY_BODY);
  }

  private finish(err: Error | null, body: Buffer): void {
    this.inFlight = false;
    this.abortFn = undefined;
    this.done(err, this.status, body);
    // header() is valid inside the callback only. Empty the array too, not just drop it: it is
    // undici's parser's own header list, which the parser allocated at the end of the previous
    // response and held through the gap between requests — long enough to be promoted. An old array
    // that became garbage still keeps what it points to alive through every scavenge (the write
    // barrier's remembered set), so the response's header Buffers, young, were promoted with it and
    // left for a mark-compact. Undici does not read the array after handing it over
    // (test/load/drivers/exchange.test.ts).
    const h = this.rawHeaders;
    if (h !== null) h.length = 0;
    this.rawHeaders = null;
  }
}

/**
 * Base of the HTTP transports: the main connection (`http`), whose sockets are the client's, and a
 * shutdown that destroys it.
 */
export abstract class HttpClientBase extends BaseClient {
  protected readonly http: UndiciClient;
  /** whether the last answer {@link pollAnswered} accepted was empty (a drain asks again while not) */
  protected answeredEmpty = true;

  constructor(spec: ClientSpec, events: ClientEvents, opts: HttpConnectionOptions, codec: Codec, upstream: Upstream | undefined) {
    super(spec, events, codec, upstream);
    this.http = openHttpConnection(spec, this.sockets, { ...opts, events });
  }

  /** True while the main connection has an open socket. */
  get open(): boolean {
    return !this.closed && this.sockets.liveCount > 0;
  }

  /**
   * Handle the outcome of one poll: on an answer the codec reads (messages, gap, cursor) emit
   * `request(plannedUs, sentUs, done, empty)`, reset the backoff and return true (the caller sends
   * the next poll); otherwise count the code, schedule a reconnect, and return false. Returns
   * false without a sound once closed.
   */
  protected pollAnswered(err: Error | null, status: number, body: Buffer, exchange: Exchange, plannedUs: number, sentUs: number): boolean {
    if (this.closed) return false;
    const doneUs = nowUs();
    let code: string | undefined;
    if (err !== null) code = codeOf(err);
    else {
      const empty = this.codec.answer(status, body, doneUs, exchange);
      if (typeof empty === 'string') code = empty;
      else {
        this.answeredEmpty = empty;
        this.events.request(plannedUs, sentUs, doneUs, empty);
      }
    }
    if (code !== undefined) {
      this.fail(code);
      return false;
    }
    this.reconnector.backoff.reset();
    return true;
  }

  /** Stop the transport's own work (timers, in-flight requests) before the connection goes. */
  protected abstract stop(): void;

  protected async shutdown(): Promise<void> {
    this.stop();
    await this.http.destroy();
  }
}
