/**
 * The bare client of `npm run bench:generator`, one worker thread: N connections that only count
 * what arrives — WebSocket frames (`ws`, no compression, as the pushbench driver opens them) or
 * SSE event boundaries (`\n\n` in the raw body of an undici request). No parsing, no timestamps,
 * no histogram: the lower bound of what any generator must spend per delivery.
 *
 * Protocol: the thread gets a {@link BareTask} as workerData and posts one {@link BareResult}.
 * Threading: everything runs on this thread's event loop; the parent only waits for the result.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Client as UndiciClient, type Dispatcher } from 'undici';
import WebSocket from 'ws';
import { sampleProcess } from '../load/resources.ts';
import { startWorkerProfile } from '../load/worker-profile.ts';

export type BareTransport = 'ws' | 'sse';

export interface BareTask {
  transport: BareTransport;
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  clients: number;
  /** client i subscribes to topic `t{i % topics}` (the reference server's publisher topics) */
  topics: number;
  /** source addresses to spread the connections over (empty: the OS's choice) */
  localAddresses: string[];
  /** connections being opened at once */
  connectConcurrency: number;
  /** after every connection is open, this long before counting starts, ms */
  warmupMs: number;
  /** counting window, ms */
  measureMs: number;
  /** the server's PID (its CPU is read from /proc at the window's edges) */
  serverPid: number;
}

export interface BareResult {
  opened: number;
  /** connections that failed to open */
  failed: number;
  /** connections that ended while counting (e.g. dropped by the server as slow consumers) */
  dropped: number;
  /** deliveries counted in the window */
  count: number;
  measuredS: number;
  /** deliveries per second of the window, one entry a second */
  perSecond: number[];
  /** this thread's event-loop utilization over the window (0..1) */
  elu: number;
  /** each second's event-loop utilization (0..1) and event-loop delay p99 (ms), measured as a
   * pushbench worker measures its own, so the bench can hold both to one rule (load/starvation.ts) */
  eluPerSecond: number[];
  loopDelayP99MsPerSecond: number[];
  /** ms from the first connect to the last connection open */
  connectMs: number;
  /** CPU of this whole process (every thread) over the window, µs; null when /proc is unreadable */
  generatorCpuUs: number | null;
  /** CPU of the server over the window, µs */
  serverCpuUs: number | null;
}

const NL = 0x0a;

/** One counting connection. `count` is read by the sampler; `ended` flips once. */
interface Counting {
  count: number;
  ended: boolean;
  close(): void;
}

function openWs(task: BareTask, i: number, onOpen: (ok: boolean) => void): Counting {
  const c: Counting = { count: 0, ended: false, close: () => ws.terminate() };
  const ws = new WebSocket(`${task.baseUrl.replace(/^http/, 'ws')}/ws?topic=t${i % task.topics}`, {
    perMessageDeflate: false,
    localAddress: task.localAddresses.length ? task.localAddresses[i % task.localAddresses.length] : undefined,
  });
  let opened = false;
  ws.on('open', () => {
    opened = true;
    onOpen(true);
  });
  ws.on('message', () => {
    c.count++;
  });
  ws.on('error', () => {});
  ws.on('close', () => {
    c.ended = true;
    if (!opened) onOpen(false);
  });
  return c;
}

