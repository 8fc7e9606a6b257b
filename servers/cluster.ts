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
 *
 * The IPC messages and the two hubs are in servers/cluster-ipc.ts, the primary's bookkeeping in
 * servers/cluster-primary.ts; this file is also the workers' entry point (the primary forks it).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PushbenchError, validationError } from '../core/errors.ts';
import { TSX_EXEC_ARGV } from '../core/tsx.ts';
import type { AdminAction } from './admin.ts';
import { WorkerHub, type ToPrimary, type ToWorker } from './cluster-ipc.ts';
import { FaultFanout, forwardingHub, onWorkerMessage, SnapshotGather, StartWait, stopWorkers, type PrimaryParts } from './cluster-primary.ts';
import { DEFAULT_SERVER_OPTIONS, validateServerOptions, type ServerOptions } from './options.ts';
import { Publisher } from './publisher.ts';
import { startServer, type RunningServer } from './server.ts';
import { nowUs, type PublishSchedule, type StatsSnapshot } from '../core/wire.ts';
import { SERVER_TRANSPORTS } from './transports/index.ts';

const WORKER_ENV = 'PUSHBENCH_CLUSTER_WORKER';
const START_TIMEOUT_MS = 20_000;

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

/** Sum the workers' snapshots; the primary adds its own CPU and memory and its publish count. */
export function sumSnapshots(workers: readonly StatsSnapshot[], primary: { epoch: string; published: number; topics: number; cpuUs: { user: number; system: number }; rssBytes: number; heapUsedBytes: number; uptimeS: number; schedule?: PublishSchedule | null }): StatsSnapshot {
  const sum = (f: (s: StatsSnapshot) => number) => workers.reduce((n, s) => n + f(s), 0);
  const perTransport = (f: (s: StatsSnapshot) => Record<string, number>) =>
    Object.fromEntries(SERVER_TRANSPORTS.map((t) => [t, sum((s) => f(s)[t] ?? 0)])) as StatsSnapshot['open'];
  return {
    epoch: primary.epoch,
    pid: process.pid,
    uptimeS: primary.uptimeS,
    nowUs: nowUs(),
    open: perTransport((s) => s.open),
    streams: perTransport((s) => s.streams ?? {}),
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
    // the primary's publisher is the only one (the workers' are off)
    schedule: primary.schedule ?? null,
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
  const hub = forwardingHub(workers);
  const publisher = new Publisher(hub, options);
  const startedUs = nowUs();
  const snapshots = new SnapshotGather(workers);
  // Stats requests: every worker's snapshot, summed with the primary's own figures.
  const summed = async (): Promise<StatsSnapshot> =>
    sumSnapshots(await snapshots.collect(), {
      epoch: hub.epoch, published: hub.published, topics: hub.topicCount, cpuUs: process.cpuUsage(),
      rssBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed, uptimeS: (nowUs() - startedUs) / 1e6,
      schedule: publisher.schedule(),
    });
  const parts: PrimaryParts = { hub, start: new StartWait(workers), snapshots, faults: new FaultFanout(workers), summed };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      publisher.stop();
      hub.close();
      await stopWorkers(workers);
    })();
    return closing;
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
    w.on('message', (m: ToPrimary) => onWorkerMessage(parts, w, m));
    w.on('exit', (code, signal) => {
      if (closing) return;
      const why = `cluster worker ${w.process.pid} exited (${signal ?? `code ${code}`})`;
      if (!parts.start.fail(why)) {
        // The server is broken: stop it all; the process then ends with nothing left to serve.
        process.stderr.write(`pushbench serve: ${why}; stopping the server\n`);
        process.exitCode = 1;
        void close();
      }
    });
  }

  let port: number;
  try {
    port = await parts.start.wait(START_TIMEOUT_MS);
  } catch (err) {
    await close();
    throw err;
  }
  publisher.start();

  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${urlHost}:${port}`,
    host: options.host,
    port,
    pids: () => [process.pid, ...workers.map((w) => w.process.pid!).filter(Boolean)],
    perProcess: () => snapshots.collect(),
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
