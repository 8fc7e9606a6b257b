/**
 * `npm run bench:servers`: server CPU microseconds per delivered message, per transport.
 *
 * For each case a fresh reference server (`servers/serve.ts`, pinned to CPU 0 with taskset) and a
 * client process (this file in `--clients` mode, pinned to CPU 1) holding N subscribers on one
 * topic published at R msg/s. After a warm-up, two `/stats` snapshots a window apart give the
 * server's CPU (user + system) and the messages it delivered; the table prints their ratio.
 *
 * The clients are deliberately bare (raw sockets for HTTP, `ws` for WebSocket, no parsing beyond
 * the poll cursor) so the client core is never the limit.
 *
 * Options: --clients-per-case N (1000), --rate R (10), --payload BYTES (64), --warmup S (3),
 * --measure S (10), --poll-ms list for short polling (100,1000).
 */
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { spawnTs, hasTaskset, type Spawned } from '../core/spawn.ts';
import { cpuModel } from '../load/resources.ts';
import type { StatsSnapshot, TransportName } from '../core/wire.ts';

const SERVE = fileURLToPath(new URL('../servers/serve.ts', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const TOPIC = 't0';

// ---------------------------------------------------------------- client mode (child process)

/** One bare subscriber; `close` ends it. */
type Bare = { close(): void };

function wsClient(url: string, ready: () => void): Bare {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?topic=${TOPIC}`, { perMessageDeflate: false });
  ws.on('open', ready);
  ws.on('error', () => {});
  return { close: () => ws.terminate() };
}

function sseClient(port: number, ready: () => void): Bare {
  const s = connect(port, '127.0.0.1');
  s.on('connect', () => s.write(`GET /sse?topic=${TOPIC} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
  s.once('data', ready);
  s.on('data', () => {});
  s.on('error', () => {});
  return { close: () => s.destroy() };
}

/**
 * A keep-alive poller on one socket. `intervalMs` 0 is a long poll (next request as soon as the
 * answer arrives); otherwise a short poll on a fixed schedule from a jittered start.
 */
function pollClient(port: number, intervalMs: number, ready: () => void): Bare {
  const s: Socket = connect(port, '127.0.0.1');
  let since = -1;
  let buf = '';
  let closed = false;
  let first = true;
  let nextAtMs = performance.now() + Math.random() * intervalMs;
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    const cursor = since < 0 ? '' : `&since=${since}`;
    const path = intervalMs === 0 ? `/long-poll?topic=${TOPIC}${cursor}&timeout=30000` : `/poll?topic=${TOPIC}${cursor}`;
    s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  };
  const schedule = () => {
    if (closed) return;
    if (intervalMs === 0) return send();
    nextAtMs += intervalMs;
    timer = setTimeout(send, Math.max(0, nextAtMs - performance.now()));
  };
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    buf += d;
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, headEnd))?.[1] ?? 0);
    if (buf.length < headEnd + 4 + len) return;
    const body = buf.slice(headEnd + 4, headEnd + 4 + len);
    buf = buf.slice(headEnd + 4 + len);
    since = Number(/"next":(\d+)/.exec(body)?.[1] ?? since);
    if (first) {
      first = false;
      ready();
    }
    schedule();
  });
  s.on('connect', () => (intervalMs === 0 ? send() : (timer = setTimeout(send, Math.max(0, nextAtMs - performance.now())))));
  s.on('error', () => {});
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      s.destroy();
    },
  };
}

