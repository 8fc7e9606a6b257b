/**
 * The reference server as several processes sharing one port (`serve --server-procs N`), for more
 * connections than one process may hold open files for.
 *
 * node:cluster, round-robin: the primary accepts each connection and hands it to the next worker;
 * every worker runs the full server (servers/server.ts) on the same port. The hub is shared in
 * the one way that keeps the wire contract: the primary alone assigns seqs. It owns the epoch and
 * the scheduled publisher, and forwards every message, in order, to every worker over IPC; a
 * worker publishes it into its own hub (ring, subscribers), which gives it the same seq, because
 * every worker sees every message of a topic in the same order from the first one (the publisher
 * starts only once every worker listens). An upstream publish arriving at a worker (POST /publish,
 * a WebSocket frame) goes to the primary for its seq and comes back out to every worker like any
 * other message. So every subscriber, whichever process holds its connection, sees every message
 * once, with one seq sequence per topic and one epoch.
 *
 * `GET /stats`, answered by whichever worker got the request, is the sum over the workers plus the
 * primary's CPU and memory. The admin fault endpoints (`--admin`: /admin/stall, /admin/cut) act on
 * every worker the same way: the worker that got the request asks the primary, which has every
 * worker inject the fault and answers with the total. A worker that dies ends the whole server (stderr says which).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PushbenchError, validationError } from '../core/errors.ts';
import { TSX_EXEC_ARGV } from '../core/tsx.ts';
import { Hub } from './hub.ts';
import { DEFAULT_SERVER_OPTIONS, validateServerOptions, type ServerOptions } from './options.ts';
import { Publisher } from './publisher.ts';
import { startServer, type AdminAction, type RunningServer } from './server.ts';
import { nowUs, type StatsSnapshot } from '../core/wire.ts';
import { SERVER_TRANSPORTS } from './transports/index.ts';

/** One sequenced message: [topic, seq, ts, data]. */
type Sequenced = [string, number, number, string];

/** Primary → worker. */
type ToWorker =
  | { t: 'msgs'; list: Sequenced[] }
  | { t: 'seq'; id: number; seq: number }
  | { t: 'collect'; id: number }
  | { t: 'stats'; id: number; snapshot: StatsSnapshot }
  /** inject a fault here; `from`/`ask` name the worker and request that asked (its socket is spared) */
  | { t: 'inject'; id: number; action: AdminAction; from: number; ask: number }
  /** the answer to an `admin` ask: connections cut over every worker (a stall: workers stalled) */
  | { t: 'admin-done'; ask: number; n: number }
  | { t: 'close' };

/** Worker → primary. */
type ToPrimary =
  | { t: 'listening'; port: number }
  | { t: 'publish'; id: number; topic: string; data: string; ts: number }
  | { t: 'ask-stats'; id: number }
  | { t: 'snapshot'; id: number; snapshot: StatsSnapshot }
  /** an admin endpoint was called here: every worker must inject `action` */
  | { t: 'admin'; ask: number; action: AdminAction }
  | { t: 'injected'; id: number; n: number };

const WORKER_ENV = 'PUSHBENCH_CLUSTER_WORKER';
const START_TIMEOUT_MS = 20_000;
const STATS_TIMEOUT_MS = 3000;
const CLOSE_TIMEOUT_MS = 3000;

export interface RunningCluster {
  /** `http://HOST:PORT` */
  url: string;
  host: string;
  port: number;
  /** the primary's pid and the workers' */
  pids(): number[];
  /** every worker's own /stats snapshot (not summed), in worker order */
  perProcess(): Promise<StatsSnapshot[]>;
  /** Stop publishing, close every worker's server, wait for the workers to exit. Async, idempotent. */
  close(): Promise<void>;
}

/** The primary's hub: assigns seqs (and keeps no ring worth the name) and reports every message. */
class SequencingHub extends Hub {
  constructor(private readonly onMessage: (m: Sequenced) => void) {
    super({ ringSize: 1, delayMs: 0 });
  }

  override publish(topic: string, data: string, tsUs: number): number {
    const seq = super.publish(topic, data, tsUs);
    if (seq > 0) this.onMessage([topic, seq, tsUs, data]);
    return seq;
  }
}

