/**
 * Drivers for a target described by a profile (profile.ts): the native drivers' clients with the
 * request (path, headers, resume) and the decoding (extract.ts) swapped for the profile's. The
 * connection handling, backoff, socket accounting and slow-consumer throttling are the native
 * drivers' own, so a profile run and a native run differ only in what the profile describes.
 *
 * A text that does not have the profile's shape counts BAD_MESSAGE and, when the driver was made
 * with `onProblem`, is described in a sentence naming the transport, the URL and what was expected
 * (the pre-run probe uses it; load runs only count).
 */
import { isUtf8 } from 'node:buffer';
import type { TransportName } from '../../core/wire.ts';
import { BAD_MESSAGE } from '../drivers/cursor.ts';
import { httpStatusCode, type Exchange } from '../drivers/http.ts';
import { LongPollClient } from '../drivers/long-poll.ts';
import { ShortPollClient } from '../drivers/short-poll.ts';
import { SseClient } from '../drivers/sse.ts';
import type { ClientEvents, ClientSpec, Driver } from '../drivers/types.ts';
import { driverFor } from '../drivers/index.ts';
import { WsClient } from '../drivers/ws.ts';
import { cursorOf, extractMessages } from './extract.ts';
import { expand, type Profile, type PublishProfile, type TransportProfile } from './profile.ts';
import { ProfileUpstream } from './upstream.ts';

export interface ProfileDriverOptions {
  profile: Profile;
  /** epoch given to every decoded message (a per-run constant: the generator is the only publisher) */
  epoch: string;
  /** told, in a sentence, each time the target answers in a shape the profile did not describe */
  onProblem?: (sentence: string) => void;
}

/** What one client of a profile target needs to know besides its spec. */
class Shape {
  readonly path: string;
  constructor(
    readonly transport: TransportName,
    readonly t: TransportProfile,
    readonly spec: ClientSpec,
    private readonly opts: ProfileDriverOptions,
  ) {
    this.path = expand(t.url, { topic: spec.topic, timeoutMs: spec.longPollTimeoutMs }, true);
  }

  get epoch(): string {
    return this.opts.epoch;
  }

  get publish(): PublishProfile {
    return this.opts.profile.publish;
  }

  /** Report that `url` answered otherwise than `expected`; returns BAD_MESSAGE to count. */
  problem(expected: string, url = this.spec.baseUrl + this.path): string {
    this.opts.onProblem?.(`${this.transport} at ${url}: expected ${expected}`);
    return BAD_MESSAGE;
  }

  /** The subscribe path with the query cursor `value` appended (`?since=…` or `&since=…`). */
  pathWithCursor(param: string, value: string): string {
    return `${this.path}${this.path.includes('?') ? '&' : '?'}${encodeURIComponent(param)}=${encodeURIComponent(value)}`;
  }

  /** Decode `text` (one SSE data or ws frame) into messages; false after reporting a problem. */
  /**
   * Decode `text` (one SSE data or ws frame) into messages; false after reporting a problem. With
   * `cursorPath` the last piece's cursor comes back too (from the same JSON parse), else null.
   */
  emit(text: string, events: ClientEvents, recvUs: number, cursorPath?: string): string | null | false {
    const got = extractMessages(text, this.t.split, this.t.json, this.opts.epoch, undefined, cursorPath);
    if ('problem' in got) {
      this.problem(got.problem);
      events.error(BAD_MESSAGE);
      return false;
    }
    for (const m of got.messages) events.message(m, recvUs);
    return got.cursor ?? null;
  }
}

