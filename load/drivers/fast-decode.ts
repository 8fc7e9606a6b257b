/**
 * The delivery hot path's decoder: a message in the contract's exact serialization
 * (core/wire.ts `encodeMessage`: `{"seq":N,"ts":N,"topic":"…","epoch":"…","data":"…"}`, fields in
 * that order, plain ASCII strings with no escapes — topic and epoch may be anything when they are
 * byte for byte the client's known ones) is read from its bytes — a WebSocket text frame,
 * or the range of an SSE chunk that holds one `data` line — field by field, without a
 * `Buffer → string` copy and `JSON.parse`. Anything else — other field order, extra fields,
 * escapes, non-ASCII, fractions, exponents — is not guessed at: it is declined and the caller
 * decodes the text with `decodeMessage` (JSON.parse), so the result is always what `JSON.parse`
 * would have given.
 *
 * Why: in a worker CPU profile (PUSHBENCH_WORKER_CPU_PROF, read by hand) of `pushbench run
 * --transport ws` at 1,000 clients × 120 msg/s, `toString` + `JSON.parse` were about an eighth of
 * the worker's busy time. A reader of the same shape over a JS string was tried for SSE and
 * dropped: in a throwaway measurement it was no faster than JSON.parse (V8's JSON parser beats a
 * charCodeAt loop), which is why this reads bytes and why the SSE parser hands it byte ranges
 * (load/drivers/sse-parser.ts). test/load/drivers/fast-decode.test.ts checks it against `decodeMessage`
 * on generated and mutated input.
 *
 * The hot path ({@link readContract}) allocates nothing: the fields go to one reused
 * {@link contractView}, the data stays a byte range (the recorder needs only its length), and a
 * client's known topic and epoch are compared as one run of bytes ({@link contractMiddle}) and
 * reused, so the recorder's epoch comparison is a pointer comparison. The fixed keys are compared
 * byte by byte in straight-line code and the data checked with one table load a byte.
 * `npm run bench:decode` prints the delivery against JSON.parse in the same run.
 */
import type { WireMessage } from '../../core/wire.ts';
import type { MessageView } from './types.ts';

/**
 * Strings a client has seen before: reused instead of allocating equal ones. `middle`, when set,
 * is how a message of that topic and epoch continues after its `ts` —
 * `,"topic":<topic>,"epoch":<epoch>,"data":"` as UTF-8 — and is compared as one run of bytes
 * (see {@link contractMiddle}).
 */
export interface KnownStrings {
  topic?: string | undefined;
  epoch?: string | undefined;
  middle?: Uint8Array | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE = 0x7d;
const ZERO = 0x30;
const NINE = 0x39;
/** digits of an integer this reader accepts (below 2^53: exact as a double) */
const MAX_DIGITS = 15;

const TOPIC = ',"topic":"';
const EPOCH = '","epoch":"';
const DATA = '","data":"';
const BYTES = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const TOPIC_B = BYTES(TOPIC);
const EPOCH_B = BYTES(EPOCH);
const DATA_B = BYTES(DATA);
/** 1 for a byte a plain string may hold as is: printable ASCII but `"` and `\` (one load a byte) */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) PLAIN[c] = c === QUOTE || c === BACKSLASH ? 0 : 1;

/**
 * The bytes that follow `ts` in a contract message of `topic` in `epoch`: what a client's
 * {@link KnownStrings.middle} holds. Built with `JSON.stringify`, so bytes equal to it decode to
 * exactly these strings (a server that escapes differently just misses this shortcut).
 */
export function contractMiddle(topic: string, epoch: string): Uint8Array {
  return Buffer.from(`,"topic":${JSON.stringify(topic)},"epoch":${JSON.stringify(epoch)},"data":"`);
}

/** A topic and epoch with their {@link contractMiddle}, shared by every client of a thread that knows them. */
export interface KnownPair {
  readonly topic: string;
  readonly epoch: string;
  readonly middle: Uint8Array;
}

const knownPairs = new Map<string, KnownPair>();
/** distinct pairs kept per thread (topics × epochs seen); past this the cache starts afresh */
const KNOWN_PAIRS_MAX = 100_000;

/**
 * The thread's one {@link KnownPair} for (topic, epoch). Clients that keep its strings and bytes
 * share them: a thousand clients of one topic then read one middle and compare one epoch string,
 * which stay in the cache, instead of a thousand copies that do not.
 */
export function knownPair(topic: string, epoch: string): KnownPair {
  const key = JSON.stringify([topic, epoch]);
  let pair = knownPairs.get(key);
  if (pair === undefined) {
    if (knownPairs.size >= KNOWN_PAIRS_MAX) knownPairs.clear();
    pair = { topic, epoch, middle: contractMiddle(topic, epoch) };
    knownPairs.set(key, pair);
  }
  return pair;
}

/**
 * What the last successful {@link readContract} read (one reader per thread, so one view): valid
 * until the next call. Its `buf` is the caller's, not a copy.
 */
export const contractView: MessageView = { seq: 0, ts: 0, topic: '', epoch: '', buf: Buffer.alloc(0), dataStart: 0, dataEnd: 0 };

/**
 * Reads a contract message from `buf[from, to)` (a WebSocket text frame, or one SSE `data` line)
 * into {@link contractView} and returns true, or returns false when those bytes are not the exact
 * contract form (the caller then decodes them as UTF-8 text). Nothing is allocated when the
 * message's topic and epoch are the known ones; `data` stays a byte range (it is plain ASCII, so
 * its length in bytes is its length as a string).
 */