/** A worker's hub: upstream publishes go to the primary; sequenced messages come back via {@link apply}. */
class WorkerHub extends Hub {
  private nextId = 1;
  private readonly waiting = new Map<number, (seq: number) => void>();

  constructor(opts: ConstructorParameters<typeof Hub>[0], private readonly send: (m: ToPrimary) => void) {
    super(opts);
  }

  override publishUpstream(topic: string, data: string, tsUs: number): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.send({ t: 'publish', id, topic, data, ts: tsUs });
    });
  }

  /** The primary's answer to an upstream publish. */
  answered(id: number, seq: number): void {
    this.waiting.get(id)?.(seq);
    this.waiting.delete(id);
  }

  /** A message the primary sequenced: publish it here, where it must get the same seq. */
  apply([topic, seq, ts, data]: Sequenced): void {
    const got = this.publish(topic, data, ts);
    if (got !== 0 && got !== seq) {
      throw new Error(`cluster worker ${process.pid}: topic ${topic} got seq ${got} for the primary's ${seq}; a message was missed`);
    }
  }
}

/** Sum the workers' snapshots; the primary adds its own CPU and memory and its publish count. */
export function sumSnapshots(workers: readonly StatsSnapshot[], primary: { epoch: string; published: number; topics: number; cpuUs: { user: number; system: number }; rssBytes: number; heapUsedBytes: number; uptimeS: number }): StatsSnapshot {
  const sum = (f: (s: StatsSnapshot) => number) => workers.reduce((n, s) => n + f(s), 0);
  const perTransport = (f: (s: StatsSnapshot) => Record<string, number>) =>
    Object.fromEntries(SERVER_TRANSPORTS.map((t) => [t, sum((s) => f(s)[t])])) as StatsSnapshot['open'];
  return {
    epoch: primary.epoch,
    pid: process.pid,
    uptimeS: primary.uptimeS,
    nowUs: nowUs(),
    open: perTransport((s) => s.open),
    tcpOpen: sum((s) => s.tcpOpen),
    tcpAccepted: sum((s) => s.tcpAccepted),
    httpRequests: sum((s) => s.httpRequests),
    published: primary.published,
    delivered: perTransport((s) => s.delivered),
    deliveredTotal: sum((s) => s.deliveredTotal),
    bytesWritten: sum((s) => s.bytesWritten),
    bytesRead: sum((s) => s.bytesRead),
    slowConsumerDrops: sum((s) => s.slowConsumerDrops),
    rejected: {
      connectionCap: sum((s) => s.rejected.connectionCap),
      badRequest: sum((s) => s.rejected.badRequest),
      tooLarge: sum((s) => s.rejected.tooLarge),
    },
    cpuUs: { user: primary.cpuUs.user + sum((s) => s.cpuUs.user), system: primary.cpuUs.system + sum((s) => s.cpuUs.system) },
    rssBytes: primary.rssBytes + sum((s) => s.rssBytes),
    heapUsedBytes: primary.heapUsedBytes + sum((s) => s.heapUsedBytes),
    elu: Math.max(0, ...workers.map((s) => s.elu)),
    topics: Math.max(primary.topics, ...workers.map((s) => s.topics)),
  };
}

/**
 * Start the clustered server from the primary: fork `options.processes` workers, wait until all
 * listen on one port (`options.port`, 0 = a free one the workers share), then start publishing.
 * Rejects with PB_SERVER_START (and leaves no worker behind) when a worker fails to start.
 */
