/**
 * The resume cursor of one client (core/wire.ts cursor rules) and the decoding of what the
 * server pushes: messages, gap notices and poll answers, turned into {@link ClientEvents} calls.
 *
 * Hot path: a WebSocket frame or SSE data line in the contract's exact form is read from its bytes
 * without JSON.parse (fast-decode.ts), and so is a poll answer in that form; anything else costs one
 * JSON.parse per message (or per poll answer). Never throws — anything not understood is counted
 * as error `BAD_MESSAGE`.
 */
import { isUtf8 } from 'node:buffer';
import type { GapNotice, PollAnswer, WireMessage } from '../../core/wire.ts';
import { decodeMessage, sseEventId } from '../../core/wire.ts';
import { contractView, knownPair, readContract, readContractFrom, readPlainUint, uintRead, type KnownPair, type KnownStrings } from './fast-decode.ts';
import type { ClientEvents, MessageView } from './types.ts';

/**
 * `s` as one sequential string. A concatenation is a rope (ConsString); undici reads `path[0]`
 * and runs a regex over every request's path, and on a rope the first goes to V8's runtime each
 * time. Paths are ASCII (encodeURIComponent).
 */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/** Error code counted for a frame, event or answer that is not contract JSON. */
export const BAD_MESSAGE = 'BAD_MESSAGE';

/** What follows `next` in a poll answer without a gap (servers/transports/poll-body.ts field order). */
const MESSAGES_KEY = Buffer.from(',"gap":false,"messages":[');
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * Whether `buf` holds `lit` at `at` (the caller has checked it fits). A byte loop, not
 * `Buffer.compare`: for the ~30-byte literals of a poll answer the call into C++ costs more than
 * the comparison.
 */
function bytesAt(buf: Uint8Array, at: number, lit: Uint8Array): boolean {
  for (let k = 0; k < lit.length; k++) if (buf[at + k] !== lit[k]) return false;
  return true;
}

export class Cursor implements KnownStrings {
  /** Epoch of the last message or answer seen; undefined before the first. */
  epoch: string | undefined;
  /** Topic of the last message decoded (reused by the fast decoder); undefined before the first. */
  topic: string | undefined;
  /** Highest seq seen in {@link epoch} (what `since=` resumes from); undefined before the first. */
  seq: number | undefined;
  /** how a message of {@link topic} in {@link epoch} goes on after its ts: the thread's shared {@link knownPair} bytes, set on the first message read */
  middle: Uint8Array | null = null;
  // (the fields above and `events` are what every delivery reads: declared first, they share the
  // object's first cache line or two — in-object properties are laid out in declaration order)
  private readonly events: ClientEvents;

  /** {@link epoch} URL-encoded, kept so a poll's query costs no encoding. */
  private epochParam = '';
  /** the last {@link query} and {@link path} built, and what they were built from */
  private queryText = '';
  private querySeq: number | undefined;
  private queryEpoch: string | undefined;
  private pathText = '';
  private pathQuery = '';
  private pathPrefix = '';
  /** `{"epoch":<epoch>,"next":` as bytes: how a poll answer in {@link epoch} starts. */
  private answerPrefix: Buffer | null = null;

  constructor(events: ClientEvents) {
    this.events = events;
  }

  /** `&since=S&epoch=E` to append to a query, or `''` before anything was seen ("from now on"). */
  query(): string {
    if (this.seq === undefined || this.epoch === undefined) return '';
    if (this.seq !== this.querySeq || this.epoch !== this.queryEpoch) {
      this.queryText = `&since=${this.seq}&epoch=${this.epochParam}`;
      this.querySeq = this.seq;
      this.queryEpoch = this.epoch;
    }
    return this.queryText;
  }

  /**
   * `prefix` + {@link query}: a poll's path. Kept while the cursor stands still, so a poll that
   * finds nothing new builds no string for the next.
   */
  path(prefix: string): string {
    const q = this.query();
    if (q !== this.pathQuery || prefix !== this.pathPrefix) {
      this.pathText = flat(prefix + q);
      this.pathQuery = q;
      this.pathPrefix = prefix;
    }
    return this.pathText;
  }

  /** The SSE `Last-Event-ID` to resume with (`<epoch>:<seq>`), or undefined before the first message. */
  lastEventId(): string | undefined {
    if (this.seq === undefined || this.epoch === undefined) return undefined;
    return sseEventId(this.epoch, this.seq);
  }

