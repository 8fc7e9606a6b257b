/**
 * The wire contract shared by the reference servers and the load generator (docs/wire-contract.md).
 *
 * A message is one JSON text, byte-identical on every transport, so parsing cost is fair:
 * `{"seq":<int>,"ts":<µs>,"topic":"<name>","epoch":"<server run id>","data":"<payload>"}`
 */

/** One message as it crosses the wire. `ts` is the *scheduled* publish time in µs on {@link nowUs}'s clock. */
export interface WireMessage {
  seq: number;
  ts: number;
  topic: string;
  epoch: string;
  data: string;
  /**
   * Never on the wire of the reference servers: a profile target's chat message names the client
   * that published it, and `seq` then counts that client's messages, not the topic's (load/target/token.ts).
   */
  source?: string;
}

/**
 * A transport's wire name (`ws`, `sse`, …). The transports themselves are registered once per
 * side: load/drivers/index.ts (clients, and everything else pushbench asks about a transport) and
 * servers/transports/index.ts (the reference server's handlers).
 */
export type TransportName = string;

/**
 * Microseconds on CLOCK_MONOTONIC, which every process on one host shares (a worker thread, the
 * generator and a child server read the same clock), never jumps with NTP, and needs no BigInt.
 * Not comparable across hosts (the reference server's `GET /time` answers this clock).
 */
export function nowUs(): number {
  const t = process.hrtime();
  return t[0] * 1e6 + t[1] / 1e3;
}

/** Serialize a message exactly as the contract says (field order fixed). */
export function encodeMessage(m: WireMessage): string {
  return `{"seq":${m.seq},"ts":${Math.round(m.ts)},"topic":${JSON.stringify(m.topic)},"epoch":${JSON.stringify(m.epoch)},"data":${JSON.stringify(m.data)}}`;
}

/**
 * Parse one message; returns undefined when the text is not a contract message. Hot path (one
 * call per delivery): the parsed object itself is returned, not a copy — it may carry extra
 * fields a third-party server added, and a missing or non-string `data` is set to `''` in place.
 */
export function decodeMessage(text: string): WireMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.seq !== 'number' || typeof o.ts !== 'number' || typeof o.topic !== 'string' || typeof o.epoch !== 'string') {
    return undefined;
  }
  if (typeof o.data !== 'string') o.data = '';
  return o as unknown as WireMessage;
}

/** Topic names: what `/poll?topic=` etc. accept (anything else is a 400). */
export const TOPIC_RE = /^[A-Za-z0-9._~-]{1,64}$/;

/**
 * Answer body of `GET /poll` and `GET /long-poll`:
 * `{"epoch":"…","next":<cursor>,"gap":<bool>,"messages":[<message>,…]}`.
 * `next` is the seq to pass as `since` next time; `gap` is true when `since` fell outside the
 * replay ring (messages between were dropped and the client must count them as lost).
 */
export interface PollAnswer {
  epoch: string;
  next: number;
  gap: boolean;
  gapFrom?: number;
  gapTo?: number;
  messages: WireMessage[];
}

/**
 * Cursor rules shared by every transport: `since=S` means "I have seen up to seq S"; the answer
 * holds seq > S. No `since` means "from now on" (polls answer empty with `next` = the newest seq).
 * A client that also sends `epoch=E` (or a `Last-Event-ID` of `E:S`) with an `E` that is not the
 * server's current epoch gets the current stream from the start of the ring, and sees the new
 * epoch in the messages: that is a reset, which the client reports.
 */

/** SSE event id: `<epoch>:<seq>`; a client resumes with `Last-Event-ID` set to the last one. */
export function sseEventId(epoch: string, seq: number): string {
  return `${epoch}:${seq}`;
}

/**
 * Upstream publish (chat workload, external publishers): the body of `POST /publish?topic=T` and
 * the text frame a WebSocket client sends: `{"topic":"T","data":"…","ts":<µs>}`. `topic` may be
 * omitted in the POST body (the query names it); `ts` is the sender's send time — when absent the
 * server stamps its own receive time. The server assigns `seq`.
 */
export interface PublishRequest {
  topic?: string;
  data: string;
  ts?: number;
}

/** `GET /stats` answer. Counters are cumulative since the server started. */
export interface StatsSnapshot {
  epoch: string;
  pid: number;
  uptimeS: number;
  nowUs: number;
  /** currently open connections by the transport of their latest request (an HTTP/2 connection: of its streams) */
  open: Record<TransportName, number>;
  /**
   * currently open push streams by transport: the long responses of SSE, HTTP streaming and SSE
   * over HTTP/2, one per subscription (over HTTP/2 several share a connection); absent from
   * servers older than this field
   */
  streams?: Record<TransportName, number>;
  tcpOpen: number;
  tcpAccepted: number;
  httpRequests: number;
  published: number;
  /** messages written to subscribers, by transport (a poll answer with 3 messages counts 3) */
  delivered: Record<TransportName, number>;
  deliveredTotal: number;
  bytesWritten: number;
  bytesRead: number;
  slowConsumerDrops: number;
  rejected: { connectionCap: number; badRequest: number; tooLarge: number };
  cpuUs: { user: number; system: number };
  rssBytes: number;
  /** V8 heap in use (process.memoryUsage().heapUsed), summed over the processes of a cluster */
  heapUsedBytes: number;
  /** event-loop utilization since the previous /stats call (0..1) */
  elu: number;
  topics: number;
  /**
   * the scheduled publisher's timetable (null when it publishes nothing); absent from servers
   * older than this field. A client reads what each topic's seqs were scheduled at from it.
   */
  schedule?: PublishSchedule | null;
}

/**
 * A publisher's timetable, shared by the reference server's scheduled publisher and a profile
 * run's generator publisher: message g (g = 0, 1, …) is scheduled at `firstUs + g × stepUs` (µs on
 * {@link nowUs}'s clock) on topic index g mod `topics`, so topic i's seq k (from 1, while nothing
 * else publishes to it) is message (k − 1) × topics + i.
 */
export interface PublishSchedule {
  firstUs: number;
  stepUs: number;
  topics: number;
}

/**
 * Explicit gap signal: a resume (`since`, `Last-Event-ID`) that fell outside the replay ring.
 * Messages `from`…`to` (inclusive) of `topic` are gone; the client counts them as lost.
 * - polls: the answer's `gap: true` (and `gapFrom`/`gapTo` when known);
 * - SSE: `event: gap` with `data: <GapNotice JSON>`;
 * - WebSocket: a text frame holding the GapNotice JSON (it has `"type":"gap"`, which messages never have).
 */
export interface GapNotice {
  type: 'gap';
  topic: string;
  epoch: string;
  from: number;
  to: number;
}
