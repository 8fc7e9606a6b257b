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
 * Hot path: one string per decoded chunk plus the line slices and the joined data; no per-event
 * objects (events go to a callback as arguments). Threading: one parser per connection, used from
 * one event loop; `push` never blocks and never throws on malformed input.
 */
import { StringDecoder } from 'node:string_decoder';

/** Called once per dispatched event: its type (`message` when none was given), data and last event id. */
export type SseEventHandler = (type: string, data: string, lastEventId: string) => void;

const LF = 10;
const SPACE = 32;
const BOM = 0xfeff;
const DIGITS_RE = /^[0-9]+$/;

export class SseParser {
  /** The last event ID string (persists across events and across `reset()`, as in EventSource). */
  lastEventId = '';
  /** The reconnection time the stream asked for with `retry:`, in ms, if any. */
  retryMs: number | undefined;

  private decoder = new StringDecoder('utf8');
  /** Start of a line not yet terminated, carried over from earlier chunks. */
  private partialLine = '';
  /** The previous chunk ended in CR: an LF at the start of the next one is the same line break. */
  private skipLeadingLf = false;
  private atStreamStart = true;
  private data = '';
  private hasData = false;
  private eventType = '';
  private idBuffer = '';

  constructor(
    private readonly onEvent: SseEventHandler,
    private readonly onRetry?: (retryMs: number) => void,
  ) {}

  /** Feed the next bytes (or already decoded text) of the stream. */
  push(chunk: Buffer | string): void {
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
    this.decoder = new StringDecoder('utf8');
    this.partialLine = '';
    this.skipLeadingLf = false;
    this.atStreamStart = true;
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    this.idBuffer = this.lastEventId;
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
        if (value.indexOf('\0') === -1) this.idBuffer = value;
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

  private dispatch(): void {
    this.lastEventId = this.idBuffer;
    if (!this.hasData) {
      this.eventType = '';
      return;
    }
    const type = this.eventType.length > 0 ? this.eventType : 'message';
    const data = this.data;
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    this.onEvent(type, data, this.lastEventId);
  }
}
