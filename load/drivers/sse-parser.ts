/**
 * A streaming `text/event-stream` parser that follows the HTML spec's "interpreting an event
 * stream" (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * UTF-8 with one optional leading BOM; lines end in CRLF, LF or CR; a blank line dispatches the
 * event; `:` starts a comment; a line without a colon is a field with an empty value; one space
 * after the colon is dropped; `data` lines are joined with LF; `id` values containing NUL are
 * ignored; `retry` must be all ASCII digits; unknown fields are ignored; an event still being
 * built when the stream ends is never dispatched. Chunk boundaries may fall anywhere, including
 * inside a CRLF pair or a multi-byte character.
 *
 * Two paths, one behaviour (test/load/drivers/sse-parser.test.ts checks them against each other on
 * any stream and any chunking):
 * - text: each chunk is decoded to a string and split into line slices; events go to `onEvent`.
 * - bytes: given an `onMessageBytes` handler and Buffer chunks, lines are found with
 *   `Buffer.indexOf` and never become strings when they need not: a `message` event whose data is
 *   one line is handed over as a byte range of its chunk (the WebSocket driver's fast decoder
 *   then reads it without JSON.parse); an `id` stays a byte range until `lastEventId` is read;
 *   anything else (other fields, multi-line data, other event types) goes through the text
 *   path's line handling. A stream that uses CR line ends switches to the text path for good (CR
 *   alone is rare, and CRLF needs the pair-across-chunks care the text path has). Why: decoding,
 *   splitting and JSON.parse are a large share of a worker's time at high delivery rates;
 *   `npm run bench:decode` prints the two paths side by side.
 *
 * - one pass: given an {@link SseDataReader} as well, a chunk that starts on an event's first line
 *   is first read event by event while each is exactly `[id: X LF] data: V LF LF` (no other field,
 *   V the reader's): the id is scanned in JS, V is read by the reader straight from `data: `, and
 *   only the two bytes after it are checked — no line search and no CR search over bytes already
 *   read. What follows the last such event goes the byte path above. Why: the reference server
 *   writes each event as its own chunk, and for such chunks the byte path's CR scan, line
 *   searches and line dispatch cost about as much as the decoding itself (`npm run
 *   profile:summary`); `npm run bench:decode` prints the delivery with and without the one pass.
 *
 * No per-event objects (events go to a callback as arguments). Threading: one parser per
 * connection, used from one event loop; `push` never blocks and never throws on malformed input.
 * The consumer's side (handlers, the in-place reader's contract) is load/drivers/sse-types.ts.
 */
import { StringDecoder } from 'node:string_decoder';
import type { SseDataReader, SseEventHandler, SseMessageBytesHandler } from './sse-types.ts';

export type { SseDataReader, SseEventHandler, SseMessageBytesHandler } from './sse-types.ts';

const LF = 10;
const CR = 13;
const COLON = 58;
const NUL = 0;
const D = 100;
const A = 97;
const T = 116;
const I = 105;
const SPACE = 32;
const BOM = 0xfeff;
const DIGITS_RE = /^[0-9]+$/;

export class SseParser {
  // The fields the one pass reads and writes for every event come first: in-object properties are
  // laid out in declaration order, so with many parsers read cold an event touches few cache lines.
  private readonly reader: SseDataReader | undefined;
  /** byte path: this stream has not left it (no CR seen, no text pushed) */
  private bytePath: boolean;
  /** byte path: the pieces of a line not yet terminated (joined once its end arrives); null when none */
  private tail: Buffer[] | null = null;
  private atStreamStart = true;
  private hasData = false;
  private eventType = '';
  /** byte path: the id buffer as a range of a chunk (idBuffer is then stale); kept across events like idBuffer */
  private idBytes: Buffer | null = null;
  private idStart = 0;
  private idEnd = 0;
  /** byte path: the last event id as a range of a chunk, made a string only when asked for */
  private lastIdBytes: Buffer | null = null;
  private lastIdStart = 0;
  private lastIdEnd = 0;
  private lastIdText = '';

  /** The last event ID string (persists across events and across `reset()`, as in EventSource). */
  get lastEventId(): string {
    if (this.lastIdBytes !== null) {
      this.lastIdText = this.lastIdBytes.toString('utf8', this.lastIdStart, this.lastIdEnd);
      this.lastIdBytes = null;
    }
    return this.lastIdText;
  }
  /** The reconnection time the stream asked for with `retry:`, in ms, if any. */
  retryMs: number | undefined;

  private decoder = new StringDecoder('utf8');
  /** Start of a line not yet terminated, carried over from earlier chunks. */
  private partialLine = '';
  /** The previous chunk ended in CR: an LF at the start of the next one is the same line break. */
  private skipLeadingLf = false;
  private data = '';
  private idBuffer = '';
  /** byte path: the current event's one data line, as a range of a chunk (data is then '') */
  private dataBuf: Buffer | null = null;
  private dataStart = 0;
  private dataEnd = 0;

