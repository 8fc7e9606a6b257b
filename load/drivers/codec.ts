/**
 * The reference servers' dialect: a {@link Codec} that asks for the contract's paths, resumes from
 * the cursor and reads messages, gap notices and poll answers by the cursor's byte paths. A target
 * profile's dialect is load/target/profile-codec.ts.
 */
import { BAD_MESSAGE, type Cursor } from './cursor.ts';
import type { Codec } from './types.ts';

/** Error code for a non-2xx HTTP status. */
export function httpStatusCode(status: number): string {
  return `HTTP_${status}`;
}

/** How the contract resumes: the cursor in the query (`&since=S&epoch=E`) or as SSE's `Last-Event-ID`. */
export type ContractResume = 'query' | 'last-event-id';

/**
 * The reference servers' contract (core/wire.ts): requests at `basePath` resumed from the cursor,
 * messages and gap notices read by the cursor's byte paths.
 */
export class ContractCodec implements Codec {
  readonly readsInPlace = true;
  /** a reference server's poll answers everything retained after the cursor: nothing to drain */
  readonly drains = false;

  constructor(
    private readonly cursor: Cursor,
    /** path with the topic, e.g. `/poll?topic=t0` (the resume query is appended to it) */
    private readonly basePath: string,
    private readonly resume: ContractResume,
    /** headers every request carries (SSE's `Accept`) */
    private readonly baseHeaders?: Readonly<Record<string, string>>,
  ) {}

  path(): string {
    return this.resume === 'query' ? this.cursor.path(this.basePath) : this.basePath;
  }

  headers(): Record<string, string> | undefined {
    const id = this.resume === 'last-event-id' ? this.cursor.lastEventId() : undefined;
    if (id === undefined) return this.baseHeaders as Record<string, string> | undefined;
    return { ...this.baseHeaders, 'last-event-id': id };
  }

  answer(status: number, body: Buffer, doneUs: number): boolean | string {
    if (status !== 200) return httpStatusCode(status);
    const empty = this.cursor.answerBytes(body, doneUs);
    return empty === undefined ? BAD_MESSAGE : empty;
  }

  text(buf: Buffer, from: number, to: number, recvUs: number): boolean {
    return this.cursor.frameRange(buf, from, to, recvUs);
  }

  event(type: string, data: string, _lastEventId: string, recvUs: number): void {
    if (type === 'message') this.cursor.message(data, recvUs);
    else if (type === 'gap') this.cursor.gap(data);
  }

  messageBytes(buf: Buffer, start: number, end: number, _lastEventId: string, recvUs: number): void {
    this.cursor.messageBytes(buf, start, end, recvUs);
  }

  readInPlace(buf: Buffer, from: number, to: number): number {
    return this.cursor.readMessageAt(buf, from, to);
  }

  deliverInPlace(recvUs: number): void {
    this.cursor.deliverRead(recvUs);
  }
}
