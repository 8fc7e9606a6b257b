/**
 * Target profiles: how to publish to, subscribe to and resume on a push server pushbench does not
 * know (docs/target-profiles.md). A profile is JSON; {@link validateProfile} returns every
 * problem at once, each prefixed with the JSON path it concerns (`$.transports.sse.url: …`).
 *
 * pushbench puts its own token into each published body (`{payload}`, see token.ts) and finds it
 * again in what the server pushes, so a server needs to add nothing of its own: the latency is
 * measured from the token's send time and loss from gaps in the token's per-topic sequence.
 */
import { readFileSync } from 'node:fs';
import type { TransportName } from '../../core/wire.ts';
import { DRIVERS, TRANSPORTS, isTransport } from '../drivers/index.ts';
import type { CursorStyle, Driver } from '../drivers/types.ts';

/** How a response body (or WebSocket frame) holding several messages is cut into one per message. */
export type SplitProfile = { delimiter: string } | { multipart: true };

/** How a poll (or SSE reconnect) tells the server what it has already seen. */
export type CursorProfile =
  /**
   * `?<param>=<value>` where value comes from the last answer: `json:<path>` or `header:<name>`.
   * WebSocket: appended to the URL of each reconnect, value `json:<path>` of the last message
   * received (the last piece of a split frame), so the server can replay what the cut lost.
   */
  | { style: 'query'; param: string; from: string }
  /** `ETag` → `If-None-Match` and `Last-Modified` → `If-Modified-Since` (whichever the server sends) */
  | { style: 'caching' }
  /** SSE: the last `id:` seen goes back as `Last-Event-ID` on reconnect */
  | { style: 'last-event-id' }
  /** no cursor: every request (or reconnect) starts from "now" */
  | { style: 'none' };

export interface TransportProfile {
  /** path template on the target, from `/`: `{topic}` (URL-encoded), long poll also `{timeoutMs}` */
  url: string;
  /** request headers (the WebSocket handshake's for ws) */
  headers: Record<string, string>;
  /** several messages per response (polls) or frame (ws); absent: one */
  split?: SplitProfile;
  /** dotted path to the payload inside each message's JSON (`messages[].data`); absent: the text itself */
  json?: string;
  /** SSE only: event type that carries messages (default `message`) */
  event?: string;
  cursor: CursorProfile;
  /** polls: statuses that mean "nothing new" (a 2xx with an empty body always does) */
  emptyStatus: number[];
  /**
   * a poll on a schedule: ask again at once after an answer that was not empty (a server that
   * answers one message, or a few, per request), back on the schedule after an empty one
   */
  drain?: boolean;
}

export interface PublishProfile {
  method: 'POST' | 'PUT' | 'PATCH';
  /** path template: `{topic}` */
  url: string;
  headers: Record<string, string>;
  /** body template: `{payload}` (pushbench's token, plain ASCII, safe inside a JSON string) and `{topic}` */
  body: string;
}

export interface Profile {
  name: string;
  publish: PublishProfile;
  transports: Partial<Record<TransportName, TransportProfile>>;
  /**
   * A Socket.IO target (`--socketio`, load/target/socketio.ts): the clients speak Engine.IO and
   * Socket.IO to this namespace and read this event; `transports` is empty
   */
  socketio?: { namespace: string; event: string };
}

/** `--profile builtin:<name>` names one of these instead of a file. */
export const BUILTIN_PREFIX = 'builtin:';

const METHODS = ['POST', 'PUT', 'PATCH'] as const;
const CURSOR_STYLES: readonly CursorStyle[] = ['query', 'caching', 'last-event-id', 'none'];
const JSON_PATH_RE = /^[A-Za-z0-9_$-]+(\[\])?(\.[A-Za-z0-9_$-]+(\[\])?)*$/;
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PLACEHOLDER_RE = /\{([A-Za-z]+)\}/g;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one template: a string, only `allowed` placeholders, and (for URLs) a path from `/`. */
function checkTemplate(v: unknown, path: string, allowed: readonly string[], problems: string[], isUrl: boolean): string {
  if (typeof v !== 'string' || v === '') {
    problems.push(`${path}: must be a non-empty string`);
    return '';
  }
  if (isUrl && !v.startsWith('/')) problems.push(`${path}: must be a path on the target starting with "/" (got "${v}")`);
  for (const m of v.matchAll(PLACEHOLDER_RE)) {
    if (!allowed.includes(m[1])) problems.push(`${path}: unknown placeholder {${m[1]}} (allowed here: ${allowed.map((a) => `{${a}}`).join(', ')})`);
  }
  return v;
}

function checkHeaders(v: unknown, path: string, problems: string[]): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) {
    problems.push(`${path}: must be an object of header names to string values`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!HEADER_NAME_RE.test(k)) problems.push(`${path}.${k}: is not a valid header name`);
    if (typeof val !== 'string') problems.push(`${path}.${k}: must be a string`);
    else out[k.toLowerCase()] = val;
  }
  return out;
}

