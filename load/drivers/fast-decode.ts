/**
 * The delivery hot path's decoder: a message in the contract's exact serialization
 * (servers/wire.ts `encodeMessage`: `{"seq":N,"ts":N,"topic":"…","epoch":"…","data":"…"}`, fields in
 * that order, plain ASCII strings with no escapes) is read from its bytes — a WebSocket text frame,
 * or the range of an SSE chunk that holds one `data` line — field by field, without a
 * `Buffer → string` copy and `JSON.parse`. Anything else — other field order, extra fields,
 * escapes, non-ASCII, fractions, exponents — is not guessed at: it returns `null` and the caller
 * decodes the text with `decodeMessage` (JSON.parse), so the result is always what `JSON.parse`
 * would have given.
 *
 * Why: in a worker CPU profile (PUSHBENCH_WORKER_CPU_PROF, read by hand) of `pushbench run
 * --transport ws` at 1,000 clients × 120 msg/s, `toString` + `JSON.parse` were about an eighth of
 * the worker's busy time. `npm run bench:decode` prints what this reader saves against
 * `JSON.parse(buf.toString())` in the same run (README: 533 → 357 ns a frame). A reader of the same
 * shape over a JS string was tried for SSE and dropped: in a throwaway measurement it was no
 * faster than JSON.parse (V8's JSON parser beats a charCodeAt loop), which is why this reads bytes
 * and why the SSE parser hands it byte ranges (load/drivers/sse-parser.ts).
 * test/drivers/fast-decode.test.ts checks it against `decodeMessage` on generated and mutated input.
 *
 * The strings it returns reuse `known.topic` / `known.epoch` when the bytes match them (a client
 * sees one topic and, but for resets, one epoch), so the usual message allocates only its
 * object and its `data` slice, and the recorder's epoch comparison is a pointer comparison.
 */
import type { WireMessage } from '../../servers/wire.ts';

/** Strings a client has seen before: reused instead of allocating equal ones. */
export interface KnownStrings {
  topic?: string | undefined;
  epoch?: string | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE = 0x7d;
const ZERO = 0x30;
const NINE = 0x39;
/** digits of an integer this reader accepts (below 2^53: exact as a double) */
const MAX_DIGITS = 15;

const SEQ = '{"seq":';
const TS = ',"ts":';
const TOPIC = ',"topic":"';
const EPOCH = '","epoch":"';
const DATA = '","data":"';
const CODES = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const SEQ_B = CODES(SEQ);
const TS_B = CODES(TS);
const TOPIC_B = CODES(TOPIC);
const EPOCH_B = CODES(EPOCH);
const DATA_B = CODES(DATA);

/**
 * A contract message read from `buf[from, to)` (a WebSocket text frame, or one SSE `data` line),
 * or `null` when those bytes are not the exact contract form (the caller then decodes them as
 * UTF-8 text). Only ASCII is accepted, so the strings are the bytes as Latin-1, which for ASCII is
 * UTF-8.
 */
export function decodeContractBytes(buf: Buffer, known: KnownStrings, from = 0, to = buf.length): WireMessage | null {
  if (!startsWithBytes(buf, from, to, SEQ_B)) return null;
  let i = from + SEQ_B.length;
  const seq = readPlainUint(buf, i, to);
  i = uintRead.end;
  if (seq < 0 || !startsWithBytes(buf, i, to, TS_B)) return null;
  i += TS_B.length;
  const ts = readPlainUint(buf, i, to);
  i = uintRead.end;
  if (ts < 0 || !startsWithBytes(buf, i, to, TOPIC_B)) return null;
  i += TOPIC_B.length;
  const topicEnd = plainBytesEnd(buf, i, to);
  if (topicEnd < 0 || !startsWithBytes(buf, topicEnd, to, EPOCH_B)) return null;
  const topic = reuseBytes(buf, i, topicEnd, known.topic);
  i = topicEnd + EPOCH_B.length;
  const epochEnd = plainBytesEnd(buf, i, to);
  if (epochEnd < 0 || !startsWithBytes(buf, epochEnd, to, DATA_B)) return null;
  const epoch = reuseBytes(buf, i, epochEnd, known.epoch);
  i = epochEnd + DATA_B.length;
  const dataEnd = plainBytesEnd(buf, i, to);
  if (dataEnd < 0 || dataEnd + 2 !== to || buf[dataEnd + 1] !== CLOSE) return null;
  return { seq, ts, topic, epoch, data: latin1(buf, i, dataEnd) };
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

function startsWithBytes(buf: Buffer, at: number, to: number, codes: readonly number[]): boolean {
  if (at + codes.length > to) return false;
  for (let k = 0; k < codes.length; k++) if (buf[at + k] !== codes[k]) return false;
  return true;
}

function plainBytesEnd(buf: Buffer, i: number, to: number): number {
  for (; i < to; i++) {
    const c = buf[i];
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 0x20 || c > 0x7e) return -1;
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
