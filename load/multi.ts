/**
 * One run over several generator processes, for more clients than one process may hold open
 * files for. Each process is a child running {@link runOnce} on its slice of the clients
 * (load/slice.ts: ids ≡ index mod N; of a machine shard's slice when the settings carry one) with
 * its own worker threads, all on one shared schedule (the same t0, so the same warm-up and
 * window; set once every child is set up, unless a machine shard's plan fixed it); their records
 * merge with {@link mergeRecords}.
 *
 * This process starts the reference server (unless the settings name a target) and tells every
 * child to use it as its target. Child 0 alone samples the server (CPU and memory over its
 * process tree, /stats summed over its processes), so the merged record counts the server once.
 * Only records and progress cross the process boundary. Every child is killed when this process
 * exits, however it exits; on abort each child stops and returns its partial record.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { mergeRecords, type ResultRecord } from '../core/record.ts';
import { nowUs } from '../core/wire.ts';
import { PushbenchError, type ErrorCode } from '../core/errors.ts';
import { newRunId, runOnce, spawnReferenceServer, type Progress, type RunHooks, type RunSettings } from './runner.ts';
import type { Spawned } from '../core/spawn.ts';
import { newTlsFolder } from '../core/tls.ts';
import { CpuLimit } from '../core/cpu-limit.ts';
import { serverLogLine } from './run/children.ts';
import { GENERATOR_V8_FLAGS, TSX_EXEC_ARGV, repoPath } from '../core/tsx.ts';
import { WHOLE_RUN, nestSlice, type Slice } from './slice.ts';
import { metricsSinkOf, type MetricsSink, type RunLabels, type RunMetrics } from './metrics-sink.ts';

const CHILD_ENV = 'PUSHBENCH_GENERATOR_CHILD';
/**
 * From the last child's "ready" to the shared t0. A child is ready once its worker threads have
 * loaded; in the lead each gets 'start', posts its tasks and builds its clients (the in-process
 * run's lead, 50 ms), all children at once on the load CPUs.
 */
const START_LEAD_MS = 100;
const PER_CHILD_LEAD_MS = 50;
const CHILD_EXIT_GRACE_MS = 5000;

type ToChild = { type: 'run'; settings: RunSettings; metrics: boolean } | { type: 'start'; t0Us: number } | { type: 'stop' };
/** a child's live metrics call, replayed on the parent's sink (the parent serves --metrics-port) */
type MetricsCall = { [K in keyof RunMetrics]: { type: 'metrics'; labels: RunLabels; op: K; args: Parameters<RunMetrics[K]> } }[keyof RunMetrics];
type FromChild =
  | { type: 'ready' }
  | { type: 'progress'; progress: Progress }
  | MetricsCall
  | { type: 'log'; line: string }
  | { type: 'result'; record: ResultRecord }
  | { type: 'error'; code: ErrorCode | null; message: string };

const live = new Set<ChildProcess>();
let exitHook = false;

/**
 * Fork a child running `settings`; `onReady` is called once it is set up and, when its share has no
 * t0, waits for a 'start'.
 */
