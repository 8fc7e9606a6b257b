/**
 * Base of the HTTP transports whose answer is one long response (SSE, HTTP streaming): a GET on
 * the client's keep-alive connection, its body handed chunk by chunk to the transport's reader
 * ({@link StreamClient.onBody}) through undici's raw dispatch handler; a slow consumer pauses
 * undici's reading between chunks.
 *
 * Reports `connected(headersUs - requestStartUs)` when a 200 response's headers arrive. The
 * stream ending (the transport's end-of-stream code), a transport error or a non-200 status
 * (`HTTP_<status>`) counts its code and reconnects after backoff, resuming where the codec stands.
 */
import type { Dispatcher } from 'undici';
import { codeOf } from '../../core/errors.ts';
import { nowUs } from '../../core/wire.ts';
import { httpStatusCode } from './codec.ts';
import { HttpClientBase } from './http.ts';
import { ReadThrottle } from './throttle.ts';
import type { ClientEvents, ClientSpec, Codec, Upstream } from './types.ts';

export abstract class StreamClient extends HttpClientBase {
  private readonly handler: Dispatcher.DispatchHandler;
  private abortStream: ((err?: Error) => void) | undefined;
  private requestStartUs = 0;
  /** status of the response in progress (0 before headers) */
  private status = 0;
  /** the code that ended the attempt from inside (the reader gave up), reported instead of the abort's */
  private attemptError: string | undefined;
  /** when the chunk being read was read */
  protected recvUs = 0;
  /** slow consumers only: the read budget, undici's resume for the paused stream, its timer */
  private readonly throttle: ReadThrottle | undefined;
  private resumeStream: (() => void) | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;

  constructor(spec: ClientSpec, events: ClientEvents, codec: Codec, upstream: Upstream | undefined, private readonly eofCode: string) {
    // No body timeout: a stream may be quiet between heartbeats for as long as the server likes.
    super(spec, events, { headersTimeoutMs: 30_000, bodyTimeoutMs: 0 }, codec, upstream);
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
      onData: (chunk) => (this.status === 200 ? this.onChunk(chunk) : true),
      onComplete: () => this.ended(this.status === 200 ? this.eofCode : httpStatusCode(this.status)),
      onError: (err) => this.ended(this.attemptError ?? this.errorCode(err, this.status === 200)),
    };
  }

  /** True while a stream is being received. */
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

  /** A new request begins: forget whatever the reader kept of the last body. */
  protected abstract resetBody(): void;

  /** One chunk of a 200 body, read at {@link recvUs}. */
  protected abstract onBody(chunk: Buffer): void;

  /** The stable code of an error that ended the attempt (`inStream`: after a 200's headers). */
  protected errorCode(err: Error, _inStream: boolean): string {
    return codeOf(err);
  }

  /** Give up the stream in progress, counting `code` (a body the reader cannot go on with). */
  protected abandon(code: string): void {
    this.attemptError = code;
    this.abortStream?.();
  }

  private connect(): void {
    if (this.closed) return;
    this.resetBody();
    this.status = 0;
    this.attemptError = undefined;
    this.requestStartUs = nowUs();
    this.http.dispatch({ method: 'GET', path: this.codec.path(), headers: this.codec.headers() }, this.handler);
  }

  /** Read a chunk; false pauses undici's reading until the throttle's wait is over (a slow consumer). */
  private onChunk(chunk: Buffer): boolean {
    this.recvUs = nowUs();
    this.onBody(chunk);
    const waitMs = this.throttle?.take(chunk.length) ?? 0;
    if (waitMs === 0) return true;
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      this.resumeStream?.();
    }, waitMs);
    return false;
  }

  private ended(code: string): void {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.status = 0;
    this.abortStream = undefined;
    this.fail(code);
  }
}
