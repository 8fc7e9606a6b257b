/**
 * Server-Sent Events driver: `GET /sse?topic=T` with `Accept: text/event-stream` (and
 * `Last-Event-ID: <epoch>:<seq>` when resuming) on one keep-alive undici connection, the body
 * fed chunk by chunk into {@link SseParser} — no EventSource library in the hot path.
 *
 * Reports (see stream.ts for the connection's): each `message` event's data as a message
 * (received at the time its chunk was read); `event: gap` as `gap()`. The stream ending counts
 * `SSE_EOF`; the first reconnect wait is the server's `retry:` when it sent one (capped at
 * `reconnectMaxMs`), doubling from there.
 */
import { ContractCodec } from './codec.ts';
import { Cursor } from './cursor.ts';
import { ContractUpstream } from './publish.ts';
import { SseParser, type SseDataReader } from './sse-parser.ts';
import { StreamClient } from './stream.ts';
import { profileRules } from './profile-rules.ts';
import type { Backoff } from './backoff.ts';
import type { ClientEvents, ClientSpec, Codec, Dialect, Driver } from './types.ts';

/** Error code counted when the server ends an event stream. */
export const SSE_EOF = 'SSE_EOF';

/** What an event-stream request asks for (the contract's; a profile states its own headers). */
const ACCEPT: Readonly<Record<string, string>> = Object.freeze({ accept: 'text/event-stream' });

/**
 * The parser of one client's event stream: events and one-line messages go to `codec` (read at
 * `recvUs()`) until `closed()`; `retry:` sets the reconnect backoff's first wait; `reader` (the
 * client itself: one object fewer to touch per event) reads the contract's messages in place.
 */
export function eventStreamParser(codec: Codec, closed: () => boolean, recvUs: () => number, backoff: Backoff, reader: SseDataReader): SseParser {
  const parser: SseParser = new SseParser(
    (type, data, id) => {
      if (!closed()) codec.event(type, data, id, recvUs());
    },
    (retryMs) => backoff.setMinMs(retryMs),
    (buf, start, end) => {
      if (!closed()) codec.messageBytes(buf, start, end, parser.lastEventId, recvUs());
    },
    codec.readsInPlace ? reader : undefined,
  );
  return parser;
}

export class SseClient extends StreamClient implements SseDataReader {
  private readonly parser: SseParser;

  constructor(spec: ClientSpec, events: ClientEvents, dialect?: Dialect) {
    super(spec, events,
      dialect?.codec(spec, events) ?? new ContractCodec(new Cursor(events), `/sse?topic=${encodeURIComponent(spec.topic)}`, 'last-event-id', ACCEPT),
      dialect?.upstream(spec, events) ?? new ContractUpstream(spec, events),
      SSE_EOF);
    this.parser = eventStreamParser(this.codec, () => this.closed, () => this.recvUs, this.reconnector.backoff, this);
  }

  protected resetBody(): void {
    this.parser.reset();
  }

  protected onBody(chunk: Buffer): void {
    this.parser.push(chunk);
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
  profile: profileRules({
    cursors: ['last-event-id', 'none'],
    split: false,
    events: true,
    reference: { url: '/sse?topic={topic}', headers: { accept: 'text/event-stream' }, json: 'data', cursor: { style: 'last-event-id' } },
  }),
  create: (spec, events, dialect) => new SseClient(spec, events, dialect),
};