export async function startCluster(partial: Partial<ServerOptions> = {}): Promise<RunningCluster> {
  const options: Readonly<ServerOptions> = Object.freeze({ ...DEFAULT_SERVER_OPTIONS, ...partial });
  const problems = validateServerOptions(options);
  if (problems.length > 0) throw validationError(problems, 'invalid server options');
  if (!cluster.isPrimary) throw new PushbenchError('PB_SERVER_START', 'a cluster worker cannot start a cluster');

  const workers: Worker[] = [];
  let pending: Sequenced[] = [];
  const flush = () => {
    const list = pending;
    pending = [];
    for (const w of workers) if (w.isConnected()) w.send({ t: 'msgs', list } satisfies ToWorker);
  };
  // Messages published in one turn of the loop (a publisher tick) travel in one IPC message.
  const hub = new SequencingHub((m) => {
    if (pending.length === 0) queueMicrotask(flush);
    pending.push(m);
  });
  const publisher = new Publisher(hub, options);
  const startedUs = nowUs();

  // Stats requests: collect every worker's snapshot, answer the asker with the sum (or the list).
  let nextCollect = 1;
  const collecting = new Map<number, { got: StatsSnapshot[]; done: (all: StatsSnapshot[]) => void }>();
  const collect = (): Promise<StatsSnapshot[]> => {
    const id = nextCollect++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), STATS_TIMEOUT_MS);
      const finish = () => {
        clearTimeout(timer);
        const c = collecting.get(id);
        collecting.delete(id);
        resolve(c ? workers.map((w) => c.got[w.id]).filter((s): s is StatsSnapshot => s !== undefined) : []);
      };
      collecting.set(id, { got: [], done: finish });
      for (const w of workers) if (w.isConnected()) w.send({ t: 'collect', id } satisfies ToWorker);
    });
  };
  const summed = async (): Promise<StatsSnapshot> =>
    sumSnapshots(await collect(), {
      epoch: hub.epoch, published: hub.published, topics: hub.topicCount, cpuUs: process.cpuUsage(),
      rssBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed, uptimeS: (nowUs() - startedUs) / 1e6,
    });

  // Admin faults: every worker injects; a cut is answered with the sum of what they cut. A stall
  // is answered before any worker stalls (the asker among them), so the answer gets out.
  let nextInject = 1;
  const injecting = new Map<number, { got: Map<number, number>; done: () => void }>();
  const injectEverywhere = (asker: Worker, ask: number, action: AdminAction) => {
    const id = nextInject++;
    const live = workers.filter((w) => w.isConnected());
    const answer = (n: number) => asker.isConnected() && asker.send({ t: 'admin-done', ask, n } satisfies ToWorker);
    if (action.kind === 'stall') answer(live.length);
    else {
      const got = new Map<number, number>();
      const timer = setTimeout(() => done(), STATS_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        if (!injecting.delete(id)) return;
        answer([...got.values()].reduce((a, b) => a + b, 0));
      };
      injecting.set(id, { got, done });
    }
    for (const w of live) w.send({ t: 'inject', id, action, from: asker.id, ask } satisfies ToWorker);
  };

  let closing: Promise<void> | undefined;
  let started: { resolve(port: number): void; reject(err: Error): void } | undefined;
  const listening = new Map<number, number>();
  const checkListening = () => {
    if (!started || listening.size < workers.length) return;
    const ports = new Set(listening.values());
    if (ports.size === 1) started.resolve([...ports][0]);
    else started.reject(new PushbenchError('PB_SERVER_START', `the cluster's workers listen on different ports (${[...ports].join(', ')})`));
  };

  cluster.setupPrimary({
    exec: fileURLToPath(import.meta.url),
    execArgv: [...TSX_EXEC_ARGV],
    args: [],
    silent: false,
  });
  for (let i = 0; i < options.processes; i++) {
    const w = cluster.fork({ [WORKER_ENV]: JSON.stringify({ options, epoch: hub.epoch }) });
    workers.push(w);
    w.on('message', (m: ToPrimary) => {
      if (m.t === 'listening') {
        listening.set(w.id, m.port);
        checkListening();
      } else if (m.t === 'publish') {
        const seq = hub.publish(m.topic, m.data, m.ts);
        // After the message's own flush (queued by publish), so the sender sees it first.
        queueMicrotask(() => w.isConnected() && w.send({ t: 'seq', id: m.id, seq } satisfies ToWorker));
      } else if (m.t === 'ask-stats') {
        void summed().then((snapshot) => w.isConnected() && w.send({ t: 'stats', id: m.id, snapshot } satisfies ToWorker));
      } else if (m.t === 'admin') {
        injectEverywhere(w, m.ask, m.action);
      } else if (m.t === 'injected') {
        const c = injecting.get(m.id);
        if (c) {
          c.got.set(w.id, m.n);
          if (workers.every((x) => c.got.has(x.id) || !x.isConnected())) c.done();
        }
      } else if (m.t === 'snapshot') {
        const c = collecting.get(m.id);
        if (c) {
          c.got[w.id] = m.snapshot;
          if (workers.every((x) => c.got[x.id] !== undefined || !x.isConnected())) c.done(c.got);
        }
      }
    });
    w.on('exit', (code, signal) => {
      if (closing) return;
      const why = `cluster worker ${w.process.pid} exited (${signal ?? `code ${code}`})`;
      if (started) started.reject(new PushbenchError('PB_SERVER_START', why));
      else {
        // The server is broken: stop it all; the process then ends with nothing left to serve.
        process.stderr.write(`pushbench serve: ${why}; stopping the server\n`);
        process.exitCode = 1;
        void close();
      }
    });
  }

  const close = (): Promise<void> => {
    closing ??= (async () => {
      publisher.stop();
      hub.close();
      const exits = workers.map((w) => (w.isDead() ? Promise.resolve() : new Promise<void>((r) => w.once('exit', () => r()))));
      for (const w of workers) if (w.isConnected()) w.send({ t: 'close' } satisfies ToWorker);
      const force = setTimeout(() => {
        for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
      }, CLOSE_TIMEOUT_MS);
      await Promise.all(exits);
      clearTimeout(force);
    })();
    return closing;
  };

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new PushbenchError('PB_SERVER_START', `the cluster's workers did not all listen within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      started = {
        resolve: (p) => { clearTimeout(timer); resolve(p); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      checkListening();
    });
  } catch (err) {
    await close();
    throw err;
  } finally {
    started = undefined;
  }
  publisher.start();

  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${urlHost}:${port}`,
    host: options.host,
    port,
    pids: () => [process.pid, ...workers.map((w) => w.process.pid!).filter(Boolean)],
    perProcess: collect,
    close,
  };
}