  /** Move the cursor to (epoch, seq): forwards within an epoch, anywhere on an epoch change. */
  advance(epoch: string, seq: number): void {
    if (epoch !== this.epoch) {
      this.setEpoch(epoch);
      this.seq = seq;
    } else if (this.seq === undefined || seq > this.seq) {
      this.seq = seq;
    }
  }

  private setEpoch(epoch: string): void {
    this.epoch = epoch;
    this.epochParam = encodeURIComponent(epoch);
    this.answerPrefix = null;
    this.middle = null;
  }

  /** One pushed text that is a message (WebSocket frame or SSE `message` data). */
  message(text: string, recvUs: number): void {
    this.deliver(decodeMessage(text), recvUs);
  }

  private deliver(msg: WireMessage | undefined, recvUs: number): void {
    if (msg === undefined) {
      this.events.error(BAD_MESSAGE);
      return;
    }
    this.setTopic(msg.topic);
    this.advance(msg.epoch, msg.seq);
    this.events.message(msg, recvUs);
  }

  private setTopic(topic: string): void {
    if (topic === this.topic) return;
    this.topic = topic;
    this.middle = null;
  }

  /**
   * The message {@link readContract} just read into {@link contractView}. A topic or epoch not
   * read through {@link middle} is swapped for the thread's shared copy ({@link knownPair}).
   */
  private deliverView(recvUs: number): void {
    const v = contractView;
    const pair = this.sharedPair(v);
    if (pair !== null) {
      this.setTopic(pair.topic);
      this.advance(pair.epoch, v.seq);
      this.middle = pair.middle;
    } else {
      this.advance(v.epoch, v.seq);
    }
    this.events.messageView(v, recvUs);
  }

  /**
   * Unless `v` was read through {@link middle} (its topic and epoch already the shared ones), swaps
   * its strings for the thread's {@link knownPair} and returns that pair; else null.
   */
  private sharedPair(v: MessageView): KnownPair | null {
    if (v.topic === this.topic && v.epoch === this.epoch && this.middle !== null) return null;
    const pair = knownPair(v.topic, v.epoch);
    v.topic = pair.topic;
    v.epoch = pair.epoch;
    return pair;
  }

  /**
   * Reads a message in the contract's exact form starting at `buf[from]` (ending anywhere up to
   * `to`) without reporting it: the index after it, or -1 (an SSE parser's in-place reader).
   */
  readMessageAt(buf: Buffer, from: number, to: number): number {
    return readContractFrom(buf, this, from, to);
  }

  /** Reports the message the last successful {@link readMessageAt} read, received at `recvUs`. */
  deliverRead(recvUs: number): void {
    this.deliverView(recvUs);
  }

  /** A message in `buf[start, end)` (UTF-8): the data of one SSE `message` event read as bytes. */
  messageBytes(buf: Buffer, start: number, end: number, recvUs: number): void {
    if (readContract(buf, this, start, end)) this.deliverView(recvUs);
    else this.deliver(decodeMessage(buf.toString('utf8', start, end)), recvUs);
  }

  /**
   * The bytes of one WebSocket text frame: a message or a {@link GapNotice}. Returns false, having
   * reported nothing, when the frame is not valid UTF-8 (RFC 6455 §8.1: the connection must then
   * fail with 1007) — the check the WebSocket library would otherwise make on every frame, made
   * here only where the contract reader did not already prove the frame plain ASCII.
   */
  frameBytes(bytes: Buffer, recvUs: number): boolean {
    return this.frameRange(bytes, 0, bytes.length, recvUs);
  }

  /** {@link frameBytes} of the frame in `buf[from, to)` (read in place from the socket's chunk). */
  frameRange(buf: Buffer, from: number, to: number, recvUs: number): boolean {
    if (readContract(buf, this, from, to)) this.deliverView(recvUs);
    else {
      const bytes = from === 0 && to === buf.length ? buf : buf.subarray(from, to);
      if (!isUtf8(bytes)) return false;
      this.frame(bytes.toString(), recvUs);
    }
    return true;
  }

  /** One pushed text that is a message or a {@link GapNotice} (a WebSocket text frame). */
  frame(text: string, recvUs: number): void {
    // Contract messages start with `{"seq":` (field order is fixed) and never contain `"type":`:
    // the prefix settles the common case without scanning the frame.
    if (!text.startsWith('{"seq":') && text.includes('"type":"gap"')) this.gap(text);
    else this.message(text, recvUs);
  }

  /** A {@link GapNotice} JSON text: reports the gap and resumes after it. */
  gap(text: string): void {
    let notice: GapNotice;
    try {
      notice = JSON.parse(text) as GapNotice;
    } catch {
      this.events.error(BAD_MESSAGE);
      return;
    }
    if (typeof notice.epoch === 'string' && typeof notice.to === 'number') this.advance(notice.epoch, notice.to);
    this.events.gap();
  }