function checkKeys(o: Json, path: string, known: readonly string[], problems: string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) problems.push(`${path}.${k}: unknown field (known: ${known.join(', ')})`);
}

function checkJsonPath(v: unknown, path: string, problems: string[]): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !JSON_PATH_RE.test(v)) {
    problems.push(`${path}: must be a dotted field path like "data" or "messages[].body" (got ${JSON.stringify(v)})`);
    return undefined;
  }
  return v;
}

function checkCursor(v: unknown, path: string, d: Driver, problems: string[]): CursorProfile {
  const rules = d.profile;
  if (v === undefined) return { style: rules.cursors[0] } as CursorProfile;
  if (!isObject(v)) {
    problems.push(`${path}: must be an object with a "style" (${CURSOR_STYLES.join(', ')})`);
    return { style: 'none' };
  }
  const style = v.style;
  if (!CURSOR_STYLES.includes(style as CursorStyle)) {
    problems.push(`${path}.style: must be one of ${CURSOR_STYLES.join(', ')} (got ${JSON.stringify(style)})`);
    return { style: 'none' };
  }
  if (!rules.cursors.includes(style as CursorStyle)) {
    problems.push(`${path}.style: ${d.title} resumes with ${rules.cursors.map((c) => `"${c}"`).join(' or ')}, not "${style}"`);
  }
  if (style === 'query') {
    checkKeys(v, path, ['style', 'param', 'from'], problems);
    if (typeof v.param !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(v.param)) problems.push(`${path}.param: must name the query parameter, e.g. "since"`);
    const from = v.from;
    if (typeof from !== 'string' || !/^(json:|header:)/.test(from)) {
      problems.push(`${path}.from: must say where the next cursor is found: "json:<path>" or "header:<name>" (got ${JSON.stringify(from)})`);
    } else if (from.startsWith('json:')) {
      checkJsonPath(from.slice(5), `${path}.from`, problems);
    } else if (!rules.cursorFromHeader) {
      problems.push(`${path}.from: a ${d.title} message has no headers; take the cursor from the message with "json:<path>" (got ${JSON.stringify(from)})`);
    } else if (!HEADER_NAME_RE.test(from.slice(7))) {
      problems.push(`${path}.from: "${from.slice(7)}" is not a valid header name`);
    }
    return { style, param: String(v.param), from: String(from) };
  }
  checkKeys(v, path, ['style'], problems);
  return { style: style as 'caching' | 'last-event-id' | 'none' };
}

function checkSplit(v: unknown, path: string, problems: string[]): SplitProfile | undefined {
  if (v === undefined) return undefined;
  if (isObject(v) && typeof v.delimiter === 'string' && v.delimiter !== '' && Object.keys(v).length === 1) return { delimiter: v.delimiter };
  if (isObject(v) && v.multipart === true && Object.keys(v).length === 1) return { multipart: true };
  problems.push(`${path}: must be {"delimiter": "<non-empty text>"} or {"multipart": true}`);
  return undefined;
}

function checkTransport(v: unknown, path: string, d: Driver, problems: string[]): TransportProfile {
  const t: TransportProfile = { url: '', headers: {}, cursor: { style: 'none' }, emptyStatus: [] };
  const rules = d.profile;
  if (!isObject(v)) {
    problems.push(`${path}: must be an object with at least a "url"`);
    return t;
  }
  checkKeys(v, path, ['url', 'headers', 'split', 'json', 'event', 'cursor', 'emptyStatus', 'drain'], problems);
  t.url = checkTemplate(v.url, `${path}.url`, rules.placeholders, problems, true);
  t.headers = checkHeaders(v.headers, `${path}.headers`, problems);
  t.split = checkSplit(v.split, `${path}.split`, problems);
  if (t.split && !rules.split) problems.push(`${path}.split: ${d.title} is split by its own events; use "event" and "json" instead`);
  t.json = checkJsonPath(v.json, `${path}.json`, problems);
  if (v.event !== undefined) {
    if (!rules.events) problems.push(`${path}.event: only a transport of typed events (SSE) has event types`);
    else if (typeof v.event !== 'string' || v.event === '') problems.push(`${path}.event: must be a non-empty event type`);
    else t.event = v.event;
  }
  t.cursor = checkCursor(v.cursor, `${path}.cursor`, d, problems);
  if (v.emptyStatus !== undefined) {
    if (!rules.emptyAnswers) problems.push(`${path}.emptyStatus: only polls have empty answers`);
    else if (!Array.isArray(v.emptyStatus) || !v.emptyStatus.every((s) => Number.isInteger(s) && s >= 200 && s <= 399)) {
      problems.push(`${path}.emptyStatus: must be a list of HTTP statuses between 200 and 399, e.g. [204, 304]`);
    } else t.emptyStatus = v.emptyStatus as number[];
  }
  // "nothing new" under a caching cursor is 304 Not Modified
  if (t.cursor.style === 'caching' && !t.emptyStatus.includes(304)) t.emptyStatus = [...t.emptyStatus, 304];
  checkDrain(v.drain, `${path}.drain`, d, t, problems);
  return t;
}

