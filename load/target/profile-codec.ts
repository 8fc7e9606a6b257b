/**
 * A target profile's dialect: the {@link Codec} one client of a profiled server runs, built from
 * the profile's description of its transport (profile.ts) — the request (path, headers, resume) and
 * the decoding (extract.ts) — and its publishes (upstream.ts). The connection handling, backoff,
 * socket accounting and slow-consumer throttling are the transport's own driver, so a profile run
 * and a native run differ only in what the profile describes.
 *
 * A text that does not have the profile's shape counts BAD_MESSAGE and, when the dialect was made
 * with `onProblem`, is described in a sentence naming the transport, the URL and what was expected
 * (the pre-run probe uses it; load runs only count).
 */
import { isUtf8 } from 'node:buffer';
import type { TransportName } from '../../core/wire.ts';
import { httpStatusCode } from '../drivers/codec.ts';
import { BAD_MESSAGE } from '../drivers/cursor.ts';
import type { ClientEvents, ClientSpec, Codec, Dialect, ResponseHeaders } from '../drivers/types.ts';
import { cursorOf, extractMessages } from './extract.ts';
import { expand, type Profile, type TransportProfile } from './profile.ts';
import { ProfileUpstream } from './upstream.ts';

export interface ProfileDialectOptions {
  profile: Profile;
  /**
   * the run id (load/run/settings.ts): the tokens this run publishes carry it, and it is the epoch
   * of every decoded message (a per-run constant: the run's publishers are its only ones); a token
   * of another run is counted through `ClientEvents.foreign` and otherwise ignored
   */
  run: string;
  /** told, in a sentence, each time the target answers in a shape the profile did not describe */
  onProblem?: (sentence: string) => void;
}

/** The dialect of `transport` on a profiled target (the profile must describe that transport). */
export function profileDialect(transport: TransportName, opts: ProfileDialectOptions): Dialect {
  const t = opts.profile.transports[transport];
  if (t === undefined) throw new Error(`profile ${opts.profile.name} does not describe ${transport}`);
  return {
    codec: (spec, events) => new ProfileCodec(transport, t, spec, events, opts),
    upstream: (spec, events) => new ProfileUpstream(spec, events, opts.profile.publish, opts.run),
  };
}

/**
 * One client's requests and reads as the profile says. Resume state: the query cursor (from the
 * last answer, or the last message of a WebSocket frame), the ETag / Last-Modified validators
 * (`caching`), or the last SSE event id (`last-event-id`); with none, every request starts from "now".
 */
class ProfileCodec implements Codec {
  readonly readsInPlace = false;
  /** the profile's `drain`: poll again at once after an answer that was not empty */
  readonly drains: boolean;
  private readonly basePath: string;
  private query: string | undefined;
  private etag: string | undefined;
  private lastModified: string | undefined;
  private lastEventId = '';

  constructor(
    private readonly transport: TransportName,
    private readonly t: TransportProfile,
    private readonly spec: ClientSpec,
    private readonly events: ClientEvents,
    private readonly opts: ProfileDialectOptions,
  ) {
    this.basePath = expand(t.url, { topic: spec.topic, timeoutMs: spec.longPollTimeoutMs }, true);
    this.drains = t.drain === true;
  }

  path(): string {
    const c = this.t.cursor;
    if (c.style !== 'query' || this.query === undefined) return this.basePath;
    const sep = this.basePath.includes('?') ? '&' : '?';
    return `${this.basePath}${sep}${encodeURIComponent(c.param)}=${encodeURIComponent(this.query)}`;
  }

  headers(): Record<string, string> {
    const h = this.t.headers;
    const id = this.t.cursor.style === 'last-event-id' && this.lastEventId !== '' ? this.lastEventId : undefined;
    if (this.etag === undefined && this.lastModified === undefined && id === undefined) return h;
    const out = { ...h };
    if (this.etag !== undefined) out['if-none-match'] = this.etag;
    if (this.lastModified !== undefined) out['if-modified-since'] = this.lastModified;
    if (id !== undefined) out['last-event-id'] = id;
    return out;
  }