export function readContract(buf: Buffer, known: KnownStrings, from = 0, to = buf.length): boolean {
  return readContractFrom(buf, known, from, to) === to;
}

/**
 * {@link readContract} of the message that starts at `buf[from]` and ends anywhere up to `to` (one
 * element of a poll answer's `messages` array): the index after its closing `}`, or -1 when no
 * message in the exact contract form starts there. {@link contractView} holds it until the next read.
 */
export function readContractFrom(buf: Buffer, known: KnownStrings, from: number, to: number): number {
  let i = from;
  // `{"seq":`
  if (to - i < 7 || buf[i] !== 0x7b || buf[i + 1] !== QUOTE || buf[i + 2] !== 0x73 || buf[i + 3] !== 0x65 || buf[i + 4] !== 0x71 || buf[i + 5] !== QUOTE || buf[i + 6] !== 0x3a) return -1;
  const seq = readPlainUint(buf, i + 7, to);
  i = uintRead.end;
  // `,"ts":`
  if (seq < 0 || to - i < 6 || buf[i] !== 0x2c || buf[i + 1] !== QUOTE || buf[i + 2] !== 0x74 || buf[i + 3] !== 0x73 || buf[i + 4] !== QUOTE || buf[i + 5] !== 0x3a) return -1;
  const ts = readPlainUint(buf, i + 6, to);
  i = uintRead.end;
  if (ts < 0) return -1;
  const v = contractView;
  const middle = known.middle;
  if (middle != null && matchesAt(buf, i, to, middle)) {
    v.topic = known.topic!;
    v.epoch = known.epoch!;
    i += middle.length;
  } else {
    if (!matchesAt(buf, i, to, TOPIC_B)) return -1;
    i += TOPIC_B.length;
    const topicEnd = plainBytesEnd(buf, i, to);
    if (topicEnd < 0 || !matchesAt(buf, topicEnd, to, EPOCH_B)) return -1;
    const topic = reuseBytes(buf, i, topicEnd, known.topic);
    i = topicEnd + EPOCH_B.length;
    const epochEnd = plainBytesEnd(buf, i, to);
    if (epochEnd < 0 || !matchesAt(buf, epochEnd, to, DATA_B)) return -1;
    v.topic = topic;
    v.epoch = reuseBytes(buf, i, epochEnd, known.epoch);
    i = epochEnd + DATA_B.length;
  }
  // the data: plain bytes up to its closing quote (a plain string holds none), then `}`
  let dataEnd = i;
  while (dataEnd < to && PLAIN[buf[dataEnd]!] !== 0) dataEnd++;
  if (dataEnd + 1 >= to || buf[dataEnd] !== QUOTE || buf[dataEnd + 1] !== CLOSE) return -1;
  v.seq = seq;
  v.ts = ts;
  v.buf = buf;
  v.dataStart = i;
  v.dataEnd = dataEnd;
  return dataEnd + 2;
}

/**
 * A contract message read from `buf[from, to)` as a new object, or `null` when those bytes are
 * not the exact contract form: {@link readContract} with its data made a string.
 */
export function decodeContractBytes(buf: Buffer, known: KnownStrings, from = 0, to = buf.length): WireMessage | null {
  return readContract(buf, known, from, to) ? messageOf(contractView) : null;
}

/** `v` as a message of its own (its data made a string): for a consumer that keeps it. */
export function messageOf(v: MessageView): WireMessage {
  return { seq: v.seq, ts: v.ts, topic: v.topic, epoch: v.epoch, data: latin1(v.buf, v.dataStart, v.dataEnd) };
}

/** Where the last {@link readPlainUint} stopped reading (one reader per thread, so one slot). */
export const uintRead = { end: 0 };

/**
 * The JSON non-negative integer at `buf[i]` as this reader accepts it — digits, no leading zero,
 * at most {@link MAX_DIGITS} (exact as a double) — or -1 when there is none there; the index
 * after its digits goes to {@link uintRead}.end either way.
 */
export function readPlainUint(buf: Buffer, i: number, to: number): number {
  const d = i;
  let v = 0;
  for (let c = buf[i]; i < to && c >= ZERO && c <= NINE; c = buf[++i]) v = v * 10 + (c - ZERO);
  uintRead.end = i;
  return i === d || i - d > MAX_DIGITS || (buf[d] === ZERO && i - d > 1) ? -1 : v;
}

function matchesAt(buf: Buffer, at: number, to: number, bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (at + n > to) return false;
  for (let k = 0; k < n; k++) if (buf[at + k] !== bytes[k]) return false;
  return true;
}

function plainBytesEnd(buf: Buffer, i: number, to: number): number {
  for (; i < to; i++) {
    const c = buf[i];
    if (c === QUOTE) return i;
    if (PLAIN[c] === 0) return -1;
  }
  return -1;
}

function reuseBytes(buf: Buffer, from: number, to: number, seen: string | undefined): string {
  if (seen !== undefined && seen.length === to - from) {
    let same = true;
    for (let k = 0; k < seen.length; k++) {
      if (buf[from + k] !== seen.charCodeAt(k)) {
        same = false;
        break;
      }
    }
    if (same) return seen;
  }
  return latin1(buf, from, to);
}

/** Node's own Latin-1 slice (what `buf.toString('latin1', a, b)` calls, without its argument checks). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Buffer, from: number, to: number): string }).latin1Slice;
const latin1 = (buf: Buffer, from: number, to: number): string => latin1Slice.call(buf, from, to);
