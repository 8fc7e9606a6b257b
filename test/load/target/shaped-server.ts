/**
 * A push server shaped nothing like pushbench's reference servers, written for the target-profile
 * tests (examples/profiles/shaped-server.json describes it):
 *
 * | request | behaviour |
 * |---|---|
 * | `PUT /topics/T` with `{"envelope":{"body":"…"}}` (application/json) | stores a note with this server's own id; 201 |
 * | `GET /topics/T/updates` | short poll: newline-delimited `{"id","text"}`; `ETag: "<last id>"`; `If-None-Match` with nothing newer → 304 |
 * | `GET /topics/T/wait?ms=MS` | long poll: as above but held until a newer note or MS; the notes as a `multipart/mixed` body of text/plain parts |
 * | `GET /topics/T/stream` (needs `Accept: text/event-stream`, else 406) | SSE: `event: note`, `id: <own id>`, `data: {"note":{"text":"…"}}`; resumes from `Last-Event-ID` |
 * | `GET /topics/T/socket?since=ID` (WebSocket) | one frame per note: `{"id":<own id>,"text":"…"}`; `since` (optional) replays the notes after ID first |
 * | `GET /topics/T/feed?after=ID` | HTTP streaming: one chunked response, a line `{"id","text"}` per note; `after` (optional) replays the notes after ID first |
 *
 * No subscription without a cursor replays anything: it starts from "now" — unless the server was
 * started with `history: N` ({@link ShapedOptions}): then a subscription without a cursor (an SSE
 * stream without Last-Event-ID, a socket without `since`, a feed without `after`, a poll without
 * If-None-Match) is first handed the topic's last N notes, whichever run published them, as a
 * server that keeps a message buffer per topic does. With `onePerPoll` a poll answers at most one
 * note, the oldest after its cursor, its ETag that note's id (a client falls behind unless it
 * polls again at once while there is more). With `tls` it serves HTTPS, HTTP/2 beside HTTP/1.1 by
 * ALPN (`node:http2`'s compatibility API, the same handler): the SSE stream then also serves a
 * browser's EventSource over HTTP/2 (the profile's `sse-h2`); WebSocket stays HTTP/1.1's.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TlsMaterial } from '../../../core/tls.ts';

interface Note {
  id: number;
  text: string;
}

interface Topic {
  notes: Note[];
  lastId: number;
  streams: Set<http.ServerResponse>;
  feeds: Set<http.ServerResponse>;
  sockets: Set<WebSocket>;
  waiters: Set<() => void>;
}

const KEEP = 2000;
const BOUNDARY = 'shaped-boundary-42';

/** How the server behaves beyond its shape (see the header). */
export interface ShapedOptions {
  /** a subscription without a cursor is first handed the topic's last `history` notes (default 0) */
  history?: number;
  /** a poll answers at most one note, the oldest after its cursor */
  onePerPoll?: boolean;
  /** serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with this key and certificate */
  tls?: TlsMaterial;
}

export interface ShapedServer {
  url: string;
  /** notes published so far, over every topic */
  published(): number;
  /** the topics that exist, each with the notes it retains */
  topicNotes(): Map<string, number>;
  /** Destroys every WebSocket connection at once (no close frame: a cut, as a network fault would) */
  cutSockets(): number;
  /** HTTP/2 connections (sessions) opened so far; 0 without `tls` */
  h2Sessions(): number;
  close(): Promise<void>;
}

/** The profile that describes this server. */
export const SHAPED_PROFILE = new URL('../../../examples/profiles/shaped-server.json', import.meta.url).pathname;
/** Clients and per-topic rate of the tests' profile runs (2 topics). */
export const SHAPED_CLIENTS = 20;
export const SHAPED_RATE = 10;
/** A profile run's length and warm-up by default, seconds: 1.5 measured seconds (15 messages a topic). */
export const SHAPED_DURATION_S = 2;
export const SHAPED_WARMUP_S = 0.5;

/**
 * `pushbench run` options of a profile run against `url`: SHAPED_CLIENTS clients on 2 topics at
 * SHAPED_RATE msg/s, `durationS` (`warmupS` of it warm-up), the load on both cores — the
 * server lives in the test process, which the run pins to its load CPUs — plus `extra`.
 */
export function shapedRunArgs(url: string, opts: { profile?: string; durationS?: number; warmupS?: number; extra?: string[] } = {}): string[] {
  return ['--load-cpus', '0-1', '--target', url, '--profile', opts.profile ?? SHAPED_PROFILE,
    '--clients', String(SHAPED_CLIENTS), '--topics', '2', '--rate', String(SHAPED_RATE),
    '--duration', `${(opts.durationS ?? SHAPED_DURATION_S) * 1000}ms`, '--warmup', `${(opts.warmupS ?? SHAPED_WARMUP_S) * 1000}ms`, ...(opts.extra ?? [])];
}

/** One shaped server for the calling test file: started before its tests, closed after them. */
export function shapedServerPerFile(opts: ShapedOptions = {}): () => ShapedServer {
  let server: ShapedServer | undefined;
  beforeAll(async () => {
    server = await startShapedServer(opts);
  });
  afterAll(() => server?.close());
  return () => {
    if (!server) throw new Error('the shaped server is not started (use it inside a test)');
    return server;
  };
}

