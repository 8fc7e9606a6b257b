/**
 * HTTP streaming driver: `GET /stream?topic=T[&since=S&epoch=E]` on one keep-alive undici
 * connection, the body one long response of newline-delimited JSON: each line is handed to the
 * codec as it arrives (the contract's lines are read in place by the cursor, a GapNotice line
 * included), empty lines (heartbeats) are skipped.
 *
 * Reports (see stream.ts for the connection's): each line as a message received when its chunk was
 * read. The stream ending counts `STREAM_EOF`, the connection closing before its last chunk
 * `STREAM_CUT`, a line that is not UTF-8 `STREAM_INVALID_UTF8` (the stream is given up); each
 * reconnects after backoff, resuming from the last message seen.
 */
import { ContractCodec } from './codec.ts';
import { Cursor } from './cursor.ts';
import { ContractUpstream } from './publish.ts';
import { StreamClient } from './stream.ts';
import { profileRules } from './profile-rules.ts';
import type { ClientEvents, ClientSpec, Dialect, Driver } from './types.ts';

/** Error code counted when the server ends the stream (its last chunk came). */
export const STREAM_EOF = 'STREAM_EOF';
/** Error code counted when the connection closed inside the stream (undici: a parser error without a code). */
export const STREAM_CUT = 'STREAM_CUT';
/** Error code of a stream given up for a line that is not UTF-8. */
export const STREAM_INVALID_UTF8 = 'STREAM_INVALID_UTF8';

const LF = 0x0a;
const ACCEPT: Readonly<Record<string, string>> = Object.freeze({ accept: 'application/x-ndjson' });

export class HttpStreamClient extends StreamClient {
  /** the start of a line the last chunk ended inside (a copy), or null */
  private carry: Buffer | null = null;

  constructor(spec: ClientSpec, events: ClientEvents, dialect?: Dialect) {
    super(spec, events,
      dialect?.codec(spec, events) ?? new ContractCodec(new Cursor(events), `/stream?topic=${encodeURIComponent(spec.topic)}`, 'query', ACCEPT),
      dialect?.upstream(spec, events) ?? new ContractUpstream(spec, events),
      STREAM_EOF);
  }

  protected resetBody(): void {
    this.carry = null;
  }

  /** Each whole line to the codec; the start of an unfinished one is kept for the next chunk. */
  protected onBody(chunk: Buffer): void {
    const buf = this.carry === null ? chunk : Buffer.concat([this.carry, chunk]);
    this.carry = null;
    let start = 0;
    for (let nl = buf.indexOf(LF); nl >= 0; nl = buf.indexOf(LF, start)) {
      if (this.closed) return;
      if (nl > start && !this.codec.text(buf, start, nl, this.recvUs)) {
        this.abandon(STREAM_INVALID_UTF8);
        return;
      }
      start = nl + 1;
    }
    if (start < buf.length) this.carry = Buffer.from(buf.subarray(start));
  }

  protected override errorCode(err: Error, inStream: boolean): string {
    const code = super.errorCode(err, inStream);
    return inStream && code === 'HTTPParserError' ? STREAM_CUT : code;
  }
}

export const httpStreamDriver: Driver = {
  transport: 'http-stream',
  title: 'HTTP streaming',
  colour: '#b279a2',
  traits: { pollInterval: false, longPollTimeout: false, publishesInBand: false },
  profile: profileRules({
    reference: { url: '/stream?topic={topic}', headers: { accept: 'application/x-ndjson' }, json: 'data', cursor: { style: 'query', param: 'since', from: 'json:seq' } },
  }),
  create: (spec, events, dialect) => new HttpStreamClient(spec, events, dialect),
};
