/**
 * Test clients for the reference servers: one minimal subscriber per transport with the same
 * shape, so the contract tests run over every transport with `describe.each`. Real sockets only.
 */
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { decodeMessage, sseEventId, type GapNotice, type PollAnswer, type TransportName, type WireMessage } from '../../core/wire.ts';

export interface TestSub {
  readonly messages: WireMessage[];
  readonly gaps: GapNotice[];
  /** Resolves once `n` messages arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface TestCursor {
  since?: number;
  epoch?: string;
}

/** Resolve when `cond()` holds (checked every 10 ms); reject after `timeoutMs` naming `what`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One parsed SSE event (fields as the spec's dispatch sees them). */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
  comment?: string;
}

/**
 * Split an event-stream text into blocks and parse each by the spec's field rules (LF, CRLF or CR
 * line ends; one optional space after the colon; comment lines start with ':'). Returns the
 * complete blocks and the unparsed remainder.
 */
export function parseSse(text: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const norm = text.replace(/\r\n|\r/g, '\n');
  const blocks = norm.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    const e: SseEvent = { event: 'message', data: '' };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        e.comment = line.slice(1);
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') e.event = value;
      else if (field === 'id') e.id = value;
      else if (field === 'retry') e.retry = Number(value);
    }
    e.data = data.join('\n');
    events.push(e);
  }
  return { events, rest };
}

function collector() {
  const messages: WireMessage[] = [];
  const gaps: GapNotice[] = [];
  return {
    messages,
    gaps,
    waitFor: (n: number, timeoutMs = 5000) => until(() => messages.length >= n, `${n} messages (have ${messages.length})`, timeoutMs),
  };
}

/** Record a text that is a message or a GapNotice. */
function take(c: ReturnType<typeof collector>, text: string): void {
  const v = JSON.parse(text) as { type?: string };
  if (v.type === 'gap') c.gaps.push(v as GapNotice);
  else {
    const m = decodeMessage(text);
    if (!m) throw new Error(`not a message: ${text}`);
    c.messages.push(m);
  }
}

function cursorQuery(c: TestCursor): string {
  return (c.since === undefined ? '' : `&since=${c.since}`) + (c.epoch === undefined ? '' : `&epoch=${c.epoch}`);
}

/** Poll loop (short: every 20 ms; long: timeout 1 s). Ready once its cursor is known. */
async function pollSub(path: '/poll' | '/long-poll', baseUrl: string, topic: string, cursor: TestCursor): Promise<TestSub> {
  const c = collector();
  const abort = new AbortController();
  let since = cursor.since;
  let epoch = cursor.epoch;
  let stopped = false;
  const once = async () => {
    const q = `topic=${topic}${cursorQuery({ since, epoch })}${path === '/long-poll' ? '&timeout=1000' : ''}`;
    const res = await fetch(`${baseUrl}${path}?${q}`, { signal: abort.signal });
    const a = (await res.json()) as PollAnswer;
    if (a.gap) c.gaps.push({ type: 'gap', topic, epoch: a.epoch, from: a.gapFrom ?? 0, to: a.gapTo ?? 0 });
    for (const m of a.messages) c.messages.push(m);
    since = a.next;
    epoch = a.epoch;
  };
  if (since === undefined) {
    // "From now": take the cursor from a short poll, so nothing published after this is missed.
    const a = (await (await fetch(`${baseUrl}/poll?topic=${topic}`)).json()) as PollAnswer;
    since = a.next;
    epoch = a.epoch;
  }
  const loop = (async () => {
    while (!stopped) {
      try {
        await once();
      } catch {
        if (!stopped) await sleep(20);
      }
      if (path === '/poll') await sleep(20);
    }
  })();
  return {
    ...c,
    async close() {
      stopped = true;
      abort.abort();
      await loop;
    },
  };
}

async function sseSub(baseUrl: string, topic: string, cursor: TestCursor): Promise<TestSub> {
  const c = collector();
  const headers: Record<string, string> = {};
  if (cursor.since !== undefined) {
    headers['last-event-id'] = cursor.epoch === undefined ? String(cursor.since) : sseEventId(cursor.epoch, cursor.since);
  }
  const req = request(`${baseUrl}/sse?topic=${topic}`, { headers });
  const closed = new Promise<void>((resolve) => req.once('close', resolve));
  await new Promise<void>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const { events, rest } = parseSse(buf + chunk);
        buf = rest;
        for (const e of events) if (e.data) take(c, e.data);
        resolve();
      });
      res.on('error', () => {});
    });
    req.end();
  });
  return {
    ...c,
    async close() {
      req.destroy();
      await closed;
    },
  };
}

async function wsSub(baseUrl: string, topic: string, cursor: TestCursor): Promise<TestSub> {
  const c = collector();
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?topic=${topic}${cursorQuery(cursor)}`);
  ws.on('message', (data) => take(c, data.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ...c,
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      });
    },
  };
}

/** An NDJSON stream read with node:http (Node undoes the chunked framing); ready at the response's headers. */
async function streamSub(baseUrl: string, topic: string, cursor: TestCursor): Promise<TestSub> {
  const c = collector();
  const req = request(`${baseUrl}/stream?topic=${topic}${cursorQuery(cursor)}`);
  const closed = new Promise<void>((resolve) => req.once('close', resolve));
  await new Promise<void>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const lines = (buf + chunk).split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) if (line !== '') take(c, line);
      });
      res.on('error', () => {});
      resolve();
    });
    req.end();
  });
  return {
    ...c,
    async close() {
      req.destroy();
      await closed;
    },
  };
}

/** Subscribe to `topic` over `transport`; resolves once the subscription is in place. */
export function openSub(transport: TransportName, baseUrl: string, topic: string, cursor: TestCursor = {}): Promise<TestSub> {
  switch (transport) {
    case 'short-poll':
      return pollSub('/poll', baseUrl, topic, cursor);
    case 'long-poll':
      return pollSub('/long-poll', baseUrl, topic, cursor);
    case 'sse':
      return sseSub(baseUrl, topic, cursor);
    case 'ws':
      return wsSub(baseUrl, topic, cursor);
    case 'http-stream':
      return streamSub(baseUrl, topic, cursor);
    default:
      throw new Error(`openSub: no test subscriber for ${transport}`);
  }
}
