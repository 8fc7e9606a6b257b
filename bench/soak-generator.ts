/**
 * The load of `npm run bench:soak`: pushbench's own drivers (load/drivers) holding a steady mix of
 * clients of every transport against one server, with churn — every `--churn-every` a share of
 * each transport's clients closes and as many fresh ones connect — so connection setup and
 * teardown, not only steady delivery, run for the whole soak.
 *
 * A child process of its own (one event loop, no worker threads), so its RSS and open files are
 * read from /proc apart from the sampler's. Once a second it prints one JSON line
 * ({@link GeneratorStatus}) that the sampler reads.
 *
 * Entry: `node --import tsx bench/soak-generator.ts --url URL --mix ws=100,sse=100,… --topics T
 * --churn 0.1 --churn-every-ms 10000 --poll-interval-ms 1000 --arrival 200`.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { TransportName } from '../core/wire.ts';
import { TRANSPORTS } from '../load/drivers/index.ts';
import { driverFor } from '../load/drivers/index.ts';
import type { Client, ClientEvents } from '../load/drivers/types.ts';

/** One line of this process's stdout. */
export interface GeneratorStatus {
  tUs: number;
  heapUsedBytes: number;
  /**
   * V8 heap in use right after a forced full GC (every {@link GC_EVERY} lines): what is retained,
   * without the garbage that heapUsedBytes carries until V8 next collects
   */
  heapAfterGcBytes: number;
  /** clients whose connection is open now / that should be */
  open: number;
  clients: number;
  delivered: number;
  errors: number;
  reconnects: number;
  /** clients closed by churn so far (each replaced by a new one) */
  churned: number;
  /** event-loop utilization over the last second (0..1) */
  elu: number;
}

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    mix: { type: 'string', default: 'ws=100,sse=100,long-poll=50,short-poll=50' },
    topics: { type: 'string', default: '10' },
    churn: { type: 'string', default: '0.1' },
    'churn-every-ms': { type: 'string', default: '10000' },
    'poll-interval-ms': { type: 'string', default: '1000' },
    arrival: { type: 'string', default: '200' },
  },
});
const baseUrl = values.url!;
const topics = Number(values.topics);
const churnShare = Number(values.churn);
const pollIntervalMs = Number(values['poll-interval-ms']);
const mix = new Map<TransportName, number>();
for (const part of values.mix!.split(',')) {
  const [name, n] = part.split('=');
  if (!TRANSPORTS.includes(name as TransportName)) throw new Error(`--mix: unknown transport ${name}`);
  mix.set(name as TransportName, Number(n));
}

// A full GC on demand (as --expose-gc would give), to read the retained heap.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const GC_EVERY = 5;
let heapAfterGcBytes = 0;
let lines = 0;

const status = { delivered: 0, errors: 0, reconnects: 0, churned: 0 };
const events: ClientEvents = {
  connected: () => {},
  message: () => void status.delivered++,
  messageView: () => void status.delivered++,
  request: () => {},
  gap: () => {},
  error: () => void status.errors++,
  reconnecting: () => void status.reconnects++,
};

let nextId = 0;
const live = new Map<TransportName, Client[]>([...mix.keys()].map((t) => [t, []]));
const start = (transport: TransportName): Client => {
  const id = nextId++;
  const client = driverFor(transport).create({
    id, baseUrl, topic: `t${id % topics}`, pollIntervalMs, pollOffsetMs: Math.random() * pollIntervalMs,
    longPollTimeoutMs: 30_000, reconnectMinMs: 100, reconnectMaxMs: 5000,
  }, events);
  client.start();
  return client;
};

process.stdout.write(`soak generator running against ${baseUrl}\n`);

// Ramp: the whole mix at `arrival` clients/s, transports interleaved.
const order = [...mix.entries()].flatMap(([t, n]) => Array.from({ length: n }, (_, i) => ({ t, i, n })))
  .sort((a, b) => a.i / a.n - b.i / b.n).map((x) => x.t);
const rampGapMs = 1000 / Number(values.arrival);
for (const t of order) {
  live.get(t)!.push(start(t));
  await new Promise((r) => setTimeout(r, rampGapMs));
}

// Churn: close a random share of each transport's clients (cleanly, as a user leaving) and start
// as many new ones.
const churn = setInterval(() => {
  for (const [t, clients] of live) {
    const k = Math.round(clients.length * churnShare);
    for (let j = 0; j < k; j++) {
      const [gone] = clients.splice(Math.floor(Math.random() * clients.length), 1);
      void gone.close();
      clients.push(start(t));
      status.churned++;
    }
  }
}, Number(values['churn-every-ms']));

let eluPrev = performance.eventLoopUtilization();
const report = setInterval(() => {
  const elu = performance.eventLoopUtilization(eluPrev).utilization;
  eluPrev = performance.eventLoopUtilization();
  let open = 0;
  let clients = 0;
  for (const list of live.values()) {
    clients += list.length;
    for (const c of list) if (c.open) open++;
  }
  const heapUsedBytes = process.memoryUsage().heapUsed;
  if (lines++ % GC_EVERY === 0) {
    gc();
    heapAfterGcBytes = process.memoryUsage().heapUsed;
  }
  const line: GeneratorStatus = { tUs: Date.now() * 1000, heapUsedBytes, heapAfterGcBytes, open, clients, ...status, elu };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}, 1000);

const stop = async () => {
  clearInterval(churn);
  clearInterval(report);
  await Promise.all([...live.values()].flat().map((c) => c.close().catch(() => undefined)));
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
