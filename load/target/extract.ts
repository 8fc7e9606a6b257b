/**
 * Finding pushbench's messages in what a profile target sends: cut a body (or frame) into one
 * text per message (a delimiter, or the parts of a multipart body), take the profile's JSON field
 * from each, and decode the token (token.ts) in what is left.
 *
 * Hot path: never throws; a text that does not have the expected shape comes back as a sentence
 * saying what was expected (the drivers count it as BAD_MESSAGE and the probe reports it).
 */
import type { WireMessage } from '../../core/wire.ts';
import type { SplitProfile } from './profile.ts';
import { FOREIGN, decodeToken } from './token.ts';

/**
 * What came out of one body: the messages of this run found, how many of another run's were
 * skipped (token.ts FOREIGN), or what was expected and not found.
 */
export type Extracted = { messages: WireMessage[]; foreign: number; cursor?: string } | { problem: string };

/** The multipart boundary of a `Content-Type` header value, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}

/** The pieces of `body`, one per message; a string when the split cannot be done. */
export function splitBody(body: string, split: SplitProfile | undefined, contentType?: string): string[] | string {
  if (split === undefined) return [body];
  if ('delimiter' in split) return body.split(split.delimiter).filter((p) => p.trim() !== '');
  const boundary = multipartBoundary(contentType);
  if (boundary === undefined) return `a multipart body with a boundary= in its Content-Type (got Content-Type ${JSON.stringify(contentType ?? null)})`;
  const parts: string[] = [];
  for (const raw of body.split(`--${boundary}`)) {
    if (raw.startsWith('--')) break; // the closing delimiter
    const headEnd = raw.indexOf('\r\n\r\n');
    if (headEnd < 0) continue; // the preamble before the first boundary
    parts.push(raw.slice(headEnd + 4).replace(/\r\n$/, ''));
  }
  return parts;
}

/**
 * The values at `path` (`a.b`, `items[].data`: `[]` takes every element) in parsed JSON `v`,
 * each as text (strings as they are, anything else re-serialized); a string when the path is missing.
 */
export function pickJson(v: unknown, path: string): string[] | string {
  let level: unknown[] = [v];
  for (const seg of path.split('.')) {
    const each = seg.endsWith('[]');
    const key = each ? seg.slice(0, -2) : seg;
    const next: unknown[] = [];
    for (const x of level) {
      if (typeof x !== 'object' || x === null || !(key in x)) return `a JSON object with a field "${key}" (path ${path})`;
      const val = (x as Record<string, unknown>)[key];
      if (!each) next.push(val);
      else if (Array.isArray(val)) next.push(...val);
      else return `"${key}" to be a JSON array (path ${path})`;
    }
    level = next;
  }
  return level.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
}

/**
 * Cuts `body` per `split`, takes `json` of each piece, decodes each token of run `run` (another
 * run's are counted in `foreign`, and their pieces still give the cursor). With `cursorPath`, also
 * the cursor at that JSON path of the last piece (a ws query cursor), from the same parse.
 */
export function extractMessages(body: string, split: SplitProfile | undefined, json: string | undefined, run: string, contentType?: string, cursorPath?: string): Extracted {
  const pieces = splitBody(body, split, contentType);
  if (typeof pieces === 'string') return { problem: pieces };
  const messages: WireMessage[] = [];
  let foreign = 0;
  let lastParsed: unknown;
  for (const piece of pieces) {
    let texts: string[] | string = [piece];
    if (json !== undefined) {
      let v: unknown;
      try {
        v = JSON.parse(piece);
      } catch {
        return { problem: `JSON with the field ${json} (got ${preview(piece)})` };
      }
      lastParsed = v;
      texts = pickJson(v, json);
      if (typeof texts === 'string') return { problem: `${texts} (got ${preview(piece)})` };
    }
    for (const t of texts) {
      const msg = decodeToken(t, run);
      if (msg === undefined) return { problem: `pushbench's token pb|<run>|<seq>|<ts>|<topic>| in each message (got ${preview(t)})` };
      if (msg === FOREIGN) foreign++;
      else messages.push(msg);
    }
  }
  if (cursorPath === undefined) return { messages, foreign };
  const last = pieces[pieces.length - 1] ?? '';
  const cursor = json !== undefined && pieces.length > 0 ? cursorIn(lastParsed, cursorPath, last) : cursorOfPiece(last, cursorPath);
  return typeof cursor === 'string' ? { problem: cursor } : { messages, foreign, cursor: cursor.cursor };
}


/** The cursor at `path` of an already parsed piece (`text`, for the sentence). */
function cursorIn(v: unknown, path: string, text: string): { cursor: string } | string {
  const got = pickJson(v, path);
  if (typeof got === 'string' || got.length !== 1) return `the next cursor at ${path} (got ${preview(text)})`;
  return { cursor: got[0] };
}

/** The cursor at `path` of one unparsed piece. */
function cursorOfPiece(text: string, path: string): { cursor: string } | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return `a JSON body with the next cursor at ${path} (got ${preview(text)})`;
  }
  return cursorIn(v, path, text);
}

/** The first characters of `text`, quoted, for an error sentence. */
export function preview(text: string, max = 120): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/**
 * The cursor at JSON `path` of the last piece of `text` (cut per `split`; the whole text without
 * one): one value, or a sentence saying what was expected. Never throws.
 */
export function cursorOf(text: string, split: SplitProfile | undefined, path: string): { cursor: string } | string {
  const pieces = splitBody(text, split);
  const last = typeof pieces === 'string' ? text : pieces[pieces.length - 1] ?? '';
  return cursorOfPiece(last, path);
}