function runChild(settings: RunSettings, onProgress: (p: Progress) => void, log: (line: string) => void, metrics: MetricsSink | undefined, onReady: () => void): { child: ChildProcess; done: Promise<ResultRecord> } {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  const child = fork(repoPath('load/multi.ts'), [], {
    execArgv: [...GENERATOR_V8_FLAGS, ...TSX_EXEC_ARGV],
    env: { ...process.env, [CHILD_ENV]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  live.add(child);
  // 'exit' can come before the last IPC messages are read: wait for the channel to close too.
  const exited = Promise.all([once(child, 'exit'), once(child, 'disconnect')]).then(([exit]) => exit);
  const done = new Promise<ResultRecord>((resolve, reject) => {
    let result: ResultRecord | undefined;
    let error: PushbenchError | undefined;
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') onReady();
      else if (m.type === 'progress') onProgress(m.progress);
      else if (m.type === 'metrics') replay(metrics, m);
      else if (m.type === 'log') log(m.line);
      else if (m.type === 'result') resolve((result = m.record));
      else error = m.code ? new PushbenchError(m.code, m.message) : new PushbenchError('PB_SERVER_START', `a generator process failed: ${m.message}`);
    });
    void exited.then(([code, signal]) => {
      live.delete(child);
      if (result) resolve(result);
      else reject(error ?? new PushbenchError('PB_MACHINE_LIMIT', `generator process ${settings.share?.index ?? 0} exited (${signal ?? `code ${code}`}) without a result; out of memory?`));
    });
  });
  child.send({ type: 'run', settings, metrics: metrics !== undefined } satisfies ToChild);
  return { child, done };
}

/** Tell every child still there the shared t0: the lead from now covers their workers' tasks. */
function startChildren(children: readonly ChildProcess[]): void {
  const t0Us = nowUs() + (START_LEAD_MS + PER_CHILD_LEAD_MS * children.length) * 1000;
  for (const c of children) if (c.connected) c.send({ type: 'start', t0Us } satisfies ToChild);
}

/** A child's metrics call on this process's sink. */
function replay(sink: MetricsSink | undefined, m: MetricsCall): void {
  const run = sink?.forRun(m.labels);
  if (!run) return;
  if (m.op === 'tick') run.tick(...m.args);
  else if (m.op === 'second') run.second(...m.args);
  else run.end(...m.args);
}

/** In a child: a sink that sends every call to the parent. */
function forwardingSink(send: (x: FromChild) => void): MetricsSink {
  return {
    forRun: (labels) => ({
      tick: (...args) => send({ type: 'metrics', labels, op: 'tick', args }),
      second: (...args) => send({ type: 'metrics', labels, op: 'second', args }),
      end: (...args) => send({ type: 'metrics', labels, op: 'end', args }),
    }),
  };
}

/**
 * Run `s` over `processes` generator processes (1: just {@link runOnce} here). Resolves with the
 * merged record; throws PushbenchError on setup failures (every child and the server stopped).
 */
export async function runMulti(given: RunSettings, processes: number, hooks: RunHooks = {}): Promise<ResultRecord> {
  if (processes <= 1) return runOnce(given, hooks);
  // one run id for every share: their tokens, topics and records agree
  const s: RunSettings = { ...given, runId: given.runId ?? newRunId() };
  const log = hooks.log ?? (() => {});
  const shared: SharedServer = {};
  const children: ChildProcess[] = [];
  try {
    let target = s.target;
    let serverPid = s.serverPid;
    let ca = s.ca;
    if (!target) {
      const server = await startSharedServer(s, shared, log);
      [target, serverPid, ca] = [server.url, server.pid, shared.ca ?? ca];
    }
    // A machine shard (dist/) brings its slice and the plan's t0; the processes split that slice.
    // Without one, t0 is set once every child is ready (startChildren).
    const outer: Slice = s.share ?? WHOLE_RUN;
    const t0Us = s.share?.t0Us;
    const readies: Promise<void>[] = [];
    const progress = mergedProgress(s.clients, hooks.onProgress?.bind(hooks));
    const runs = Array.from({ length: processes }, (_, index) => {
      const share: RunSettings = {
        ...s, target, ca, serverPid: index === 0 ? serverPid : null, share: { ...nestSlice(outer, { index, of: processes }), t0Us, onHost: processes }, proxy: null,
      };
      let ready = () => {};
      readies.push(new Promise<void>((resolve) => (ready = resolve)));
      const r = runChild(share, progress(index), index === 0 ? log : () => {}, metricsSinkOf(hooks), ready);
      children.push(r.child);
      return r.done;
    });
    if (t0Us === undefined) void Promise.all(readies).then(() => startChildren(children));
    const stop = () => {
      for (const c of children) if (c.connected) c.send({ type: 'stop' } satisfies ToChild);
    };
    if (hooks.signal?.aborted) stop();
    hooks.signal?.addEventListener('abort', stop, { once: true });
    let records: ResultRecord[];
    try {
      records = await Promise.all(runs);
    } catch (err) {
      // one share failed: the others stop (one still waiting for its start among them)
      stop();
      throw err;
    } finally {
      hooks.signal?.removeEventListener('abort', stop);
    }
    // Each process numbers its worker threads from 0: say which process a reason is about.
    for (const [i, r] of records.entries()) r.invalidReasons = r.invalidReasons.map((x) => x.replace(/^generator /, `generator process ${i} `));
    const merged = mergeRecords(records);
    merged.name = s.name;
    merged.config = { ...merged.config, target: s.target };
    merged.environment = { ...merged.environment, serverCpus: s.serverCpus };
    return merged;
  } finally {
    // A child that sent its record exits by itself; one still running after a grace is killed.
    await Promise.all(children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const timer = setTimeout(() => c.kill('SIGKILL'), CHILD_EXIT_GRACE_MS);
      await once(c, 'exit');
      clearTimeout(timer);
    }));
    await shared.server?.stop();
    shared.limit?.remove();
    if (shared.tlsDir) rmSync(shared.tlsDir, { recursive: true, force: true });
  }
}