/** `drain`: a boolean, on a transport that polls on a schedule (rules.drain explains the others). */
function checkDrain(v: unknown, path: string, d: Driver, t: TransportProfile, problems: string[]): void {
  if (v === undefined) return;
  if (typeof v !== 'boolean') problems.push(`${path}: must be true or false`);
  else if (d.profile.drain === 'always') problems.push(`${path}: ${d.title} polls again at once after every answer already; leave "drain" out`);
  else if (d.profile.drain === 'never') problems.push(`${path}: only a poll on a schedule drains (${d.title} is not polled)`);
  else t.drain = v;
}

/** Every problem with `value` as a profile (empty when it is usable) and the typed profile. */
export function validateProfile(value: unknown): { profile: Profile; problems: string[] } {
  const problems: string[] = [];
  const profile: Profile = { name: 'profile', publish: { method: 'POST', url: '', headers: {}, body: '' }, transports: {} };
  if (!isObject(value)) return { profile, problems: ['$: a profile must be a JSON object with "publish" and "transports"'] };
  checkKeys(value, '$', ['name', '$comment', 'publish', 'transports'], problems);
  if (value.name !== undefined) {
    if (typeof value.name !== 'string' || value.name === '') problems.push('$.name: must be a non-empty string');
    else profile.name = value.name;
  }
  const p = value.publish;
  if (!isObject(p)) problems.push('$.publish: must be an object with "method", "url" and "body"');
  else {
    checkKeys(p, '$.publish', ['method', 'url', 'headers', 'body'], problems);
    const method = typeof p.method === 'string' ? p.method.toUpperCase() : p.method;
    if (!METHODS.includes(method as (typeof METHODS)[number])) problems.push(`$.publish.method: must be one of ${METHODS.join(', ')} (got ${JSON.stringify(p.method)})`);
    else profile.publish.method = method as PublishProfile['method'];
    profile.publish.url = checkTemplate(p.url, '$.publish.url', ['topic'], problems, true);
    profile.publish.headers = checkHeaders(p.headers, '$.publish.headers', problems);
    profile.publish.body = checkTemplate(p.body, '$.publish.body', ['payload', 'topic'], problems, false);
    if (profile.publish.body && !profile.publish.body.includes('{payload}')) problems.push('$.publish.body: must contain {payload}, the token pushbench finds again on delivery');
  }
  const ts = value.transports;
  if (!isObject(ts) || Object.keys(ts).length === 0) problems.push(`$.transports: must be an object describing at least one of ${TRANSPORTS.join(', ')}`);
  else {
    for (const [name, t] of Object.entries(ts)) {
      if (!isTransport(name)) {
        problems.push(`$.transports.${name}: unknown transport (known: ${TRANSPORTS.join(', ')})`);
        continue;
      }
      profile.transports[name] = checkTransport(t, `$.transports.${name}`, DRIVERS[name], problems);
    }
  }
  return { profile, problems };
}

/** The profiles pushbench ships, by `builtin:` name. */
export const BUILTIN_PROFILES: Readonly<Record<string, unknown>> = Object.freeze({
  /** pushbench's own reference servers (servers/), driven through the profile path */
  reference: {
    name: 'reference',
    publish: { method: 'POST', url: '/publish?topic={topic}', headers: { 'content-type': 'application/json' }, body: '{"data":"{payload}"}' },
    transports: Object.fromEntries(TRANSPORTS.map((t) => [t, DRIVERS[t].profile.reference])),
  },
});

/**
 * Load `--profile` (a file path or `builtin:<name>`) and validate it; problems are prefixed with
 * where the profile came from. Reads the file synchronously (setup path).
 */
export function loadProfile(ref: string): { profile: Profile; problems: string[] } {
  let raw: unknown;
  const where = `--profile ${ref}`;
  if (ref.startsWith(BUILTIN_PREFIX)) {
    const name = ref.slice(BUILTIN_PREFIX.length);
    raw = BUILTIN_PROFILES[name];
    if (raw === undefined) return { profile: validateProfile({}).profile, problems: [`${where}: no built-in profile "${name}" (built in: ${Object.keys(BUILTIN_PROFILES).join(', ')})`] };
  } else {
    let text: string;
    try {
      text = readFileSync(ref, 'utf8');
    } catch (err) {
      return { profile: validateProfile({}).profile, problems: [`${where}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`] };
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return { profile: validateProfile({}).profile, problems: [`${where}: not valid JSON (${(err as Error).message})`] };
    }
  }
  const { profile, problems } = validateProfile(raw);
  return { profile, problems: problems.map((p) => `${where}: ${p}`) };
}

/** `template` with each `{name}` replaced by `values[name]` (URL-encoded when `encode`). */
export function expand(template: string, values: Readonly<Record<string, string | number>>, encode = false): string {
  return template.replace(PLACEHOLDER_RE, (all, name: string) => {
    const v = values[name];
    if (v === undefined) return all;
    return encode ? encodeURIComponent(String(v)) : String(v);
  });
}