  constructor(
    private readonly onEvent: SseEventHandler,
    private readonly onRetry?: (retryMs: number) => void,
    private readonly onMessageBytes?: SseMessageBytesHandler,
    reader?: SseDataReader,
  ) {
    this.reader = reader;
    this.bytePath = onMessageBytes !== undefined;
  }

  /** Feed the next bytes (or already decoded text) of the stream. */
  push(chunk: Buffer | string): void {
    if (this.bytePath) {
      if (typeof chunk !== 'string') {
        let from = 0;
        if (this.reader !== undefined && this.tail === null && !this.atStreamStart && !this.hasData && this.eventType.length === 0) {
          from = this.readEvents(chunk);
          if (from === chunk.length) return;
        }
        if (chunk.indexOf(CR, from) === -1) {
          this.pushBytes(from === 0 ? chunk : chunk.subarray(from));
          return;
        }
        if (from > 0) chunk = chunk.subarray(from);
      }
      this.leaveBytePath();
    }
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (text.length === 0) return;
    if (this.atStreamStart) {
      this.atStreamStart = false;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    }
    const n = text.length;
    let start = 0;
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (n > 0 && text.charCodeAt(0) === LF) start = 1;
    }
    // Both separators are searched once and re-searched only when passed, so a chunk with many
    // LF lines and no CR costs one failed CR scan, not one per line.
    let lf = text.indexOf('\n', start);
    let cr = text.indexOf('\r', start);
    while (lf !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        end = lf;
        next = lf + 1;
      } else {
        end = cr;
        if (cr + 1 < n) {
          next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        } else {
          next = n;
          this.skipLeadingLf = true;
        }
      }
      let line = text.slice(start, end);
      if (this.partialLine.length > 0) {
        line = this.partialLine + line;
        this.partialLine = '';
      }
      this.processLine(line);
      start = next;
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
    }
    if (start < n) this.partialLine += start === 0 ? text : text.slice(start);
  }

  /**
   * Forget everything of the current stream (a new connection begins): the partial line, the
   * event being built, decoder state and BOM detection. `lastEventId` and `retryMs` are kept.
   */
  reset(): void {
    this.bytePath = this.onMessageBytes !== undefined;
    this.tail = null;
    this.dataBuf = null;
    this.decoder = new StringDecoder('utf8');
    this.partialLine = '';
    this.skipLeadingLf = false;
    this.atStreamStart = true;
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    this.idBuffer = this.lastEventId;
    this.idBytes = null;
  }

  /**
   * One pass: the events at the start of `b` that are exactly `[id: X LF] data: V LF LF` with V
   * read by the {@link SseDataReader}, each dispatched as it is read; returns where the first
   * other bytes start (`b.length` when there are none). The parser is at an event's first line
   * with nothing pending, so such an event is dispatched exactly as the line path would.
   */
  private readEvents(b: Buffer): number {
    const reader = this.reader!;
    const n = b.length;
    let pos = 0;
    while (pos < n) {
      let p = pos;
      let idStart = -1;
      let idEnd = -1;
      if (n - p > 3 && b[p] === I && b[p + 1] === D && b[p + 2] === COLON) {
        p += 3;
        if (b[p] === SPACE) p++;
        idStart = p;
        for (;;) {
          if (p >= n) return pos;
          const c = b[p];
          if (c === LF) break;
          if (c === CR || c === NUL) return pos;
          p++;
        }
        idEnd = p++;
      }
      if (n - p < 5 || b[p] !== D || b[p + 1] !== A || b[p + 2] !== T || b[p + 3] !== A || b[p + 4] !== COLON) return pos;
      p += 5;
      if (p < n && b[p] === SPACE) p++;
      const end = reader.readInPlace(b, p, n);
      if (end < 0 || end + 1 >= n || b[end] !== LF || b[end + 1] !== LF) return pos;
      if (idStart >= 0) {
        this.idBytes = b;
        this.idStart = idStart;
        this.idEnd = idEnd;
      }
      this.dispatchedId();
      reader.deliverInPlace();
      pos = end + 2;
    }
    return pos;
  }

  /** Byte path: every complete line of `chunk` (with the carried-over start of the first). */
  private pushBytes(chunk: Buffer): void {
    let b = chunk;
    if (this.tail !== null) {
      // A long line arriving in many chunks is joined once, when its end is in (not once a chunk).
      this.tail.push(chunk);
      if (!this.atStreamStart && chunk.indexOf(LF) === -1) return;
      b = Buffer.concat(this.tail);
      this.tail = null;
    }
    if (b.length === 0) return;
    let pos = 0;
    if (this.atStreamStart) {
      // A BOM may only be recognised once its three bytes are in.
      if (b.length < 3 && b[0] === 0xef && (b.length === 1 || b[1] === 0xbb)) {
        this.tail = [b];
        return;
      }
      this.atStreamStart = false;
      if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) pos = 3;
    }
    const n = b.length;
    for (let lf = b.indexOf(LF, pos); lf !== -1; lf = b.indexOf(LF, pos)) {
      this.lineBytes(b, pos, lf);
      pos = lf + 1;
    }
    if (pos < n) this.tail = [pos === 0 ? b : b.subarray(pos)];
  }

  /** Byte path: the line `b[s, e)` (no line end in it). */
  private lineBytes(b: Buffer, s: number, e: number): void {
    const len = e - s;
    if (len === 0) {
      this.dispatch();
      return;
    }
    const c0 = b[s];
    if (c0 === COLON) return; // comment
    if (c0 === D && len >= 4 && b[s + 1] === A && b[s + 2] === T && b[s + 3] === A && (len === 4 || b[s + 4] === COLON)) {
      let v = len === 4 ? e : s + 5;
      if (v < e && b[v] === SPACE) v++;
      if (!this.hasData) {
        this.dataBuf = b;
        this.dataStart = v;
        this.dataEnd = e;
        this.hasData = true;
      } else {
        this.textData();
        this.data += '\n' + b.toString('utf8', v, e);
      }
      return;
    }
    if (c0 === I && len >= 2 && b[s + 1] === D && (len === 2 || b[s + 2] === COLON)) {
      let v = len === 2 ? e : s + 3;
      if (v < e && b[v] === SPACE) v++;
      for (let k = v; k < e; k++) if (b[k] === NUL) return; // an id with NUL is ignored
      this.idBytes = b;
      this.idStart = v;
      this.idEnd = e;
      return;
    }
    this.processLine(b.toString('utf8', s, e));
  }

  /** The current event's data as text (its byte range, if it has one, becomes `data`). */
  private textData(): void {
    if (this.dataBuf === null) return;
    this.data = this.dataBuf.toString('utf8', this.dataStart, this.dataEnd);
    this.dataBuf = null;
  }

  /** Switch this stream to the text path for good, carrying over the byte path's state. */
  private leaveBytePath(): void {
    this.bytePath = false;
    this.textData();
    if (this.tail === null) return;
    const tail = Buffer.concat(this.tail);
    this.tail = null;
    // The start of a line (or, at the stream's start, up to two bytes of a possible BOM).
    let text = this.decoder.write(tail);
    if (this.atStreamStart && text.length > 0) {
      this.atStreamStart = false;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    }
    this.partialLine = text;
  }

  private processLine(line: string): void {
    const n = line.length;
    if (n === 0) {
      this.dispatch();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // comment
    let value = '';
    if (colon !== -1) {
      const valueStart = colon + 1 < n && line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
      value = line.slice(valueStart);
    }
    // `data` is by far the most frequent field: recognise it without slicing the field name.
    if ((colon === 4 || (colon === -1 && n === 4)) && line.startsWith('data')) {
      if (this.hasData) this.data += '\n' + value;
      else {
        this.data = value;
        this.hasData = true;
      }
      return;
    }
    switch (colon === -1 ? line : line.slice(0, colon)) {
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (value.indexOf('\0') === -1) {
          this.idBuffer = value;
          this.idBytes = null;
        }
        break;
      case 'retry':
        if (DIGITS_RE.test(value)) {
          this.retryMs = Number(value);
          this.onRetry?.(this.retryMs);
        }
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  /** An event is dispatched: its id buffer becomes the last event id. */
  private dispatchedId(): void {
    if (this.idBytes !== null) {
      this.lastIdBytes = this.idBytes;
      this.lastIdStart = this.idStart;
      this.lastIdEnd = this.idEnd;
    } else {
      this.lastIdBytes = null;
      this.lastIdText = this.idBuffer;
    }
  }

  private dispatch(): void {
    this.dispatchedId();
    if (!this.hasData) {
      this.eventType = '';
      return;
    }
    const type = this.eventType.length > 0 ? this.eventType : 'message';
    const buf = this.dataBuf;
    if (buf !== null) {
      this.dataBuf = null;
      if (type === 'message') {
        this.hasData = false;
        this.eventType = '';
        this.onMessageBytes!(buf, this.dataStart, this.dataEnd);
        return;
      }
      this.data = buf.toString('utf8', this.dataStart, this.dataEnd);
    }
    const data = this.data;
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    this.onEvent(type, data, this.lastEventId);
  }
}