/** A worker: the full server on the shared port, with a hub fed by the primary. */
async function runWorker(config: { options: ServerOptions; epoch: string }): Promise<void> {
  const send = (m: ToPrimary) => process.send?.(m);
  const hub = new WorkerHub({ ringSize: config.options.ringSize, delayMs: config.options.delayMs, epoch: config.epoch }, send);
  let nextAsk = 1;
  const asking = new Map<number, (s: StatsSnapshot) => void>();
  const askStats = (): Promise<StatsSnapshot> => {
    const id = nextAsk++;
    return new Promise((resolve) => {
      asking.set(id, resolve);
      send({ t: 'ask-stats', id });
    });
  };
  let nextAdmin = 1;
  const adminAsks = new Map<number, { spare: Socket; resolve: (n: number) => void }>();
  const askAdmin = (action: AdminAction, spare: Socket): Promise<number> => {
    const ask = nextAdmin++;
    return new Promise((resolve) => {
      adminAsks.set(ask, { spare, resolve });
      send({ t: 'admin', ask, action });
    });
  };
  let server: RunningServer | undefined;
  const exit = async (code: number) => {
    await server?.close();
    process.exit(code);
  };
  process.on('message', (m: ToWorker) => {
    if (m.t === 'msgs') {
      try {
        for (const x of m.list) hub.apply(x);
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        void exit(1);
      }
    } else if (m.t === 'seq') hub.answered(m.id, m.seq);
    else if (m.t === 'collect') {
      if (server) send({ t: 'snapshot', id: m.id, snapshot: server.stats() });
    } else if (m.t === 'stats') {
      asking.get(m.id)?.(m.snapshot);
      asking.delete(m.id);
    } else if (m.t === 'inject') {
      const spare = m.from === cluster.worker?.id ? adminAsks.get(m.ask)?.spare : undefined;
      send({ t: 'injected', id: m.id, n: server ? server.inject(m.action, spare) : 0 });
    } else if (m.t === 'admin-done') {
      adminAsks.get(m.ask)?.resolve(m.n);
      adminAsks.delete(m.ask);
    } else if (m.t === 'close') void exit(0);
  });
  // The primary is gone (killed, crashed): nothing may keep serving.
  process.on('disconnect', () => void exit(0));
  // Scheduled messages come from the primary's publisher, not this process's.
  server = await startServer({ ...config.options, ratePerS: 0, processes: 1 }, { hub, stats: askStats, admin: askAdmin });
  send({ t: 'listening', port: server.port });
}

if (cluster.isWorker && process.env[WORKER_ENV] && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runWorker(JSON.parse(process.env[WORKER_ENV]) as { options: ServerOptions; epoch: string });
}
