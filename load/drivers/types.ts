/**
 * The driver contract: one simulated client of one transport. A driver opens its connection(s),
 * reconnects with backoff, resumes from the last seq it saw, and *emits* what happens to its
 * {@link ClientEvents}. It never touches a histogram (only load/recorder.ts does).
 *
 * Threading: a client lives on one worker thread's event loop; every event is called from that
 * loop, never concurrently, and must not block.
 */
import type { TransportName, WireMessage } from '../../core/wire.ts';
import type { ByteCounts } from './sockets.ts';

export interface ClientSpec {
  /** index of this client across the whole run (0 … clients-1) */
  id: number;
  /** origin of the target (or of the latency proxy in front of it): `http://127.0.0.1:PORT` */
  baseUrl: string;
  topic: string;
  /** source address to bind (spread over 127.0.0.x), or undefined for the OS's choice */
  localAddress?: string;
  /**
   * source port to bind with `localAddress` on the client's first connection, one no other client
   * of the run takes on that address (load/source-ports.ts); reconnects, and an attempt whose port
   * turned out taken, leave it to the kernel. Undefined: the kernel's choice. Only `ws` binds it.
   */
  localPort?: number;
  /** short-poll period Δ in ms; 0 polls back to back (closed loop) */
  pollIntervalMs: number;
  /** first short poll at start + this offset (jittered in [0, Δ)), then every Δ on a fixed schedule */
  pollOffsetMs: number;
  /** `timeout=` a long poll asks the server for */
  longPollTimeoutMs: number;
  /** reconnect backoff: first wait, doubling to at most maxMs, with ± `reconnectJitter` */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** share of each backoff wait spread either way, uniformly (0 ≤ j < 1); absent: {@link BACKOFF_JITTER} */
  reconnectJitter?: number;
  /**
   * A slow consumer: read from the connection at most this many bytes per second (streaming
   * transports pause their socket; the server's bounded send buffer then fills). Undefined: as
   * fast as the client can.
   */
  readBytesPerS?: number;
  /** TLS (an `https:` baseUrl): how the server is verified; absent for plain HTTP */
  tls?: ClientTls;
  /** offer permessage-deflate (a transport with the `deflate` trait) */
  wsCompression?: boolean;
  /**
   * subscriptions per simulated browser: a transport with the `multiplexes` trait carries this many
   * clients' streams on one connection; the others open one connection per client, as a browser
   * without HTTP/2 does (absent: 1)
   */
  streamsPerConnection?: number;
}

/** How a client verifies its TLS server (load/drivers/tls.ts). */
export interface ClientTls {
  /** CA certificates (PEM) to trust; absent: the system's roots */
  ca?: string;
}

/** One completed TLS handshake: its connect time split in two, µs, and what it negotiated. */
export interface TlsHandshake {
  /** TCP connect (SYN to established) */
  tcpUs: number;
  /** TLS handshake after it (ClientHello to Finished) */
  tlsUs: number;
  /** the server took the session ticket offered (an abbreviated handshake) */
  resumed: boolean;
  /** e.g. TLSv1.3 */
  protocol: string;
  /** e.g. TLS_AES_256_GCM_SHA384 */
  cipher: string;
}

