/**
 * HTTP streaming driver: `GET /stream?topic=T[&since=S&epoch=E]` on one keep-alive undici
 * connection, the body one long response of newline-delimited JSON: each line is handed to the
 * codec as it arrives (the contract's lines are read in place by the cursor, a GapNotice line
 * included), empty lines (heartbeats) are skipped.
 *
 * Reports: `connected(headersUs - requestStartUs)` when a 200 response's headers arrive; each line
 * as a message received when its chunk was read. The stream ending (`STREAM_EOF`), the connection
 * closing before its last chunk (`STREAM_CUT`), another transport error, a non-200 status
 * (`HTTP_<status>`) or a line that is not UTF-8 (`STREAM_INVALID_UTF8`) counts its code and
 * reconnects after backoff, resuming from the last message seen.
 */
import type { Dispatcher } from 'undici';
import { codeOf } from '../../core/errors.ts';
import { nowUs } from '../../core/wire.ts';
import { ContractCodec, httpStatusCode } from './codec.ts';
import { Cursor } from './cursor.ts';
import { HttpClientBase } from './http.ts';
import { ContractUpstream } from './publish.ts';
import { ReadThrottle } from './throttle.ts';
import type { ClientEvents, ClientSpec, Dialect, Driver } from './types.ts';

/** Error code counted when the server ends the stream (its last chunk came). */
export const STREAM_EOF = 'STREAM_EOF';
/** Error code counted when the connection closed inside the stream (undici: a parser error without a code). */
export const STREAM_CUT = 'STREAM_CUT';
/** Error code of a stream abandoned for a line that is not UTF-8. */
export const STREAM_INVALID_UTF8 = 'STREAM_INVALID_UTF8';

const LF = 0x0a;
const ACCEPT: Readonly<Record<string, string>> = Object.freeze({ accept: 'application/x-ndjson' });

export class HttpStreamClient extends HttpClientBase {
  private readonly handler: Dispatcher.DispatchHandler;
  private abortStream: ((err?: Error) => void) | undefined;
  private requestStartUs = 0;
  /** status of the response in progress (0 before headers) */
  private status = 0;
  /** the start of a line the last chunk ended inside (a copy), or null */
  private carry: Buffer | null = null;
  /** the code that ended the attempt from inside (an invalid line), reported instead of the abort's */
  private attemptError: string | undefined;
  /** slow consumers only: the read budget, undici's resume for the paused stream, its timer */
  private readonly throttle: ReadThrottle | undefined;
  private resumeStream: (() => void) | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;

  constructor(spec: ClientSpec, events: ClientEvents, dialect?: Dialect) {
    // No body timeout: a stream may be quiet between heartbeats for as long as the server likes.
    super(spec, events, { headersTimeoutMs: 30_000, bodyTimeoutMs: 0 },
      dialect?.codec(spec, events) ?? new ContractCodec(new Cursor(events), `/stream?topic=${encodeURIComponent(spec.topic)}`, 'query', ACCEPT),
      dialect?.upstream(spec, events) ?? new ContractUpstream(spec, events));
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
      onComplete: () => this.ended(this.status === 200 ? STREAM_EOF : httpStatusCode(this.status)),
      onError: (err) => this.ended(this.attemptError ?? this.errorCode(err)),
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

  private connect(): void {
    if (this.closed) return;
    this.status = 0;
    this.carry = null;
    this.attemptError = undefined;
    this.requestStartUs = nowUs();
    this.http.dispatch({ method: 'GET', path: this.codec.path(), headers: this.codec.headers() }, this.handler);
  }

  /** One chunk of the body: its whole lines to the codec, the rest kept; false pauses the stream (slow consumer). */
  private onChunk(chunk: Buffer): boolean {
    const recvUs = nowUs();
    const buf = this.carry === null ? chunk : Buffer.concat([this.carry, chunk]);
    this.carry = null;
    let start = 0;
    for (let nl = buf.indexOf(LF); nl >= 0; nl = buf.indexOf(LF, start)) {
      if (nl > start && !this.closed && !this.codec.text(buf, start, nl, recvUs)) {
        this.attemptError = STREAM_INVALID_UTF8;
        this.abortStream?.();
        return true;
      }
      start = nl + 1;
    }
    if (start < buf.length) this.carry = Buffer.from(buf.subarray(start));
    const waitMs = this.throttle?.take(chunk.length) ?? 0;
    if (waitMs === 0) return true;
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      this.resumeStream?.();
    }, waitMs);
    return false;
  }

  /** The stable code of an error that ended the attempt. */
  private errorCode(err: Error): string {
    const code = codeOf(err);
    return this.status === 200 && code === 'HTTPParserError' ? STREAM_CUT : code;
  }

  private ended(code: string): void {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.status = 0;
    this.carry = null;
    this.abortStream = undefined;
    this.fail(code);
  }
}

export const httpStreamDriver: Driver = {
  transport: 'http-stream',
  title: 'HTTP streaming',
  colour: '#b279a2',
  traits: { pollInterval: false, longPollTimeout: false, publishesInBand: false },
  profile: {
    placeholders: ['topic'],
    cursors: ['none', 'query'],
    cursorFromHeader: false,
    split: true,
    events: false,
    emptyAnswers: false,
    reference: { url: '/stream?topic={topic}', headers: { accept: 'application/x-ndjson' }, json: 'data', cursor: { style: 'query', param: 'since', from: 'json:seq' } },
  },
  create: (spec, events, dialect) => new HttpStreamClient(spec, events, dialect),
};
