/**
 * HTTP plumbing shared by the router and the transports: JSON answers, the one error body shape
 * `{"error":{"code":"…","message":"…"}}`, and parsing of the request parameters every transport
 * takes (topic, resume cursor, epoch).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { TOPIC_RE } from '../core/wire.ts';

/** A request the server refuses; the router turns it into `status` with a JSON error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What a transport handler gets for one request. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
}

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** Answer `status` with a JSON `body` (already serialized). */
export function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

export function sendError(res: ServerResponse, err: HttpError, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, errorBody(err.code, err.message), headers);
}

/** Answer on a raw socket (before an upgrade, or a client error) and close it. */
export function rejectSocket(socket: Duplex, err: HttpError): void {
  if (socket.destroyed) return;
  const body = errorBody(err.code, err.message);
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
  // A peer that never reads must not keep the socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Path and query of a request target. */
export function splitTarget(url: string | undefined): { path: string; query: URLSearchParams } {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? { path: u, query: new URLSearchParams() } : { path: u.slice(0, q), query: new URLSearchParams(u.slice(q + 1)) };
}

/** The `topic` parameter, validated against TOPIC_RE (400 otherwise). */
export function topicParam(query: URLSearchParams): string {
  const topic = query.get('topic');
  if (topic === null) throw new HttpError(400, 'bad_topic', 'the topic parameter is required (topic=NAME)');
  if (!TOPIC_RE.test(topic)) throw new HttpError(400, 'bad_topic', `topic must match ${TOPIC_RE.source}`);
  return topic;
}

function parseSeq(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new HttpError(400, 'bad_cursor', `${what} must be a non-negative integer`);
  return Number(text);
}

/** A resume cursor (core/wire.ts cursor rules): seq seen so far, and the epoch it belongs to. */
export interface Cursor {
  since: number | undefined;
  epoch: string | undefined;
}

/** `since=S[&epoch=E]`, or an SSE last event id `E:S` (header `Last-Event-ID` or `?lastEventId=`). */
export function cursorParam(query: URLSearchParams, lastEventId?: string): Cursor {
  const id = lastEventId ?? query.get('lastEventId') ?? undefined;
  if (id !== undefined && id !== '') {
    const colon = id.lastIndexOf(':');
    if (colon < 0) return { since: parseSeq(id, 'Last-Event-ID'), epoch: undefined };
    return { since: parseSeq(id.slice(colon + 1), 'Last-Event-ID'), epoch: id.slice(0, colon) };
  }
  const since = query.get('since');
  return { since: since === null || since === '' ? undefined : parseSeq(since, 'since'), epoch: query.get('epoch') ?? undefined };
}