/**
 * Each child's progress, by child index, as one line of the whole run for `onProgress`: sent on
 * child 0's ticks, with every child's latest counts added and its worst loop figures.
 */
function mergedProgress(clients: number, onProgress: RunHooks['onProgress']): (index: number) => (p: Progress) => void {
  const latest: (Progress | undefined)[] = [];
  return (index) => (p) => {
    latest[index] = p;
    if (index !== 0 || !onProgress) return;
    const all = latest.filter((x): x is Progress => x !== undefined);
    onProgress({
      ...p,
      clients,
      started: all.reduce((n, x) => n + x.started, 0),
      open: all.reduce((n, x) => n + x.open, 0),
      deliveriesPerS: all.reduce((n, x) => n + x.deliveriesPerS, 0),
      p99Us: Math.max(...all.map((x) => x.p99Us)),
      generatorElu: Math.max(...all.map((x) => x.generatorElu)),
      generatorLoopDelayP99Ms: Math.max(...all.map((x) => x.generatorLoopDelayP99Ms)),
    });
  };
}

/** What {@link startSharedServer} made, for the caller to stop and remove however the run ends. */
interface SharedServer {
  server?: Spawned;
  /** its TLS material (`--tls`) and the CA the shares verify it against */
  tlsDir?: string;
  ca?: string;
  /** its CPU limit's cgroup (`--server-cpu-limit`) */
  limit?: CpuLimit;
}

/** The reference server every share of `s` measures, filled into `into` as it is made. */
async function startSharedServer(s: RunSettings, into: SharedServer, log: (line: string) => void): Promise<Spawned> {
  // the shares reach it as an https:// target verified against its CA
  const tls = s.tls ? await newTlsFolder() : undefined;
  into.tlsDir = tls?.dir;
  into.ca = tls?.material.ca;
  into.limit = s.serverCpuLimit !== undefined ? CpuLimit.create(s.serverCpuLimit) : undefined;
  const server = (into.server = await spawnReferenceServer(s, 0, into.tlsDir, into.limit));
  log(serverLogLine(server, s, into.limit));
  return server;
}

/** A generator child: run the share it is sent, report progress, send the record back, exit. */
async function childMain(): Promise<void> {
  const [m] = (await once(process, 'message')) as [ToChild];
  if (m.type !== 'run') return;
  const ac = new AbortController();
  process.on('message', (x: ToChild) => {
    if (x.type === 'stop') ac.abort();
  });
  // the parent is gone (killed, or gave up): stop the run, which stops this share's server too
  process.on('disconnect', () => ac.abort());
  const send = (x: FromChild) => new Promise<void>((r) => {
    if (!process.connected) return r();
    process.send!(x, undefined, {}, () => r());
  });
  // Set up, this share says so and waits for the shared t0; a stop before it starts the run at
  // once, to end it at once with a partial record.
  const startAt = () => new Promise<number>((resolve) => {
    process.on('message', (x: ToChild) => {
      if (x.type === 'start') resolve(x.t0Us);
    });
    ac.signal.addEventListener('abort', () => resolve(nowUs()), { once: true });
    void send({ type: 'ready' });
  });
  try {
    const record = await runOnce(m.settings, {
      signal: ac.signal,
      startAt: m.settings.share?.t0Us === undefined ? startAt : undefined,
      onProgress: (progress) => void send({ type: 'progress', progress }),
      log: (line) => void send({ type: 'log', line }),
      metrics: m.metrics ? forwardingSink((x) => void send(x)) : undefined,
    });
    await send({ type: 'result', record });
  } catch (err) {
    await send({ type: 'error', code: err instanceof PushbenchError ? err.code : null, message: (err as Error).message });
  }
  if (process.connected) process.disconnect();
}

if (process.env[CHILD_ENV] && process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await childMain();
}
