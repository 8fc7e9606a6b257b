/**
 * The driver contract: one simulated client of one transport. A driver opens its connection(s),
 * reconnects with backoff, resumes from the last seq it saw, and *emits* what happens to its
 * {@link ClientEvents}. It never touches a histogram (only load/recorder.ts does).
 *
 * Threading: a client lives on one worker thread's event loop; every event is called from that
 * loop, never concurrently, and must not block.
 */
import type { TransportName, WireMessage } from '../../core/wire.ts';

export interface ClientSpec {
  /** index of this client across the whole run (0 … clients-1) */
  id: number;
  /** origin of the target (or of the latency proxy in front of it): `http://127.0.0.1:PORT` */
  baseUrl: string;
  topic: string;
  /** source address to bind (spread over 127.0.0.x), or undefined for the OS's choice */
  localAddress?: string;
  /** short-poll period Δ in ms; 0 polls back to back (closed loop) */
  pollIntervalMs: number;
  /** first short poll at start + this offset (jittered in [0, Δ)), then every Δ on a fixed schedule */
  pollOffsetMs: number;
  /** `timeout=` a long poll asks the server for */
  longPollTimeoutMs: number;
  /** reconnect backoff: first wait, doubling to at most maxMs, with ±20 % jitter */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /**
   * A slow consumer: read from the connection at most this many bytes per second (streaming
   * transports pause their socket; the server's bounded send buffer then fills). Undefined: as
   * fast as the client can.
   */
  readBytesPerS?: number;
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
}

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
  create(spec: ClientSpec, events: ClientEvents): Client;
}
