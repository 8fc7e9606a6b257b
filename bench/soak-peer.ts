/**
 * The peer of `npm run bench:soak`: the smallest server that speaks the wire contract
 * (core/wire.ts) on bare `node:http` and `ws`, so the same generator and the same churn can run
 * against it. Whatever memory or file-descriptor drift it shows under the soak is the platform's
 * (Node, V8, ws, the kernel's socket buffers); the reference server's drift is judged beside it.
 *
 * It keeps the last {@link KEEP} messages per topic (polls resume from them, nothing older), one
 * epoch, no heartbeats, no limits, no slow-consumer handling. `GET /stats` answers only
 * `{rssBytes, heapUsedBytes}`.
 *
 * Entry: `node --import tsx bench/soak-peer.ts --rate R --topics T --payload BYTES`; the first
 * stdout line is `soak peer listening on http://127.0.0.1:PORT`. Ends on SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeMessage, nowUs, sseEventId, type WireMessage } from '../core/wire.ts';

const KEEP = 64;

interface Topic {
  seq: number;
  recent: { msg: WireMessage; json: string }[];
  ws: Set<WebSocket>;
  sse: Set<ServerResponse>;
  waiting: Set<(json: string[], next: number) => void>;
}

const { values } = parseArgs({ options: { rate: { type: 'string', default: '5' }, topics: { type: 'string', default: '10' }, payload: { type: 'string', default: '64' } } });
const ratePerS = Number(values.rate);
const epoch = `peer${process.pid}`;
const data = 'x'.repeat(Number(values.payload));
const topics = new Map<string, Topic>();
const topicOf = (name: string): Topic => {
  let t = topics.get(name);
  if (!t) topics.set(name, (t = { seq: 0, recent: [], ws: new Set(), sse: new Set(), waiting: new Set() }));
  return t;
};
for (let i = 0; i < Number(values.topics); i++) topicOf(`t${i}`);

function publish(name: string, t: Topic, tsUs: number): void {
  const msg: WireMessage = { seq: ++t.seq, ts: tsUs, topic: name, epoch, data };
  const json = encodeMessage(msg);
  t.recent.push({ msg, json });
  if (t.recent.length > KEEP) t.recent.shift();
  for (const ws of t.ws) ws.send(json);
  const frame = `id: ${sseEventId(epoch, msg.seq)}\ndata: ${json}\n\n`;
  for (const res of t.sse) res.write(frame);
  const waiting = [...t.waiting];
  t.waiting.clear();
  for (const w of waiting) w([json], msg.seq);
}

// Scheduled like the reference publisher: message n of the run at start + n / rate (ts = plan).
const startUs = nowUs();
let sent = 0;
const tick = setInterval(() => {
  const due = Math.floor(((nowUs() - startUs) / 1e6) * ratePerS);
  for (; sent < due; sent++) {
    const ts = startUs + (sent / ratePerS) * 1e6;
    for (const [name, t] of topics) publish(name, t, ts);
  }
}, 5);

const answer = (res: ServerResponse, json: string[], next: number) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`{"epoch":"${epoch}","next":${next},"gap":false,"messages":[${json.join(',')}]}`);
};

function since(t: Topic, q: URLSearchParams): string[] {
  const from = q.get('epoch') === epoch ? Number(q.get('since') ?? t.seq) : t.seq;
  return t.recent.filter((r) => r.msg.seq > from).map((r) => r.json);
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://peer');
  const t = topicOf(url.searchParams.get('topic') ?? 't0');
  if (url.pathname === '/poll') answer(res, since(t, url.searchParams), t.seq);
  else if (url.pathname === '/long-poll') {
    const ready = since(t, url.searchParams);
    if (ready.length) return answer(res, ready, t.seq);
    const done = (json: string[], next: number) => {
      clearTimeout(timer);
      t.waiting.delete(done);
      answer(res, json, next);
    };
    const timer = setTimeout(() => done([], t.seq), Number(url.searchParams.get('timeout') ?? 30_000));
    t.waiting.add(done);
    res.on('close', () => {
      clearTimeout(timer);
      t.waiting.delete(done);
    });
  } else if (url.pathname === '/sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('retry: 1000\n\n');
    t.sse.add(res);
    res.on('close', () => t.sse.delete(res));
  } else if (url.pathname === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ rssBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed }));
  } else if (url.pathname === '/healthz') res.end('ok');
  else {
    res.writeHead(404);
    res.end();
  }
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://peer');
  if (url.pathname !== '/ws') return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    const t = topicOf(url.searchParams.get('topic') ?? 't0');
    t.ws.add(ws);
    ws.on('close', () => t.ws.delete(ws));
    ws.on('error', () => ws.terminate());
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address() as { port: number };
  process.stdout.write(`soak peer listening on http://127.0.0.1:${addr.port}\n`);
});
const stop = () => {
  clearInterval(tick);
  for (const c of wss.clients) c.terminate();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