/** What a client tells its recorder. All times are µs on the shared clock (core/wire.ts nowUs). */
export interface ClientEvents {
  /** A new connection is usable: TCP connect for HTTP, handshake done for ws, response headers for sse. */
  connected(connectUs: number): void;
  /** A message arrived (already parsed). `recvUs` is when its bytes were read. */
  message(msg: WireMessage, recvUs: number): void;
  /**
   * The same for a message read in place (the hot path: a contract message without `source`,
   * read from its bytes by load/drivers/fast-decode.ts). `view` and its bytes are valid only during
   * the call: copy what you keep.
   */
  messageView(view: MessageView, recvUs: number): void;
  /**
   * An HTTP request completed (polls, long polls, POST /publish). `plannedUs` is when it should have
   * been sent (the fixed schedule for short polls; equal to sentUs otherwise).
   */
  request(plannedUs: number, sentUs: number, doneUs: number, empty: boolean): void;
  /** The server said messages were dropped from its ring before we could fetch them (poll `gap`). */
  gap(): void;
  /** Something failed; `code` is stable (ECONNREFUSED, UND_ERR_SOCKET, WS_1006, HTTP_503, …). */
  error(code: string): void;
  /** The client is reconnecting after losing its connection (counted once per attempt). */
  reconnecting(): void;
  /** A TLS connection's handshake completed (TLS runs only). */
  tls?(handshake: TlsHandshake): void;
  /** The server accepted WebSocket extensions, as its Sec-WebSocket-Extensions header states them. */
  extensions?(accepted: string): void;
  /**
   * `count` messages of another run arrived (a profile target's history: their token names
   * another run, load/target/token.ts) and were ignored: not delivered, lost or duplicated.
   * Only a profile's codec reports it (the contract has no foreign messages).
   */
  foreign?(count: number): void;
  /**
   * An Engine.IO session's event (a Socket.IO target's clients only, load/drivers/socketio/):
   * `open` (a session's handshake done), `heartbeat` (a server ping answered), `upgraded` (to
   * WebSocket; `us` from the session's open), `upgrade-failed`, and after a reconnect whether the
   * server's connection-state recovery `recovered` the session or not (`not-recovered`).
   */
  engine?(event: EngineEvent, us: number): void;
}

/** What {@link ClientEvents.engine} reports. */
export type EngineEvent = 'open' | 'heartbeat' | 'upgraded' | 'upgrade-failed' | 'recovered' | 'not-recovered';

/**
 * A contract message as read from its bytes, without a `source` field: its data is
 * `buf[dataStart, dataEnd)`, plain printable ASCII (no escapes), so its length in bytes is the
 * length of `data` as a string. One view is reused for every message of a thread.
 */
export interface MessageView {
  seq: number;
  ts: number;
  topic: string;
  epoch: string;
  buf: Buffer;
  dataStart: number;
  dataEnd: number;
}

/** One simulated client. */
export interface Client {
  /** Begin connecting (returns at once; progress arrives as events). Called once. */
  start(): void;
  /**
   * Send one upstream message (chat workload): a publish frame for ws, `POST /publish` for the
   * HTTP transports. `ts` is the send time in µs (the receivers measure latency from it).
   */
  publish(data: string, ts: number): void;
  /** Close cleanly and stop reconnecting. Async, idempotent, safe to call twice. */
  close(): Promise<void>;
  /** Bytes read from / written to this client's sockets so far, across reconnects. */
  bytes(): { read: number; written: number };
  /** True while a connection (or, for short poll, a keep-alive socket) is open. */
  readonly open: boolean;
}

/** What the rest of pushbench asks about a transport's behaviour (option checks, sockets, validity). */
export interface TransportTraits {
  /** polls on a fixed schedule: reads `--poll-interval` (Δ); Δ = 0 is a closed loop */
  pollInterval: boolean;
  /** holds each request open until a message comes: reads `--long-poll-timeout` */
  longPollTimeout: boolean;
  /** chat publishes on the subscription's own connection (otherwise a second socket per client) */
  publishesInBand: boolean;
  /** can negotiate permessage-deflate: takes `--ws-compression` */
  deflate?: boolean;
  /** carries several clients' streams on one connection: `--streams-per-connection` shares it */
  multiplexes?: boolean;
  /** runs over TLS only (HTTP/2 as browsers speak it): refused without `--tls` or an https:// target */
  tlsOnly?: boolean;
}

/** How a client tells the server what it has seen (a target profile's `cursor.style`, load/target/profile.ts). */
export type CursorStyle = 'query' | 'caching' | 'last-event-id' | 'none';

/** What a target profile may say about a transport (load/target/profile.ts checks profiles against it). */
export interface ProfileRules {
  /** the placeholders its `url` may use */
  placeholders: readonly string[];
  /** the resume styles it can use; the first is the default when a profile names none */
  cursors: readonly CursorStyle[];
  /** a query cursor may come from a response header (polls), not only from the message's JSON */
  cursorFromHeader: boolean;
  /** an answer or frame may hold several messages (`split`); SSE cuts by its own events instead */
  split: boolean;
  /** messages come as typed events (`event`: SSE) */
  events: boolean;
  /** answers may be empty (`emptyStatus`: polls) */
  emptyAnswers: boolean;
  /**
   * `drain` (poll again at once after an answer that was not empty, for a server that answers a few
   * messages per request, as its own clients do): `option` where a profile may ask for it (a poll
   * on a schedule), `always` where the transport does it anyway (it polls again after every
   * answer), `never` where nothing is polled
   */
  drain: 'option' | 'always' | 'never';
  /** this transport on the reference server, as a profile describes it (`builtin:reference`) */
  reference: Readonly<Record<string, unknown>>;
}