async function clientMode(transport: TransportName, url: string, n: number, pollMs: number): Promise<void> {
  const port = Number(new URL(url).port);
  let readyCount = 0;
  const ready = () => {
    if (++readyCount === n) process.stdout.write(`clients ready ${url}\n`);
  };
  const clients: Bare[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(
      transport === 'ws'
        ? wsClient(url, ready)
        : transport === 'sse'
          ? sseClient(port, ready)
          : pollClient(port, transport === 'long-poll' ? 0 : pollMs, ready),
    );
    // open in batches so the server's accept queue is never overrun
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  for (const c of clients) c.close();
}

// ---------------------------------------------------------------- benchmark (parent)

interface Case {
  transport: TransportName;
  label: string;
  pollMs: number;
}

interface Row {
  label: string;
  open: number;
  deliveredPerS: number;
  cpuPct: number;
  cpuUsPerMsg: number;
  bytesPerMsg: number;
  requestsPerS: number;
  elu: number;
  slowDrops: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

async function stats(url: string): Promise<StatsSnapshot> {
  return (await (await fetch(`${url}/stats`)).json()) as StatsSnapshot;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runCase(c: Case, n: number, rate: number, payload: string, warmupS: number, measureS: number): Promise<Row> {
  const children: Spawned[] = [];
  try {
    const server = await spawnTs(SERVE, ['--port', '0', '--rate', String(rate), '--topics', '1', '--payload', payload], {
      cpus: '0',
      ready: /^pushbench listening on (http:\/\/\S+)/,
      what: 'the reference server',
    });
    children.push(server);
    const clients = await spawnTs(SELF, ['--clients', c.transport, server.url, String(n), String(c.pollMs)], {
      cpus: '1',
      ready: /^clients ready (\S+)/,
      timeoutMs: 120_000,
      what: `${c.label} clients`,
    });
    children.push(clients);
    await sleep(warmupS * 1000);
    const a = await stats(server.url);
    await sleep(measureS * 1000);
    const b = await stats(server.url);
    const seconds = (b.nowUs - a.nowUs) / 1e6;
    const delivered = b.deliveredTotal - a.deliveredTotal;
    const cpuUs = b.cpuUs.user + b.cpuUs.system - a.cpuUs.user - a.cpuUs.system;
    return {
      label: c.label,
      open: b.open[c.transport],
      deliveredPerS: delivered / seconds,
      cpuPct: (cpuUs / 1e6 / seconds) * 100,
      cpuUsPerMsg: cpuUs / delivered,
      bytesPerMsg: (b.bytesWritten - a.bytesWritten) / delivered,
      requestsPerS: (b.httpRequests - a.httpRequests) / seconds,
      elu: b.elu,
      slowDrops: b.slowConsumerDrops,
    };
  } finally {
    for (const ch of children.reverse()) await ch.stop();
  }
}

function table(rows: Row[]): string {
  const head = ['transport', 'open', 'delivered/s', 'server CPU', 'CPU µs/msg', 'bytes out/msg', 'requests/s', 'ELU', 'drops'];
  const body = rows.map((r) => [
    r.label,
    String(r.open),
    r.deliveredPerS.toFixed(0),
    `${r.cpuPct.toFixed(1)}%`,
    r.cpuUsPerMsg.toFixed(2),
    r.bytesPerMsg.toFixed(0),
    r.requestsPerS.toFixed(0),
    r.elu.toFixed(2),
    String(r.slowDrops),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const n = Number(arg('--clients-per-case', '1000'));
  const rate = Number(arg('--rate', '10'));
  const payload = arg('--payload', '64');
  const warmupS = Number(arg('--warmup', '3'));
  const measureS = Number(arg('--measure', '10'));
  const pollMs = arg('--poll-ms', '100,1000').split(',').map(Number);
  const cases: Case[] = [
    { transport: 'ws', label: 'ws', pollMs: 0 },
    { transport: 'sse', label: 'sse', pollMs: 0 },
    { transport: 'long-poll', label: 'long-poll', pollMs: 0 },
    ...pollMs.map((ms) => ({ transport: 'short-poll' as const, label: `short-poll Δ${ms}ms`, pollMs: ms })),
  ];
  const rows: Row[] = [];
  for (const c of cases) {
    process.stderr.write(`bench:servers: ${c.label} …\n`);
    rows.push(await runCase(c, n, rate, payload, warmupS, measureS));
  }
  const pinned = hasTaskset() ? 'server taskset -c 0, clients taskset -c 1' : 'no taskset: unpinned';
  process.stdout.write(
    `pushbench bench:servers — ${n} subscribers per transport on one topic, ${rate} msg/s, ${payload} B payload, ` +
      `${measureS} s window after ${warmupS} s warm-up; ${pinned}; Node ${process.version}; ${cpuModel()}\n\n${table(rows)}\n`,
  );
}

if (process.argv[2] === '--clients') {
  const [, , , transport, url, n, pollMs] = process.argv;
  await clientMode(transport as TransportName, url, Number(n), Number(pollMs));
} else {
  await main();
}