class ProfileSseClient extends SseClient {
  private lastId = '';
  constructor(spec: ClientSpec, events: ClientEvents, private readonly shape: Shape) {
    super(spec, events);
  }
  protected override requestPath(): string {
    return this.shape.path;
  }
  protected override requestHeaders(): Record<string, string> {
    const headers = { ...this.shape.t.headers };
    if (this.shape.t.cursor.style === 'last-event-id' && this.lastId !== '') headers['last-event-id'] = this.lastId;
    return headers;
  }
  protected override get readsInPlace(): boolean {
    return false;
  }
  protected override onMessageBytes(buf: Buffer, start: number, end: number): void {
    this.onEvent('message', buf.toString('utf8', start, end), this.lastEventId);
  }
  protected override onEvent(type: string, data: string, lastEventId: string): void {
    if (this.closed || type !== (this.shape.t.event ?? 'message')) return;
    if (this.shape.emit(data, this.events, this.recvUs) !== false) this.lastId = lastEventId;
  }
}

/**
 * With a `query` cursor the client keeps the cursor of the last message it decoded (`from` of the
 * frame's last piece) and reconnects with it in the URL, so the server can replay what the cut
 * lost; without one it reconnects to "now" and the recorder counts the gap as lost.
 */
class ProfileWsClient extends WsClient {
  private cursorValue: string | undefined;
  constructor(spec: ClientSpec, events: ClientEvents, private readonly shape: Shape) {
    super(spec, events);
  }
  protected override connectUrl(): string {
    const c = this.shape.t.cursor;
    const path = c.style === 'query' && this.cursorValue !== undefined ? this.shape.pathWithCursor(c.param, this.cursorValue) : this.shape.path;
    return this.spec.baseUrl.replace(/^http/, 'ws') + path;
  }
  protected override handshakeHeaders(): Record<string, string> {
    return this.shape.t.headers;
  }
  protected override onFrame(bytes: Buffer, recvUs: number): void {
    if (!isUtf8(bytes)) return this.failInvalidUtf8();
    const text = bytes.toString();
    const c = this.shape.t.cursor;
    // one JSON parse per piece gives both the messages and the cursor
    const cursor = this.shape.emit(text, this.events, recvUs, c.style === 'query' ? c.from.slice(5) : undefined);
    if (typeof cursor === 'string') this.cursorValue = cursor;
  }
}

/**
 * The resume state of a profile poll (short or long): the query cursor, or the ETag and
 * Last-Modified validators, taken from each answer and sent back with the next request.
 */
class PollResume {
  private query: string | undefined;
  private etag: string | undefined;
  private lastModified: string | undefined;

  constructor(private readonly shape: Shape, private readonly events: ClientEvents) {}

  path(): string {
    const c = this.shape.t.cursor;
    if (c.style !== 'query' || this.query === undefined) return this.shape.path;
    return this.shape.pathWithCursor(c.param, this.query);
  }

  headers(): Record<string, string> {
    const h = this.shape.t.headers;
    if (this.etag === undefined && this.lastModified === undefined) return h;
    const out = { ...h };
    if (this.etag !== undefined) out['if-none-match'] = this.etag;
    if (this.lastModified !== undefined) out['if-modified-since'] = this.lastModified;
    return out;
  }

  /** {@link HttpClientBase.readAnswer} for a profile: empty flag, or the code to count. */
  read(status: number, body: string, doneUs: number, exchange: Exchange): boolean | string {
    const t = this.shape.t;
    const url = this.shape.spec.baseUrl + this.path();
    if (t.emptyStatus.includes(status)) {
      this.remember(exchange, undefined);
      return true;
    }
    if (status < 200 || status > 299) {
      this.shape.problem(`a 2xx answer${t.emptyStatus.length ? ` or ${t.emptyStatus.join('/')} when empty` : ''} (got HTTP ${status})`, url);
      return httpStatusCode(status);
    }
    if (body.trim() === '') {
      this.remember(exchange, undefined);
      return true;
    }
    const got = extractMessages(body, t.split, t.json, this.shape.epoch, exchange.header('content-type'));
    if ('problem' in got) return this.shape.problem(got.problem, url);
    const problem = this.remember(exchange, body);
    if (problem !== undefined) return this.shape.problem(problem, url);
    for (const m of got.messages) this.events.message(m, doneUs);
    return got.messages.length === 0;
  }

