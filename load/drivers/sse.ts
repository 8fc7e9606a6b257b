/**
 * Server-Sent Events driver: `GET /sse?topic=T` with `Accept: text/event-stream` (and
 * `Last-Event-ID: <epoch>:<seq>` when resuming) on one keep-alive undici connection, the body
 * fed chunk by chunk into {@link SseParser} — no EventSource library in the hot path.
 *
 * Reports: `connected(headersUs - requestStartUs)` when a 200 response's headers arrive; each
 * `message` event's data as a message (received at the time its chunk was read); `event: gap`
 * as `gap()`. The stream ending (`SSE_EOF`), a transport error or a non-200 status
 * (`HTTP_<status>`) counts its code and reconnects after backoff; the first wait is the server's
 * `retry:` when it sent one (capped at `reconnectMaxMs`), doubling from there.
 */
import type { Dispatcher } from 'undici';
import { codeOf } from '../../core/errors.ts';
import { nowUs } from '../../core/wire.ts';
import { ContractCodec, httpStatusCode } from './codec.ts';
import { Cursor } from './cursor.ts';
import { HttpClientBase } from './http.ts';
import { ContractUpstream } from './publish.ts';
import { SseParser, type SseDataReader } from './sse-parser.ts';
import { ReadThrottle } from './throttle.ts';
import type { ClientEvents, ClientSpec, Dialect, Driver } from './types.ts';

/** Error code counted when the server ends an event stream. */
export const SSE_EOF = 'SSE_EOF';

/** What an event-stream request asks for (the contract's; a profile states its own headers). */
const ACCEPT: Readonly<Record<string, string>> = Object.freeze({ accept: 'text/event-stream' });

export class SseClient extends HttpClientBase implements SseDataReader {
  private readonly parser: SseParser;
  private readonly handler: Dispatcher.DispatchHandler;
  private abortStream: ((err?: Error) => void) | undefined;
  private requestStartUs = 0;
  /** status of the response in progress (0 before headers) */
  private status = 0;
  /** when the chunk being parsed was read */
  private recvUs = 0;
  /** slow consumers only: the read budget, undici's resume for the paused stream, its timer */
  private readonly throttle: ReadThrottle | undefined;
  private resumeStream: (() => void) | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;

  constructor(spec: ClientSpec, events: ClientEvents, dialect?: Dialect) {
    // No body timeout: a stream may be quiet between heartbeats for as long as the server likes.
    super(spec, events, { headersTimeoutMs: 30_000, bodyTimeoutMs: 0 },
      dialect?.codec(spec, events) ?? new ContractCodec(new Cursor(events), `/sse?topic=${encodeURIComponent(spec.topic)}`, 'last-event-id', ACCEPT),
      dialect?.upstream(spec, events) ?? new ContractUpstream(spec, events));
    this.parser = new SseParser(
      (type, data, id) => {
        if (!this.closed) this.codec.event(type, data, id, this.recvUs);
      },
      (retryMs) => this.reconnector.backoff.setMinMs(retryMs),
      (buf, start, end) => {
        if (!this.closed) this.codec.messageBytes(buf, start, end, this.parser.lastEventId, this.recvUs);
      },
      // the client itself, not closures: one object fewer to touch per event
      this.codec.readsInPlace ? this : undefined,
    );
    this.throttle = spec.readBytesPerS === undefined ? undefined : new ReadThrottle(spec.readBytesPerS);
    this.handler = {
      onConnect: (abort) => {
        this.abortStream = abort;
      },
      onHeaders: (statusCode, _headers, resume) => {
        this.status = statusCode;
        this.resumeStream = resume;
        if (statusCode === 200) {
          this.reconnector.backoff.reset();
          if (!this.closed) this.events.connected(nowUs() - this.requestStartUs);
        }
        return true;
      },
      onData: (chunk) => {
        if (this.status === 200) {
          this.recvUs = nowUs();
          this.parser.push(chunk);
          // A slow consumer: returning false pauses undici's reading until resume().
          const waitMs = this.throttle?.take(chunk.length) ?? 0;
          if (waitMs > 0) {
            this.pauseTimer = setTimeout(() => {
              this.pauseTimer = undefined;
              this.resumeStream?.();
            }, waitMs);
            return false;
          }
        }
        return true;
      },
      onComplete: () => this.ended(this.status === 200 ? SSE_EOF : httpStatusCode(this.status)),
      onError: (err) => this.ended(codeOf(err)),
    };
  }

  /** True while an event stream is being received. */
  override get open(): boolean {
    return !this.closed && this.status === 200;
  }

  start(): void {
    this.connect();
  }

  protected reconnect(): void {
    this.connect();
  }

  protected stop(): void {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.abortStream?.();
  }

  private connect(): void {
    if (this.closed) return;
    this.parser.reset();
    this.status = 0;
    this.requestStartUs = nowUs();
    this.http.dispatch({ method: 'GET', path: this.codec.path(), headers: this.codec.headers() }, this.handler);
  }

  private ended(code: string): void {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.status = 0;
    this.abortStream = undefined;
    this.fail(code);
  }

  /** {@link SseDataReader}: a message in the contract's exact form, read by the codec in place. */
  readInPlace(buf: Buffer, from: number, to: number): number {
    return this.codec.readInPlace(buf, from, to);
  }

  /** {@link SseDataReader}: the message read in place was a whole event, read at {@link recvUs}. */
  deliverInPlace(): void {
    if (!this.closed) this.codec.deliverInPlace(this.recvUs);
  }
}

export const sseDriver: Driver = {
  transport: 'sse',
  title: 'Server-Sent Events',
  claimRank: 2,
  colour: '#f58518',
  traits: { pollInterval: false, longPollTimeout: false, publishesInBand: false },
  profile: {
    placeholders: ['topic'],
    cursors: ['last-event-id', 'none'],
    cursorFromHeader: false,
    split: false,
    events: true,
    emptyAnswers: false,
    reference: { url: '/sse?topic={topic}', headers: { accept: 'text/event-stream' }, json: 'data', cursor: { style: 'last-event-id' } },
  },
  create: (spec, events, dialect) => new SseClient(spec, events, dialect),
};
