/**
 * `npm run bench:servers`: server CPU microseconds per delivered message, per transport.
 *
 * For each case a fresh reference server (`servers/serve.ts`, pinned to CPU 0 with taskset) and a
 * client process (this file in `--clients` mode, pinned to CPU 1) holding N subscribers on one
 * topic published at R msg/s. After a warm-up, two `/stats` snapshots a window apart give the
 * server's CPU (user + system) and the messages it delivered; the table prints their ratio.
 *
 * The clients are pushbench's own drivers of each registered transport (load/drivers/index.ts),
 * whose events do nothing: on their own pinned core at this rate they are never the limit.
 * Every registered transport is a case; one that polls on a schedule gets a case per `--poll-ms`.
 *
 * Options: --clients-per-case N (1000), --rate R (10), --payload BYTES (64), --warmup S (3),
 * --measure S (10), --poll-ms list for transports that poll on a schedule (100,1000).
 */
import { fileURLToPath } from 'node:url';
import { spawnTs, hasTaskset, type Spawned } from '../core/spawn.ts';
import { cpuModel } from '../load/resources.ts';
import type { StatsSnapshot, TransportName } from '../core/wire.ts';
import { TRANSPORTS, driverFor } from '../load/drivers/index.ts';
import type { Client, ClientEvents } from '../load/drivers/types.ts';

const SERVE = fileURLToPath(new URL('../servers/serve.ts', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const TOPIC = 't0';

// ---------------------------------------------------------------- client mode (child process)

async function clientMode(transport: TransportName, url: string, n: number, pollMs: number): Promise<void> {
  let readyCount = 0;
  const counted = new Set<number>();
  const clients: Client[] = [];
  for (let i = 0; i < n; i++) {
    // ready at its first connection (a stream) or first answer (a poll)
    const ready = () => {
      if (counted.has(i)) return;
      counted.add(i);
      if (++readyCount === n) process.stdout.write(`clients ready ${url}\n`);
    };
    const events: ClientEvents = { connected: ready, request: ready, message: () => {}, messageView: () => {}, gap: () => {}, error: () => {}, reconnecting: () => {} };
    const client = driverFor(transport).create({
      id: i, baseUrl: url, topic: TOPIC, pollIntervalMs: pollMs, pollOffsetMs: Math.random() * pollMs,
      longPollTimeoutMs: 30_000, reconnectMinMs: 100, reconnectMaxMs: 5000,
    }, events);
    client.start();
    clients.push(client);
    // open in batches so the server's accept queue is never overrun
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await Promise.all(clients.map((c) => c.close()));
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
  const cases: Case[] = TRANSPORTS.flatMap((transport) =>
    driverFor(transport).traits.pollInterval
      ? pollMs.map((ms) => ({ transport, label: `${transport} Δ${ms}ms`, pollMs: ms }))
      : [{ transport, label: transport, pollMs: 0 }]);
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