  /** Take the cursor from an answer (its headers, and its body when it has one); a problem sentence if absent. */
  private remember(exchange: Exchange, body: string | undefined): string | undefined {
    const c = this.shape.t.cursor;
    if (c.style === 'caching') {
      this.etag = exchange.header('etag') ?? this.etag;
      this.lastModified = exchange.header('last-modified') ?? this.lastModified;
      if (body !== undefined && this.etag === undefined && this.lastModified === undefined) return 'an ETag or Last-Modified header on each answer (the cursor style is "caching")';
    } else if (c.style === 'query') {
      if (c.from.startsWith('header:')) {
        this.query = exchange.header(c.from.slice(7).toLowerCase()) ?? this.query;
        if (body !== undefined && this.query === undefined) return `a ${c.from.slice(7)} header with the next cursor`;
      } else if (body !== undefined) {
        const next = cursorOf(body, undefined, c.from.slice(5));
        if (typeof next === 'string') return next;
        this.query = next.cursor;
      }
    }
    return undefined;
  }
}

/**
 * A poll client of either kind speaking the profile: both native poll clients expose the same
 * hooks (`requestPath`, `requestHeaders`, `readAnswer`) and their `exchange`.
 */
function profilePoll(Base: typeof ShortPollClient | typeof LongPollClient) {
  // TypeScript cannot extend a union of classes; the members used here exist on both.
  return class extends (Base as typeof ShortPollClient) {
    private readonly resume: PollResume;
    constructor(spec: ClientSpec, events: ClientEvents, shape: Shape) {
      super(spec, events);
      this.resume = new PollResume(shape, events);
      }
    protected override requestPath(): string {
      return this.resume.path();
    }
    protected override requestHeaders(): Record<string, string> {
      return this.resume.headers();
    }
    protected override readAnswer(status: number, body: Buffer, doneUs: number): boolean | string {
      return this.resume.read(status, body.toString(), doneUs, this.exchange);
    }
  };
}

const ProfileShortPollClient = profilePoll(ShortPollClient);
const ProfileLongPollClient = profilePoll(LongPollClient);

/**
 * A profile client that publishes (chat) as the profile says, over HTTP on a connection of its
 * own (upstream.ts), whatever its transport — a WebSocket client too: a profile describes no
 * publish frame. Its bytes count with the client's.
 */
function publishingUpstream(Base: typeof ProfileSseClient | typeof ProfileWsClient | typeof ProfileShortPollClient) {
  // TypeScript cannot extend a union of classes; the members used here exist on all of them.
  return class extends (Base as typeof ProfileSseClient) {
    private readonly upstream: ProfileUpstream;
    constructor(spec: ClientSpec, events: ClientEvents, shape: Shape) {
      super(spec, events, shape);
      this.upstream = new ProfileUpstream(spec, events, shape.publish);
    }
    override publish(data: string, ts: number): void {
      this.upstream.send(data.length, ts);
    }
    override bytes(): { read: number; written: number } {
      return this.upstream.addBytesTo(super.bytes());
    }
    protected override async shutdown(): Promise<void> {
      await Promise.all([super.shutdown(), this.upstream.close()]);
    }
  };
}

const CLIENTS: Readonly<Record<TransportName, new (spec: ClientSpec, events: ClientEvents, shape: Shape) => { start(): void }>> = {
  sse: publishingUpstream(ProfileSseClient),
  ws: publishingUpstream(ProfileWsClient),
  'short-poll': publishingUpstream(ProfileShortPollClient),
  'long-poll': publishingUpstream(ProfileLongPollClient),
};

/** The driver of `transport` on a profile target (the profile must describe that transport). */
export function profileDriver(transport: TransportName, opts: ProfileDriverOptions): Driver {
  const t = opts.profile.transports[transport];
  if (t === undefined) throw new Error(`profile ${opts.profile.name} does not describe ${transport}`);
  const Client = CLIENTS[transport] as unknown as new (spec: ClientSpec, events: ClientEvents, shape: Shape) => ReturnType<Driver['create']>;
  return { ...driverFor(transport), create: (spec, events) => new Client(spec, events, new Shape(transport, t, spec, opts)) };
}
