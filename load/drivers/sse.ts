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
import { HttpClientBase, httpStatusCode } from './http.ts';
import { SseParser, type SseDataReader } from './sse-parser.ts';
import { ReadThrottle } from './throttle.ts';
import type { ClientEvents, ClientSpec, Driver } from './types.ts';

/** Error code counted when the server ends an event stream. */
export const SSE_EOF = 'SSE_EOF';

export class SseClient extends HttpClientBase implements SseDataReader {
  private readonly parser: SseParser;
  private readonly path: string;
  private readonly handler: Dispatcher.DispatchHandler;
  private abortStream: ((err?: Error) => void) | undefined;
  private requestStartUs = 0;
  /** status of the response in progress (0 before headers) */
  private status = 0;
  /** when the chunk being parsed was read */
  protected recvUs = 0;
  /** slow consumers only: the read budget, undici's resume for the paused stream, its timer */
  private readonly throttle: ReadThrottle | undefined;
  private resumeStream: (() => void) | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;

  constructor(spec: ClientSpec, events: ClientEvents) {
    // No body timeout: a stream may be quiet between heartbeats for as long as the server likes.
    super(spec, events, { headersTimeoutMs: 30_000, bodyTimeoutMs: 0 });
    this.path = `/sse?topic=${encodeURIComponent(spec.topic)}`;
    this.parser = new SseParser(
      (type, data, id) => this.onEvent(type, data, id),
      (retryMs) => this.reconnector.backoff.setMinMs(retryMs),
      (buf, start, end) => this.onMessageBytes(buf, start, end),
      // the client itself, not closures: one object fewer to touch per event
      this.readsInPlace ? this : undefined,
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
    this.http.dispatch({ method: 'GET', path: this.requestPath(), headers: this.requestHeaders() }, this.handler);
  }

  /** Path of the next stream request (a target profile supplies its own). */
  protected requestPath(): string {
    return this.path;
  }

  /** Headers of the next stream request: `Accept`, and `Last-Event-ID` when resuming. */
  protected requestHeaders(): Record<string, string> {
    const lastEventId = this.cursor.lastEventId();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    return headers;
  }

  private ended(code: string): void {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.status = 0;
    this.abortStream = undefined;
    this.fail(code);
  }

  /** The last event id the stream set (what a profile's `last-event-id` cursor resumes from). */
  protected get lastEventId(): string {
    return this.parser.lastEventId;
  }

  /**
   * A `message` event whose data is one line, as bytes of the chunk read at {@link recvUs} (the
   * parser's byte path); a target profile decodes its own text instead.
   */
  protected onMessageBytes(buf: Buffer, start: number, end: number): void {
    if (!this.closed) this.cursor.messageBytes(buf, start, end, this.recvUs);
  }

  /**
   * Whether a `message` event's data may be read in place by the cursor as the contract's exact
   * form (the parser's one pass, {@link SseDataReader}); a target profile decodes its own text.
   */
  protected get readsInPlace(): boolean {
    return true;
  }

  /** {@link SseDataReader}: a message in the contract's exact form, read by the cursor. */
  readInPlace(buf: Buffer, from: number, to: number): number {
    return this.cursor.readMessageAt(buf, from, to);
  }

  /** {@link SseDataReader}: the message read in place was a whole event, read at {@link recvUs}. */
  deliverInPlace(): void {
    if (!this.closed) this.cursor.deliverRead(this.recvUs);
  }

  /** One dispatched event, read at {@link recvUs} (a target profile decodes its own). */
  protected onEvent(type: string, data: string, _lastEventId: string): void {
    if (this.closed) return;
    if (type === 'message') this.cursor.message(data, this.recvUs);
    else if (type === 'gap') this.cursor.gap(data);
  }
}

export const sseDriver: Driver = {
  transport: 'sse',
  title: 'Server-Sent Events',
  claimRank: 2,
  colour: '#f58518',
  traits: { pollInterval: false, longPollTimeout: false, publishesInBand: false },
  create: (spec, events) => new SseClient(spec, events),
};