export async function startShapedServer(opts: ShapedOptions = {}): Promise<ShapedServer> {
  const topics = new Map<string, Topic>();
  const topic = (name: string): Topic => {
    let t = topics.get(name);
    if (!t) topics.set(name, (t = { notes: [], lastId: 0, streams: new Set(), feeds: new Set(), sockets: new Set(), waiters: new Set() }));
    return t;
  };
  let published = 0;
  const after = (t: Topic, id: number) => t.notes.filter((n) => n.id > id);
  const history = opts.history ?? 0;
  /** what a subscription without a cursor is handed first: the topic's last `history` notes */
  const retained = (t: Topic) => (history > 0 ? t.notes.slice(-history) : []);
  const etagId = (h: string | undefined) => (h === undefined ? undefined : Number(/^"(\d+)"$/.exec(h)?.[1] ?? NaN));

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/topics\/([^/]+)(?:\/(updates|wait|stream|feed))?$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end('no such resource\n');
      return;
    }
    const t = topic(decodeURIComponent(m[1]));
    const kind = m[2];
    if (kind === undefined && req.method === 'PUT') {
      if (req.headers['content-type'] !== 'application/json') {
        res.writeHead(415).end('json only\n');
        return;
      }
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        let text: unknown;
        try {
          text = (JSON.parse(body) as { envelope?: { body?: unknown } }).envelope?.body;
        } catch {
          text = undefined;
        }
        if (typeof text !== 'string') {
          res.writeHead(400).end('expected {"envelope":{"body":"…"}}\n');
          return;
        }
        const note = { id: ++t.lastId, text };
        published++;
        t.notes.push(note);
        if (t.notes.length > KEEP) t.notes.shift();
        for (const s of t.streams) s.write(`event: note\nid: ${note.id}\ndata: ${JSON.stringify({ note: { text } })}\n\n`);
        for (const ws of t.sockets) ws.send(JSON.stringify({ id: note.id, text }));
        for (const f of t.feeds) f.write(`${JSON.stringify({ id: note.id, text })}\n`);
        for (const wake of [...t.waiters]) wake();
        res.writeHead(201, { 'content-type': 'application/json' }).end(`{"id":${note.id}}`);
      });
      return;
    }
    if (req.method !== 'GET' || kind === undefined) {
      res.writeHead(405).end();
      return;
    }
    if (kind === 'stream') {
      if (req.headers.accept !== 'text/event-stream') {
        res.writeHead(406).end('Accept: text/event-stream, please\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': hello\n\n');
      const from = Number(req.headers['last-event-id']);
      for (const n of req.headers['last-event-id'] === undefined ? retained(t) : Number.isInteger(from) ? after(t, from) : []) res.write(`event: note\nid: ${n.id}\ndata: ${JSON.stringify({ note: { text: n.text } })}\n\n`);
      t.streams.add(res);
      res.on('close', () => t.streams.delete(res));
      return;
    }
    if (kind === 'feed') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      res.flushHeaders();
      const from = url.searchParams.get('after');
      for (const n of from === null ? retained(t) : /^\d+$/.test(from) ? after(t, Number(from)) : []) res.write(`${JSON.stringify({ id: n.id, text: n.text })}\n`);
      t.feeds.add(res);
      res.on('close', () => t.feeds.delete(res));
      return;
    }
    const seen = etagId(req.headers['if-none-match']);
    const answer = () => {
      let notes = seen === undefined ? retained(t) : Number.isNaN(seen) ? [] : after(t, seen);
      if (opts.onePerPoll) notes = notes.slice(0, 1);
      const headers = { etag: `"${notes.length > 0 ? notes[notes.length - 1].id : t.lastId}"` };
      if (seen !== undefined && notes.length === 0) {
        res.writeHead(304, headers).end();
      } else if (kind === 'updates') {
        res.writeHead(200, { ...headers, 'content-type': 'application/x-ndjson' }).end(notes.map((n) => `${JSON.stringify(n)}\n`).join(''));
      } else {
        const parts = notes.map((n) => `--${BOUNDARY}\r\ncontent-type: text/plain\r\nx-note-id: ${n.id}\r\n\r\n${n.text}\r\n`).join('');
        res.writeHead(200, { ...headers, 'content-type': `multipart/mixed; boundary=${BOUNDARY}` }).end(`${parts}--${BOUNDARY}--\r\n`);
      }
    };
    if (kind === 'updates' || seen === undefined || after(t, seen).length > 0) {
      answer();
      return;
    }
    // Long poll with nothing new: hold until a note arrives or the wait is over.
    const waitMs = Math.min(60_000, Number(url.searchParams.get('ms')) || 20_000);
    const done = () => {
      clearTimeout(timer);
      t.waiters.delete(done);
      if (!res.writableEnded && !res.destroyed) answer();
    };
    const timer = setTimeout(done, waitMs);
    t.waiters.add(done);
    res.on('close', () => {
      clearTimeout(timer);
      t.waiters.delete(done);
    });
  };
  // the compatibility API's request and response stand in for HTTP/1.1's
  const server = opts.tls
    ? (http2.createSecureServer({ key: opts.tls.key, cert: opts.tls.cert, allowHTTP1: true }, handler as never) as unknown as http.Server)
    : http.createServer(handler);
  let h2Sessions = 0;
  server.on('session', () => h2Sessions++);

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/topics\/([^/]+)\/socket$/.exec(url.pathname);
    if (!m) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const t = topic(decodeURIComponent(m[1]));
      // Replay and subscribe in one tick, so no note falls between them.
      const since = url.searchParams.get('since');
      for (const n of since === null ? retained(t) : /^\d+$/.test(since) ? after(t, Number(since)) : []) ws.send(JSON.stringify({ id: n.id, text: n.text }));
      t.sockets.add(ws);
      ws.on('close', () => t.sockets.delete(ws));
    });
  });

  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    h2Sessions: () => h2Sessions,
    published: () => published,
    topicNotes: () => new Map([...topics].map(([name, t]) => [name, t.notes.length])),
    cutSockets: () => {
      const n = wss.clients.size;
      for (const ws of wss.clients) ws.terminate();
      return n;
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const t of topics.values()) for (const wake of [...t.waiters]) wake();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
