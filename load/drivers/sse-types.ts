/**
 * What the SSE parser (load/drivers/sse-parser.ts) hands its consumer: events as arguments to a
 * callback, a one-line `message` event's data as a byte range, and the contract of a consumer
 * that reads a `data` value in place (the parser's one pass).
 */

/** Called once per dispatched event: its type (`message` when none was given), data and last event id. */
export type SseEventHandler = (type: string, data: string, lastEventId: string) => void;

/**
 * Called instead of {@link SseEventHandler} for a `message` event whose data is one line read on
 * the byte path: the data is `buf[start, end)` (UTF-8). The parser's `lastEventId` is current.
 */
export type SseMessageBytesHandler = (buf: Buffer, start: number, end: number) => void;

/**
 * A consumer that reads a `data` value in place, before the parser has found where its line ends
 * (the byte path's one-pass event: see {@link SseParser}). `readInPlace(buf, from, to)` reads the
 * value starting at `buf[from]` and returns the index just after the value it recognised (at most
 * `to`), or -1; it must have no effect beyond keeping what it read for `deliverInPlace`, and what it accepts
 * must hold no CR, LF or NUL (the parser checks the bytes after it, not the bytes it read).
 * `deliverInPlace()` is called at once when those bytes were a whole `message` event's one data line
 * (the parser's `lastEventId` is then current); otherwise the event goes the usual way.
 */
export interface SseDataReader {
  readInPlace(buf: Buffer, from: number, to: number): number;
  deliverInPlace(): void;
}