  answer(status: number, body: Buffer, doneUs: number, response: ResponseHeaders): boolean | string {
    const t = this.t;
    const url = this.spec.baseUrl + this.path();
    if (t.emptyStatus.includes(status)) {
      this.remember(response, undefined);
      return true;
    }
    if (status < 200 || status > 299) {
      return this.problem(`a 2xx answer${t.emptyStatus.length ? ` or ${t.emptyStatus.join('/')} when empty` : ''} (got HTTP ${status})`, url, httpStatusCode(status));
    }
    const text = body.toString();
    if (text.trim() === '') {
      this.remember(response, undefined);
      return true;
    }
    const got = extractMessages(text, t.split, t.json, this.opts.run, response.header('content-type'));
    if ('problem' in got) return this.problem(got.problem, url);
    const problem = this.remember(response, text);
    if (problem !== undefined) return this.problem(problem, url);
    if (got.foreign > 0) this.events.foreign?.(got.foreign);
    for (const m of got.messages) this.events.message(m, doneUs);
    // another run's messages only: not empty (the cursor moved past them, and a drain goes on)
    return got.messages.length === 0 && got.foreign === 0;
  }

  text(buf: Buffer, from: number, to: number, recvUs: number): boolean {
    const bytes = buf.subarray(from, to);
    if (!isUtf8(bytes)) return false;
    const c = this.t.cursor;
    // one JSON parse per piece gives both the messages and the cursor
    const cursor = this.emit(bytes.toString(), recvUs, c.style === 'query' ? c.from.slice(5) : undefined);
    if (typeof cursor === 'string') this.query = cursor;
    return true;
  }

  event(type: string, data: string, lastEventId: string, recvUs: number): void {
    if (type !== (this.t.event ?? 'message')) return;
    if (this.emit(data, recvUs) !== false) this.lastEventId = lastEventId;
  }

  messageBytes(buf: Buffer, start: number, end: number, lastEventId: string, recvUs: number): void {
    this.event('message', buf.toString('utf8', start, end), lastEventId, recvUs);
  }

  readInPlace(): number {
    return -1;
  }

  deliverInPlace(): void {}

  /**
   * Decode `text` (one SSE data, frame or line) into messages; false after reporting a problem.
   * With `cursorPath` the last piece's cursor comes back too (from the same JSON parse), else null.
   */
  private emit(text: string, recvUs: number, cursorPath?: string): string | null | false {
    const got = extractMessages(text, this.t.split, this.t.json, this.opts.run, undefined, cursorPath);
    if ('problem' in got) {
      this.events.error(this.problem(got.problem));
      return false;
    }
    if (got.foreign > 0) this.events.foreign?.(got.foreign);
    for (const m of got.messages) this.events.message(m, recvUs);
    return got.cursor ?? null;
  }

  /** Take the cursor from an answer (its headers, and its body when it has one); a problem sentence if absent. */
  private remember(response: ResponseHeaders, body: string | undefined): string | undefined {
    const c = this.t.cursor;
    if (c.style === 'caching') {
      this.etag = response.header('etag') ?? this.etag;
      this.lastModified = response.header('last-modified') ?? this.lastModified;
      if (body !== undefined && this.etag === undefined && this.lastModified === undefined) return 'an ETag or Last-Modified header on each answer (the cursor style is "caching")';
    } else if (c.style === 'query') {
      if (c.from.startsWith('header:')) {
        this.query = response.header(c.from.slice(7).toLowerCase()) ?? this.query;
        if (body !== undefined && this.query === undefined) return `a ${c.from.slice(7)} header with the next cursor`;
      } else if (body !== undefined) {
        const next = cursorOf(body, undefined, c.from.slice(5));
        if (typeof next === 'string') return next;
        this.query = next.cursor;
      }
    }
    return undefined;
  }

  /** Report that `url` answered otherwise than `expected`; returns the code to count. */
  private problem(expected: string, url = this.spec.baseUrl + this.basePath, code = BAD_MESSAGE): string {
    this.opts.onProblem?.(`${this.transport} at ${url}: expected ${expected}`);
    return code;
  }
}