  /**
   * {@link answer} from the body's bytes. An answer in the cursor's epoch, serialized exactly as
   * the reference server writes it (`{"epoch":E,"next":N,"gap":false,"messages":[M,…]}`, N a plain
   * non-negative integer, each M a message in the contract's exact form — fast-decode.ts), is read
   * without a string or JSON.parse: the empty answers of a short poll and the one-message answers
   * of a long poll. Anything else (a gap, an epoch change, other spacing or escapes) goes through
   * {@link answer}, before any of its messages was reported.
   */
  answerBytes(body: Buffer, recvUs: number): boolean | undefined {
    const n = this.readAnswerBytes(body);
    if (n < 0) return this.answer(body.toString(), recvUs);
    // the one message is still in the view; more were only checked, and are read again to report
    if (n === 1) this.reportView(recvUs);
    else if (n > 1) {
      let i = this.messagesStart;
      for (let k = 0; k < n; k++) {
        i = readContractFrom(body, this, i, body.length) + 1;
        this.reportView(recvUs);
      }
    }
    this.seq = this.answerNext;
    return n === 0;
  }

  /** `next` of the last answer {@link readAnswerBytes} accepted, and where its first message starts */
  private answerNext = 0;
  private messagesStart = 0;

  /**
   * How many messages `body` holds when it is an answer in {@link epoch} in the exact form, else
   * -1; the last one is left in {@link contractView}.
   */
  private readAnswerBytes(body: Buffer): number {
    if (this.epoch === undefined) return -1;
    const prefix = (this.answerPrefix ??= Buffer.from(`{"epoch":${JSON.stringify(this.epoch)},"next":`));
    const p = prefix.length;
    const to = body.length;
    if (to <= p + MESSAGES_KEY.length + 2 || !bytesAt(body, 0, prefix)) return -1;
    // `next`, read as the message decoder reads seq; then the gap flag and the messages' key
    const next = readPlainUint(body, p, to);
    let i = uintRead.end;
    if (next < 0 || i + MESSAGES_KEY.length > to || !bytesAt(body, i, MESSAGES_KEY)) return -1;
    i += MESSAGES_KEY.length;
    this.answerNext = next;
    this.messagesStart = i;
    // messages, separated by commas, then exactly `]}` to the end
    let n = 0;
    if (body[i] !== CLOSE_BRACKET) {
      for (;;) {
        i = readContractFrom(body, this, i, to);
        if (i < 0) return -1;
        n++;
        if (body[i] !== COMMA) break;
        i++;
      }
    }
    return i + 2 === to && body[i] === CLOSE_BRACKET && body[i + 1] === CLOSE_BRACE ? n : -1;
  }

  /**
   * Reports the message in {@link contractView} read from a poll answer. Like {@link deliverView},
   * its topic and epoch become the thread's shared copies; unlike it, the cursor moves by the
   * answer's `next`, not by the message's seq.
   */
  private reportView(recvUs: number): void {
    const v = contractView;
    const pair = this.sharedPair(v);
    if (pair !== null && pair.epoch === this.epoch) {
      // the cursor's epoch: keep the shared string, and read this topic through its middle from now on
      this.epoch = pair.epoch;
      this.setTopic(pair.topic);
      this.middle = pair.middle;
    }
    this.events.messageView(v, recvUs);
  }

  /**
   * A `/poll` or `/long-poll` answer body: emits each message, then `gap()` if the answer says so,
   * and moves the cursor to the answer's `next`. Returns true when the answer held no message, and
   * undefined (after counting `BAD_MESSAGE`) when the body is not a {@link PollAnswer}.
   */
  answer(body: string, recvUs: number): boolean | undefined {
    let a: PollAnswer;
    try {
      a = JSON.parse(body) as PollAnswer;
    } catch {
      a = undefined as unknown as PollAnswer;
    }
    if (typeof a !== 'object' || a === null || typeof a.epoch !== 'string' || typeof a.next !== 'number' || !Array.isArray(a.messages)) {
      return undefined;
    }
    const messages: WireMessage[] = a.messages;
    for (let i = 0; i < messages.length; i++) this.events.message(messages[i], recvUs);
    if (a.gap) this.events.gap();
    // `next` rules over the messages' seqs: on a reset it may be lower than what we had.
    if (a.epoch !== this.epoch) this.setEpoch(a.epoch);
    this.seq = a.next;
    return messages.length === 0;
  }
}
