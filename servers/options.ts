/**
 * Reference server options: one frozen object of defaults and one validator that reports every
 * problem at once. Units are in the names (…Ms, …Bytes, …PerS).
 */
import { PAYLOAD_KINDS, type PayloadKind } from './payload.ts';

export interface ServerOptions {
  /** TCP port; 0 picks a free one (RunningServer.port tells which) */
  port: number;
  host: string;
  /** scheduled publisher: messages per second *per topic*; 0 disables it (chat: clients publish) */
  ratePerS: number;
  /** length of each scheduled message's data, bytes */
  payloadBytes: number;
  /** scheduled publisher's topics, named t0 … t{topics-1}; other names are created on first use */
  topics: number;
  /** messages kept per topic for resume */
  ringSize: number;
  /** hold every message this long before anyone sees it (checks the generator's accuracy), ms */
  delayMs: number;
  /** open TCP connections past this get 503 */
  maxConnections: number;
  /** SSE comment heartbeat and WebSocket ping period, ms */
  heartbeatMs: number;
  /** the SSE `retry:` field, ms */
  sseRetryMs: number;
  /** a long poll's `timeout=` is clamped to this, ms */
  maxLongPollTimeoutMs: number;
  /** a long poll without `timeout=` waits this long, ms */
  defaultLongPollTimeoutMs: number;
  /** most messages in one poll answer (the cursor `next` continues from there) */
  maxBatch: number;
  /** POST bodies past this get 413 */
  maxBodyBytes: number;
  /** WebSocket frames past this close the connection with 1009 */
  maxWsPayloadBytes: number;
  /** unsent bytes a subscriber connection may queue before it is dropped as a slow consumer */
  sendBufferBytes: number;
  /** all request headers must arrive within this, ms (a byte-dripping client is cut off) */
  headersTimeoutMs: number;
  /** the whole request (headers and body) must arrive within this, ms */
  requestTimeoutMs: number;
  /** a keep-alive connection idle this long is closed, ms */
  idleTimeoutMs: number;
  /**
   * processes serving the port (servers/cluster.ts): 1 is this process alone; N > 1 forks N
   * workers that share the port and one hub. Limits like maxConnections apply per process.
   */
  processes: number;
  /** serve the fault-injection endpoints under /admin/ (the runner's child server only) */
  admin: boolean;
  /**
   * An injected CPU regression (servers/cpu-cost.ts): at each scheduled publish, spin this share
   * (0.3 = 30 %) of the CPU the process used since the previous one. 0: none.
   */
  cpuCost: number;
  /**
   * Serve HTTPS and WSS with the TLS material in this folder (core/tls.ts: key, certificate, CA,
   * ticket keys); '' serves plain HTTP. `serve --tls` makes the material at start.
   */
  tlsDir: string;
  /** what the scheduled publisher's data holds (servers/payload.ts: text, json, random) */
  payloadKind: PayloadKind;
  /** WebSocket: negotiate permessage-deflate when the client offers it (ws's defaults) */
  wsCompression: boolean;
  /** with TLS: the largest record the server writes, bytes (512–16384); 0: Node's 16 KB */
  tlsRecordBytes: number;
  /**
   * data bytes of each scheduled message on topic t0 alone (a large-message tab, docs/http2.md);
   * 0: t0 carries `payloadBytes` as every other topic
   */
  largeTopicBytes: number;
}

export const DEFAULT_SERVER_OPTIONS: Readonly<ServerOptions> = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  ratePerS: 10,
  payloadBytes: 64,
  topics: 1,
  ringSize: 100,
  delayMs: 0,
  maxConnections: 19_000,
  heartbeatMs: 15_000,
  sseRetryMs: 1000,
  maxLongPollTimeoutMs: 60_000,
  defaultLongPollTimeoutMs: 30_000,
  maxBatch: 1000,
  maxBodyBytes: 64 * 1024,
  maxWsPayloadBytes: 64 * 1024,
  sendBufferBytes: 256 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  processes: 1,
  admin: false,
  cpuCost: 0,
  tlsDir: '',
  payloadKind: 'text',
  wsCompression: false,
  tlsRecordBytes: 0,
  largeTopicBytes: 0,
});

/** [option, least allowed, greatest allowed, integer?] */
const RANGES: [keyof ServerOptions, number, number, boolean][] = [
  ['port', 0, 65535, true],
  ['ratePerS', 0, 1e6, false],
  ['payloadBytes', 0, 16 * 1024 * 1024, true],
  ['largeTopicBytes', 0, 16 * 1024 * 1024, true],
  ['topics', 1, 1e6, true],
  ['ringSize', 1, 1e6, true],
  ['delayMs', 0, 3_600_000, false],
  ['maxConnections', 1, 1e7, true],
  ['heartbeatMs', 10, 3_600_000, true],
  ['sseRetryMs', 0, 3_600_000, true],
  ['maxLongPollTimeoutMs', 0, 3_600_000, true],
  ['defaultLongPollTimeoutMs', 0, 3_600_000, true],
  ['maxBatch', 1, 1e6, true],
  ['maxBodyBytes', 1, 1024 ** 3, true],
  ['maxWsPayloadBytes', 1, 1024 ** 3, true],
  ['sendBufferBytes', 1, 1024 ** 3, true],
  ['headersTimeoutMs', 1, 3_600_000, true],
  ['requestTimeoutMs', 1, 3_600_000, true],
  ['idleTimeoutMs', 1, 3_600_000, true],
  ['processes', 1, 64, true],
  ['cpuCost', 0, 10, false],
];

/** Every problem with `o`, one sentence each; empty when it is valid. */
export function validateServerOptions(o: ServerOptions): string[] {
  const problems: string[] = [];
  for (const [k, lo, hi, int] of RANGES) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) {
      problems.push(`${k} must be ${int ? 'an integer' : 'a number'} from ${lo} to ${hi} (got ${String(v)})`);
    }
  }
  if (typeof o.host !== 'string' || o.host.trim() === '') problems.push('host must be a host name or address');
  if (!PAYLOAD_KINDS.includes(o.payloadKind)) problems.push(`payloadKind must be one of ${PAYLOAD_KINDS.join(', ')} (got ${String(o.payloadKind)})`);
  if (o.tlsRecordBytes !== 0 && !(Number.isInteger(o.tlsRecordBytes) && o.tlsRecordBytes >= 512 && o.tlsRecordBytes <= 16384)) problems.push(`tlsRecordBytes must be 0 (Node's 16 KB) or an integer from 512 to 16384 (got ${String(o.tlsRecordBytes)})`);
  if (o.requestTimeoutMs < o.headersTimeoutMs) problems.push('requestTimeoutMs must be at least headersTimeoutMs');
  // the cost is spent by the scheduled publisher, in the process that measures its own CPU
  if (o.cpuCost > 0 && !(o.ratePerS > 0)) problems.push('cpuCost is spent at each scheduled publish, so it needs a publish rate above 0 (serve --rate)');
  if (o.cpuCost > 0 && o.processes > 1) problems.push('cpuCost needs one server process (serve --server-procs 1): the publisher runs in the cluster primary, whose CPU is not the workers\'');
  return problems;
}