/**
 * A transport's client-side descriptor: one per transport file under load/drivers/, registered
 * in load/drivers/index.ts. Everything outside the transport's own files (option choices, the
 * claimed order, chart colours, sockets per client, profile rules) is derived from these.
 */
export interface Driver {
  readonly transport: TransportName;
  /** how people name it, e.g. "Server-Sent Events" */
  readonly title: string;
  /**
   * Its place in the claimed order WebSocket > SSE > long polling > short polling (1 = claimed
   * best); absent for a transport the claim does not name.
   */
  readonly claimRank?: number;
  /** its colour in every chart (a fixed scale, so it is the same in every report) */
  readonly colour: string;
  readonly traits: TransportTraits;
  readonly profile: ProfileRules;
  /** one client; `dialect` replaces the reference contract (a target profile's, load/target/) */
  create(spec: ClientSpec, events: ClientEvents, dialect?: Dialect): Client;
}

/*
 * How one client speaks to its server beyond the connection itself: what it asks for (the path and
 * headers of its next request, from its resume state) and how it reads what comes back. One driver
 * per transport runs either dialect: the reference servers' contract (codec.ts, the cursor's byte
 * paths) or a target profile's description (load/target/profile-codec.ts). One codec per client,
 * on its event loop; no method throws on the hot path (what is not understood is counted as an
 * error code through the client's events).
 */
/** The headers of the answer being read (valid during the call). */
export interface ResponseHeaders {
  /** value of header `name` (lower case), or undefined */
  header(name: string): string | undefined;
}

export interface Codec {
  /** path (from `/`, query included) of the next request or WebSocket connection, resume state in it */
  path(): string;
  /** headers of the next request or WebSocket handshake; undefined for none */
  headers(): Record<string, string> | undefined;
  /** a poll's answer (status and whole body), read at `doneUs`: whether it was empty, or the code to count */
  answer(status: number, body: Buffer, doneUs: number, response: ResponseHeaders): boolean | string;
  /** one pushed text `buf[from, to)` (a WebSocket text frame, a line of a stream); false when it is not UTF-8 */
  text(buf: Buffer, from: number, to: number, recvUs: number): boolean;
  /** an SSE event as the parser dispatched it (not read in place) */
  event(type: string, data: string, lastEventId: string, recvUs: number): void;
  /** an SSE `message` event whose data is one line, as bytes `buf[start, end)` */
  messageBytes(buf: Buffer, start: number, end: number, lastEventId: string, recvUs: number): void;
  /** whether SSE message data may be read in place (the contract's exact form): then the two below are used */
  readonly readsInPlace: boolean;
  /**
   * a poll on a schedule asks again at once after an answer that was not empty (a profile's
   * `drain`: its server answers a few messages per request), back on its schedule after an empty one
   */
  readonly drains: boolean;
  /** reads a message in place starting at `buf[from]`: the index after it, or -1 (see SseDataReader) */
  readInPlace(buf: Buffer, from: number, to: number): number;
  /** reports the message the last successful {@link readInPlace} read, received at `recvUs` */
  deliverInPlace(recvUs: number): void;
}

/** A client's chat publishes sent as requests of their own (every transport but an in-band one). */
export interface Upstream {
  /** publish `data`, scheduled at `ts` (µs); reports through the client's events; never throws */
  send(data: string, ts: number): void;
  addBytesTo(into: ByteCounts): ByteCounts;
  /** drop its connection (publishes in flight are abandoned); idempotent */
  close(): Promise<void>;
}

/** A dialect other than the contract: a target profile's codec and publishes for one client. */
export interface Dialect {
  codec(spec: ClientSpec, events: ClientEvents): Codec;
  upstream(spec: ClientSpec, events: ClientEvents): Upstream;
}