function openSse(task: BareTask, i: number, onOpen: (ok: boolean) => void): Counting {
  const http = new UndiciClient(task.baseUrl, {
    pipelining: 1,
    localAddress: task.localAddresses.length ? task.localAddresses[i % task.localAddresses.length] : undefined,
    headersTimeout: 30_000,
    bodyTimeout: 0,
  });
  let opened = false;
  // A boundary may straddle two chunks: remember whether the last byte was a newline.
  let lastWasNl = false;
  // The stream opens with `retry: …\n\n`, which is not a message.
  let skip = 1;
  const c: Counting = { count: 0, ended: false, close: () => void http.destroy().catch(() => undefined) };
  const handler: Dispatcher.DispatchHandler = {
    onConnect: () => {},
    onHeaders: (status) => {
      opened = status === 200;
      onOpen(opened);
      return true;
    },
    onData: (chunk: Buffer) => {
      let n = 0;
      let from = 0;
      if (lastWasNl && chunk[0] === NL) {
        n++;
        from = 1;
      }
      for (let at = chunk.indexOf('\n\n', from); at >= 0; at = chunk.indexOf('\n\n', at + 2)) n++;
      lastWasNl = chunk[chunk.length - 1] === NL;
      if (skip > 0) {
        const s = Math.min(skip, n);
        skip -= s;
        n -= s;
      }
      c.count += n;
      return true;
    },
    onComplete: () => {
      c.ended = true;
    },
    onError: () => {
      c.ended = true;
      if (!opened) onOpen(false);
    },
  };
  http.dispatch({ method: 'GET', path: `/sse?topic=t${i % task.topics}`, headers: { accept: 'text/event-stream' } }, handler);
  return c;
}

const CONNECT_LIMIT_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const cpuDelta = (a: { cpuUs: number } | null, b: { cpuUs: number } | null) => (a && b ? b.cpuUs - a.cpuUs : null);

async function run(task: BareTask): Promise<BareResult> {
  const open = task.transport === 'ws' ? openWs : openSse;
  const conns: Counting[] = [];
  let opened = 0;
  let failed = 0;
  let pending = 0;
  const startMs = performance.now();
  // Connections still not open after CONNECT_LIMIT_MS (a saturated server or client) count as failed.
  await new Promise<void>((resolve) => {
    setTimeout(resolve, CONNECT_LIMIT_MS);
    let next = 0;
    const more = () => {
      while (pending < task.connectConcurrency && next < task.clients) {
        pending++;
        conns.push(
          open(task, next++, (ok) => {
            pending--;
            if (ok) opened++;
            else failed++;
            if (opened + failed === task.clients) resolve();
            else more();
          }),
        );
      }
    };
    more();
  });
  const connectMs = performance.now() - startMs;
  failed = task.clients - opened;
  await sleep(task.warmupMs);

  const total = () => conns.reduce((n, c) => n + c.count, 0);
  const endedBefore = conns.filter((c) => c.ended).length;
  const perSecond: number[] = [];
  const eluPerSecond: number[] = [];
  const loopDelayP99MsPerSecond: number[] = [];
  // The same monitor, at the same resolution, as a pushbench worker (load/worker.ts).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const selfFrom = sampleProcess(process.pid);
  const serverFrom = sampleProcess(task.serverPid);
  const first = total();
  let last = first;
  const seconds = Math.max(1, Math.round(task.measureMs / 1000));
  let eluPrev = elu0;
  for (let s = 1; s <= seconds; s++) {
    await sleep(Math.max(0, t0 + s * 1000 - performance.now()));
    const now = total();
    perSecond.push(now - last);
    last = now;
    const e = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(e, eluPrev).utilization;
    eluPerSecond.push(u);
    eluPrev = e;
    loopDelayP99MsPerSecond.push(loopDelay.percentile(99) / 1e6);
    loopDelay.reset();
  }
  loopDelay.disable();
  const measuredS = (performance.now() - t0) / 1000;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const generatorCpuUs = cpuDelta(selfFrom, sampleProcess(process.pid));
  const serverCpuUs = cpuDelta(serverFrom, sampleProcess(task.serverPid));
  const dropped = conns.filter((c) => c.ended).length - endedBefore;
  for (const c of conns) c.close();
  return {
    opened, failed, dropped, count: last - first, measuredS, perSecond, elu, eluPerSecond, loopDelayP99MsPerSecond, connectMs, generatorCpuUs, serverCpuUs,
  };
}

if (parentPort) {
  // PUSHBENCH_WORKER_CPU_PROF profiles this thread as it does a pushbench worker (one file, index 0).
  const stopProfile = startWorkerProfile(0);
  const result = await run(workerData as BareTask);
  await stopProfile();
  parentPort.postMessage(result);
}
