/**
 * What the scheduled publisher puts in a message's `data` (`serve --payload-kind`): exactly
 * `payloadBytes` characters of one of three kinds, for measuring what compression does to them.
 *
 * - `text`: the alphanumerics in a cycle, the same for every message (the default; compresses well).
 * - `json`: the text of repeated JSON records, the same for every message, as a feed of quotes or
 *   events carries; inside the message its quotes are escaped (`\"`), so it takes more bytes on the
 *   wire than `payloadBytes` and clients read it through JSON.parse, not in place.
 * - `random`: base64url of fresh random bytes for every message: incompressible beyond what
 *   6 bits a character leave, and never a repeat of an earlier message a deflate window could find.
 */
import { randomBytes } from 'node:crypto';

export const PAYLOAD_KINDS = ['text', 'json', 'random'] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];

/** A payload of exactly `bytes` printable ASCII characters. */
export function makePayload(bytes: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < bytes; i++) s += alphabet[i % alphabet.length];
  return s;
}

/** `bytes` characters of repeated JSON records (cut at `bytes`). */
function jsonPayload(bytes: number): string {
  let s = '[';
  for (let i = 0; s.length < bytes; i++) s += `{"id":${i},"type":"quote","symbol":"PUSH","bid":101.25,"ask":101.5,"venue":"XPB"},`;
  return s.slice(0, bytes);
}

/** The payload of each next message: the same string for `text` and `json`, a new one for `random`. */
export function payloadSource(kind: PayloadKind, bytes: number): () => string {
  if (kind === 'random') return () => randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64url').slice(0, bytes);
  const fixed = kind === 'json' ? jsonPayload(bytes) : makePayload(bytes);
  return () => fixed;
}
