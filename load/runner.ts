/**
 * One measured run: start (or reach) the server, pin server and generator apart, ramp clients
 * over piscina worker threads, sample resources every second, and assemble the result record.
 *
 * The runner never records a latency itself: workers send encoded histograms and counters, the
 * runner adds them. Everything it starts (server, proxy, worker threads) it stops, also when the
 * run is aborted (the record then says `complete: false`).
 */
import os from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { nowUs, type StatsSnapshot, type TransportName } from '../servers/wire.ts';
import { addEncoded, decodeHistogram, percentiles } from '../reports/histogram.ts';
import {
  SCHEMA, SCHEMA_VERSION, addCounters, emptyCounters, finishRecord, totalErrors, type SlowClientsResult,
  type Environment, type FaultResult, type ProxyFigures, type ResultRecord, type RunConfig, type ServerFigures, type TimelinePoint, type WorkerFigures,
} from '../reports/record.ts';
import { PushbenchError, codeOf } from './errors.ts';
import { cpuCount, cpuModel, sampleProcess, sampleProcessTree } from './resources.ts';
import { pinSelf, spawnTs, type Spawned } from './spawn.ts';
import { TSX_EXEC_ARGV, repoPath } from './tsx.ts';
import { publisherTopics, topicOf } from './workload.ts';
import { progressPercentiles } from './progress.ts';
import { PUSHBENCH_VERSION } from './version.ts';
import { STARVED_CPU_SHARE, cpuShareWhileBusy } from './starvation.ts';
import type { FaultSpec } from './faults.ts';
import { formatProxyFigures, judgeProxy } from './proxy-validity.ts';
import type { LatencyProxyStats } from './proxy.ts';
import type { WorkerResult, WorkerTask, WorkerTick } from './worker.ts';
import type { Profile } from './target/profile.ts';
import { probeTarget } from './target/probe.ts';
import { publisherProblems } from './target/publisher.ts';
import { PublisherThread } from './target/publisher-thread.ts';

export interface RunSettings extends RunConfig {
  name: string;
  /** CPUs for the reference server / the generator (taskset lists); null = no pinning */
  serverCpus: string | null;
  loadCpus: string | null;
  /** PID of a --target server whose CPU and memory to sample; null = unknown */
  serverPid: number | null;
  ringSize: number;
  /** extra `serve` options for the child server (e.g. connection cap) */
  serverArgs?: string[];
  /** processes of the reference server sharing its port (serve --server-procs); 1 when absent */
  serverProcs?: number;
  /** this process runs one share of the clients of a multi-process generator (load/multi.ts) */
  share?: GeneratorShare;
  /** emulated network between clients and server (a latency proxy child); null on loopback */
  proxy: ProxySpec | null;
  /** faults to inject during the run (issue 8), ascending by time */
  faults?: FaultSpec[];
  /** slow consumers: this share of the clients reads at most readBytesPerS */
  slowClients?: { share: number; readBytesPerS: number } | null;
  /** a target profile (load/target): the generator publishes and the clients speak the profile */
  targetProfile?: Profile | null;
}

/**
 * One generator process's share of a run spread over several (load/multi.ts): the clients whose
 * id ≡ index (mod of), on a schedule every process shares, so their windows coincide and their
 * records merge. `clients` stays the run's total (topics, arrival schedule, source addresses).
 */
export interface GeneratorShare {
  index: number;
  of: number;
  /** the shared t0 (µs on the nowUs clock): client i starts at t0 + i / arrival rate */
  t0Us: number;
}

/** Clients of `clients` that share `share` runs. */
export function shareClients(clients: number, share: GeneratorShare | undefined): number {
  if (!share) return clients;
  return share.index < clients ? Math.floor((clients - 1 - share.index) / share.of) + 1 : 0;
}

/** One-way delay each direction, jitter and optional per-connection bandwidth cap of the proxy. */
export interface ProxySpec {
  delayMs: number;
  jitterMs: number;
  bandwidthBytesPerS: number | null;
}

/** What the live progress line shows; emitted once a second. */
export interface Progress {
  name: string;
  transport: TransportName;
  elapsedS: number;
  totalS: number;
  phase: 'ramp' | 'warmup' | 'measure' | 'drain';
  started: number;
  clients: number;
  open: number;
  deliveriesPerS: number;
  p50Us: number;
  p99Us: number;
  generatorElu: number;
  serverCpuPct: number | null;
}

export interface RunHooks {
  onProgress?(p: Progress): void;
  log?(line: string): void;
  signal?: AbortSignal;
}

export const SATURATED_ELU = 0.9;
const STALLED_LOOP_DELAY_MS = 100;

/** Split the machine: the server gets the first half of the CPUs, the generator the rest. */
export function defaultCpuSplit(cores = cpuCount()): { serverCpus: string | null; loadCpus: string | null } {
  if (cores < 2) return { serverCpus: null, loadCpus: null };
  const half = Math.floor(cores / 2);
  const list = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`);
  return { serverCpus: list(0, half - 1), loadCpus: list(half, cores - 1) };
}

/** Number of CPUs in a taskset list like `0-1,3`. */
export function countCpus(list: string | null): number {
  if (!list) return cpuCount();
  let n = 0;
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

/** Source addresses to spread clients over so one target is not capped by the ephemeral ports. */
export function sourceAddresses(targetHost: string, clients: number): string[] {
  if (!/^127\./.test(targetHost) && targetHost !== 'localhost') return [];
  const n = Math.min(250, 4 + Math.ceil(clients / 5000));
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
}

export function environment(s: RunSettings): Environment {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpuModel(),
    cores: cpuCount(),
    totalMemBytes: os.totalmem(),
    hostname: os.hostname(),
    serverCpus: s.serverCpus,
    loadCpus: s.loadCpus,
    network: s.network,
    pushbenchVersion: PUSHBENCH_VERSION,
  };
}

async function fetchStats(url: string): Promise<StatsSnapshot | null> {
  try {
    const res = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return null;
    return (await res.json()) as StatsSnapshot;
  } catch {
    return null;
  }
}

/** Fail within `timeoutMs` with a sentence when nothing answers at `url`. */
export async function checkReachable(url: string, timeoutMs = 5000): Promise<void> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err;
    const code = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : codeOf(cause);
    throw new PushbenchError('PB_TARGET_UNREACHABLE', `cannot reach the target ${url} (${code}); is the server running and listening there?`);
  }
}

/** The /stats counters a run reports as deltas over its measured window. */
interface StatsDelta {
  cpuUs: number;
  bytesWritten: number;
  bytesRead: number;
  tcpAccepted: number;
  httpRequests: number;
  deliveredTotal: number;
  slowConsumerDrops: number;
}

function zeroStatsDelta(): StatsDelta {
  return { cpuUs: 0, bytesWritten: 0, bytesRead: 0, tcpAccepted: 0, httpRequests: 0, deliveredTotal: 0, slowConsumerDrops: 0 };
}

/** acc += b − a, field by field (a and b from the same server process). */
function addStatsDelta(acc: StatsDelta, a: StatsSnapshot, b: StatsSnapshot): void {
  acc.cpuUs += b.cpuUs.user + b.cpuUs.system - (a.cpuUs.user + a.cpuUs.system);
  acc.bytesWritten += b.bytesWritten - a.bytesWritten;
  acc.bytesRead += b.bytesRead - a.bytesRead;
  acc.tcpAccepted += b.tcpAccepted - a.tcpAccepted;
  acc.httpRequests += b.httpRequests - a.httpRequests;
  acc.deliveredTotal += b.deliveredTotal - a.deliveredTotal;
  acc.slowConsumerDrops += b.slowConsumerDrops - a.slowConsumerDrops;
}

interface SecondBucket {
  ticks: WorkerTick[];
  serverCpuPct: number | null;
  serverRssBytes: number | null;
  generatorCpuPct: number;
}

/** The slow consumers' figures, merged over the workers. */
function slowResult(slow: { share: number; readBytesPerS: number }, results: readonly WorkerResult[], serverDrops: number | null): SlowClientsResult {
  const parts = results.map((r) => r.slow).filter((x) => x !== undefined);
  const c = parts.map((p) => p.counters).reduce(addCounters, emptyCounters());
  const lat = percentiles(decodeHistogram(addEncoded(parts.map((p) => p.histograms.deliveryUs))));
  return {
    share: slow.share,
    readBytesPerS: slow.readBytesPerS,
    clients: parts.reduce((n, p) => n + p.clients, 0),
    delivered: c.delivered,
    lost: c.lost,
    duplicates: c.duplicates,
    reconnects: c.reconnects,
    errors: totalErrors(c),
    latencyUs: { p50: lat.p50, p99: lat.p99, max: lat.max },
    serverDrops,
  };
}

/** Merge the workers' per-fault tallies and read the recovery time off the timeline. */
function faultResults(
  faults: readonly FaultSpec[],
  injected: readonly { index: number; note: string }[],
  results: readonly WorkerResult[],
  timeline: readonly TimelinePoint[],
  warmupMs: number,
): FaultResult[] {
  return faults.map((f, i) => {
    const tallies = results.map((r) => r.faults[i]).filter((t) => t !== undefined);
    const detect = percentiles(decodeHistogram(addEncoded(tallies.map((t) => t.detectUs))));
    const reconnectHist = addEncoded(tallies.map((t) => t.reconnectUs));
    const reconnect = percentiles(decodeHistogram(reconnectHist));
    const sum = (k: 'disconnects' | 'lost' | 'duplicates' | 'resets' | 'recovered' | 'unrecovered') => tallies.reduce((n, t) => n + t[k], 0);
    const atS = f.atMs / 1000;
    const before = timeline.filter((p) => p.tS > warmupMs / 1000 + 1 && p.tS <= atS);
    const baseline = before.length ? before.reduce((n, p) => n + p.deliveriesPerS, 0) / before.length : 0;
    const over = atS + (f.durationMs ?? 0) / 1000;
    const back = baseline > 0 ? timeline.find((p) => p.tS > over && p.deliveriesPerS >= 0.9 * baseline) : undefined;
    return {
      fault: f.text,
      kind: f.kind,
      atS,
      injected: injected.find((x) => x.index === i)?.note ?? 'not injected (the run ended first)',
      disconnects: sum('disconnects'),
      detectUs: { count: detect.count, p50: detect.p50, p99: detect.p99, max: detect.max },
      reconnectUs: { count: reconnect.count, p50: reconnect.p50, p99: reconnect.p99, max: reconnect.max, histogram: reconnectHist },
      lost: sum('lost'),
      duplicates: sum('duplicates'),
      resets: sum('resets'),
      recovered: sum('recovered'),
      unrecovered: sum('unrecovered'),
      rateBackAfterS: back ? back.tS - atS : null,
    };
  });
}

/**
 * The proxy stands in for the kernel's network path (netem runs in softirq, ahead of every user
 * process), so it runs at a higher priority than the generator it shares CPUs with: a due chunk
 * then waits for the proxy's own work, not for the generator's. Needs CAP_SYS_NICE; without it the
 * proxy runs at the default priority and its lateness (judged per run) shows the cost.
 */
const PROXY_NICE = -10;
function raiseProxyPriority(pid: number): boolean {
  try {
    os.setPriority(pid, PROXY_NICE);
    return true;
  } catch {
    return false;
  }
}

/** The proxy's final stats from its last JSON stdout line (printed on SIGTERM); null when absent. */
function lastProxyStats(stdout: string[]): LatencyProxyStats | null {
  const last = [...stdout].reverse().find((l) => l.startsWith('{'));
  try {
    return last ? ((JSON.parse(last) as { stats?: LatencyProxyStats }).stats ?? null) : null;
  } catch {
    return null;
  }
}

/** Start the reference server a run of `s` measures, on `port` (0: any free one), pinned to `s.serverCpus`. */
export function spawnReferenceServer(s: RunSettings, port: number): Promise<Spawned> {
  const faults = s.faults ?? [];
  const args = [
    '--port', String(port), '--host', '127.0.0.1',
    // With a profile the generator publishes, so the server's own publisher stays off.
    '--rate', String(s.workload === 'chat' || s.targetProfile ? 0 : s.ratePerS),
    '--payload', String(s.payloadBytes),
    '--topics', String(Math.max(1, publisherTopics(s.workload, s.clients, s.topics))),
    '--ring', String(s.ringSize),
    '--delay', String(s.serverDelayMs),
    ...(faults.some((f) => f.kind !== 'blackhole') ? ['--admin'] : []),
    ...((s.serverProcs ?? 1) > 1 ? ['--server-procs', String(s.serverProcs)] : []),
    ...(s.serverArgs ?? []),
  ];
  return spawnTs(repoPath('servers/serve.ts'), args, {
    cpus: s.serverCpus,
    ready: /^pushbench listening on (http:\/\/\S+)/,
    what: 'the reference server',
  });
}

/** Run once; resolves with the record (complete: false when aborted). Throws PushbenchError on setup failures. */
export async function runOnce(s: RunSettings, hooks: RunHooks = {}): Promise<ResultRecord> {
  const log = hooks.log ?? (() => {});
  const startedAt = new Date().toISOString();
  const children: Spawned[] = [];
  let pool: Piscina | undefined;
  let publisher: PublisherThread | undefined;
  try {
    if (s.loadCpus) pinSelf(s.loadCpus);

    // Worker threads load (tsx, drivers) while the server and proxy start.
    const ownClients = shareClients(s.clients, s.share);
    const workers = Math.max(1, Math.min(s.workers, ownClients));
    pool = new Piscina({
      filename: new URL('./worker.ts', import.meta.url).href,
      execArgv: [...TSX_EXEC_ARGV],
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 60_000,
      atomics: 'disabled',
    });

    // 1. The server: the reference server as a pinned child, or the user's target.
    let serverUrl: string;
    let serverPid: number | null = s.serverPid;
    let reference = false;
    const faults = s.faults ?? [];
    let startServer: ((port: number) => Promise<Spawned>) | null = null;
    let serverChild: Spawned | null = null;
    if (s.target) {
      serverUrl = s.target.replace(/\/$/, '');
      await checkReachable(serverUrl);
      reference = (await fetchStats(serverUrl)) !== null;
    } else {
      startServer = (port: number) => spawnReferenceServer(s, port);
      const server = await startServer(0);
      serverChild = server;
      children.push(server);
      serverUrl = server.url;
      serverPid = server.pid;
      reference = true;
      log(`server: pid ${server.pid} at ${server.url}${s.serverCpus ? ` pinned to CPU ${s.serverCpus}` : ''}`);
    }

    // 2. The network between clients and server: a latency proxy for emulated profiles, in its
    // own process so its CPU is measured apart (it shares the generator's CPUs).
    let baseUrl = serverUrl;
    let proxyPid: number | null = null;
    let proxyChild: Spawned | null = null;
    if (s.proxy) {
      const target = new URL(serverUrl);
      const proxy = await spawnTs(repoPath('load/proxy-main.ts'), [
        '--target', `${target.hostname}:${target.port}`,
        '--delay', `${s.proxy.delayMs}ms`,
        '--jitter', `${s.proxy.jitterMs}ms`,
        ...(s.proxy.bandwidthBytesPerS ? ['--bandwidth', String(s.proxy.bandwidthBytesPerS)] : []),
      ], { cpus: s.loadCpus, ready: /^pushbench proxy listening on (http:\/\/\S+)/, what: 'the latency proxy', ipc: true });
      children.push(proxy);
      const raised = raiseProxyPriority(proxy.pid);
      baseUrl = proxy.url;
      proxyPid = proxy.pid;
      proxyChild = proxy;
      log(`proxy: pid ${proxy.pid} at ${proxy.url}, ${s.proxy.delayMs} ms ± ${s.proxy.jitterMs} ms each way${raised ? `, nice ${PROXY_NICE}` : ''}`);
    }

    // A profile target is probed before any load: a wrong profile fails here, in a sentence.
    // Its publisher thread loads meanwhile (share 0 of a multi-process generator publishes).
    // In chat the clients publish (each through the profile's publish request), not the generator.
    if (s.targetProfile && s.workload !== 'chat' && (s.share?.index ?? 0) === 0) publisher = new PublisherThread();
    if (s.targetProfile) await probeTarget(serverUrl, s.targetProfile, s.transport, { longPollTimeoutMs: s.longPollTimeoutMs, payloadBytes: s.payloadBytes });
    await publisher?.whenReady();

    // 3. The schedule (the worker threads were started first and loaded meanwhile).
    const rampUs = (s.clients / s.arrivalRatePerS) * 1e6;
    const t0Us = s.share?.t0Us ?? nowUs() + 300_000;
    const fromUs = t0Us + s.warmupMs * 1000;
    const toUs = t0Us + s.durationMs * 1000;
    const drainMs = Math.max(500, 2 * s.pollIntervalMs) + s.serverDelayMs + (s.proxy ? 4 * (s.proxy.delayMs + s.proxy.jitterMs) : 0);
    const closeAtUs = toUs + drainMs * 1000;
    const silenceUs = Math.max(2e6, 3 * s.pollIntervalMs * 1000, s.ratePerS > 0 ? 3e6 / s.ratePerS : 0) + s.serverDelayMs * 1000;
    const host = new URL(baseUrl).hostname;
    // the proxy judges its lateness over the measured window only, not the connection burst
    proxyChild?.child.send?.({ type: 'window', fromUs, toUs });
    const localAddresses = sourceAddresses(host, s.clients);

    const buckets = new Map<number, SecondBucket>();
    const bucket = (sec: number): SecondBucket => {
      let b = buckets.get(sec);
      if (!b) buckets.set(sec, (b = { ticks: [], serverCpuPct: null, serverRssBytes: null, generatorCpuPct: 0 }));
      return b;
    };
    const secOf = (tUs: number) => Math.round((tUs - t0Us) / 1e6);

    const ports: MessagePort[] = [];
    const tasks: Promise<WorkerResult>[] = [];
    for (let w = 0; w < workers; w++) {
      const clientIds: number[] = [];
      const stride = (s.share?.of ?? 1) * workers;
      for (let id = (s.share?.index ?? 0) + (s.share?.of ?? 1) * w; id < s.clients; id += stride) clientIds.push(id);
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (tick: WorkerTick) => bucket(secOf(tick.tUs)).ticks.push(tick));
      ports.push(port1 as unknown as MessagePort);
      const task: WorkerTask = {
        workerIndex: w, transport: s.transport, baseUrl, clientIds, totalClients: s.clients,
        workload: s.workload, topics: s.topics, ratePerS: s.ratePerS, payloadBytes: s.payloadBytes,
        t0Us, arrivalRatePerS: s.arrivalRatePerS, fromUs, toUs, closeAtUs,
        pollIntervalMs: s.pollIntervalMs, longPollTimeoutMs: s.longPollTimeoutMs,
        reconnectMinMs: 100, reconnectMaxMs: 5000, localAddresses, silenceUs, port: port2,
        faultsAtUs: faults.map((f) => t0Us + f.atMs * 1000),
        slowClients: s.slowClients ?? undefined,
        profile: s.targetProfile ?? undefined,
      };
      tasks.push(pool.run(task, { transferList: [port2] }) as Promise<WorkerResult>);
    }

    // A profile target is fed by the generator (share 0 of a multi-process one), straight to the
    // server (not through the proxy: the reference server's own publisher is not either).
    if (s.targetProfile && publisher) {
      const topics = Array.from({ length: publisherTopics(s.workload, s.clients, s.topics) }, (_, i) => topicOf(s.workload === 'fanout' ? 'fanout' : 'broadcast', i, s.topics));
      await publisher.start({ baseUrl: serverUrl, publish: s.targetProfile.publish, topics, ratePerS: s.ratePerS, payloadBytes: s.payloadBytes, startUs: t0Us, stopUs: toUs, judgeFromUs: fromUs });
    }

    // 4. Sampling: server /proc and /stats, generator /proc, one second apart; progress line.
    let aborted = false;
    const stop = () => {
      if (aborted) return;
      aborted = true;
      for (const p of ports) (p as unknown as import('node:worker_threads').MessagePort).postMessage({ type: 'stop' });
    };
    if (hooks.signal?.aborted) stop();
    hooks.signal?.addEventListener('abort', stop, { once: true });
    // A reference server that dies on its own (not killed by a restart fault) ends the run early:
    // there is nothing left to measure, and the record says why.
    let serverDied: string | null = null;
    const expectedExits = new Set<Spawned>();
    const watchServer = (c: Spawned) => {
      const died = (code: number | null, sig: NodeJS.Signals | null) => {
        if (expectedExits.has(c) || serverDied) return;
        const why = c.stderrTail().split('\n').filter(Boolean).at(-1);
        serverDied = `the reference server (pid ${c.pid}) exited during the run (${sig ?? `code ${code}`})${why ? `: ${why}` : ''}; partial result`;
        log(serverDied);
        stop();
      };
      if (c.child.exitCode !== null || c.child.signalCode !== null) died(c.child.exitCode, c.child.signalCode);
      else c.child.once('exit', died);
    };
    if (serverChild) watchServer(serverChild);

    // RSS per connection is measured against the server's RSS before any client connected.
    let prevServer = serverPid ? sampleProcessTree(serverPid) : null;
    const rssBaseline = prevServer?.rssBytes ?? 0;
    let prevSelf = sampleProcess(process.pid);
    let prevT = nowUs();
    // Written from timers, so kept in an object (TypeScript would narrow plain lets to null).
    const snap: { from: StatsSnapshot | null; to: StatsSnapshot | null } = { from: null, to: null };
    let procFrom = prevServer;
    let procTo = prevServer;
    let proxyFrom = proxyPid ? sampleProcess(proxyPid) : null;
    let proxyTo = proxyFrom;
    let rssMax = prevServer?.rssBytes ?? 0;
    let openMax = 0;
    const sampler = setInterval(() => {
      const t = nowUs();
      const dtUs = t - prevT;
      const sec = secOf(t);
      const b = bucket(sec);
      if (serverPid) {
        const cur = sampleProcessTree(serverPid);
        if (cur && prevServer) {
          b.serverCpuPct = (100 * (cur.cpuUs - prevServer.cpuUs)) / dtUs;
          b.serverRssBytes = cur.rssBytes;
          if (t >= fromUs && t <= toUs + 1e6) rssMax = Math.max(rssMax, cur.rssBytes);
        }
        prevServer = cur;
      }
      const self = sampleProcess(process.pid);
      if (self && prevSelf) b.generatorCpuPct = (100 * (self.cpuUs - prevSelf.cpuUs)) / dtUs;
      prevSelf = self;
      prevT = t;
      const last = buckets.get(sec - 1);
      const ticks = last?.ticks ?? [];
      const open = ticks.reduce((n, k) => n + k.open, 0);
      if (t >= fromUs && t <= toUs) openMax = Math.max(openMax, open);
      if (hooks.onProgress) {
        const p = progressPercentiles(ticks);
        const elapsedS = (t - t0Us) / 1e6;
        hooks.onProgress({
          name: s.name, transport: s.transport, elapsedS, totalS: (closeAtUs - t0Us) / 1e6,
          phase: t < t0Us + rampUs ? 'ramp' : t < fromUs ? 'warmup' : t < toUs ? 'measure' : 'drain',
          started: ticks.reduce((n, k) => n + k.started, 0), clients: s.clients, open,
          deliveriesPerS: ticks.reduce((n, k) => n + k.deliveries, 0), p50Us: p.p50, p99Us: p.p99,
          generatorElu: Math.max(0, ...ticks.map((k) => k.elu)), serverCpuPct: last?.serverCpuPct ?? null,
        });
      }
    }, 1000);
    const at = (tUs: number, fn: () => void) => setTimeout(fn, Math.max(0, (tUs - nowUs()) / 1000));
    const statsTimers = [
      at(fromUs, () => {
        procFrom = serverPid ? sampleProcessTree(serverPid) : null;
        proxyFrom = proxyPid ? sampleProcess(proxyPid) : null;
        if (reference) void fetchStats(serverUrl).then((x) => (snap.from = x));
      }),
      at(toUs, () => {
        procTo = serverPid ? sampleProcessTree(serverPid) : null;
        proxyTo = proxyPid ? sampleProcess(proxyPid) : null;
        if (reference) void fetchStats(serverUrl).then((x) => (snap.to = x));
      }),
    ];

    // 5. Faults. A server restart splits the server's counters into segments: what the old process
    // counted until it died is banked, and the new process is measured from its own start.
    const banked = { stats: zeroStatsDelta(), cpuUs: 0 };
    const faultLog: { index: number; firedUs: number; note: string }[] = [];
    const inject = async (f: FaultSpec, index: number) => {
      const firedUs = nowUs();
      try {
        if (f.kind === 'restart-server' && startServer && serverChild) {
          const port = Number(new URL(serverUrl).port);
          const last = await fetchStats(serverUrl);
          const lastProc = serverPid ? sampleProcessTree(serverPid) : null;
          if (snap.from && last) addStatsDelta(banked.stats, snap.from, last);
          if (procFrom && lastProc) banked.cpuUs += lastProc.cpuUs - procFrom.cpuUs;
          expectedExits.add(serverChild);
          serverChild.child.kill('SIGKILL');
          // The end of the old epoch, for counting what a reset client can never get back.
          for (const p of ports) (p as unknown as import('node:worker_threads').MessagePort).postMessage({ type: 'epoch-ended', index, atUs: nowUs() });
          await serverChild.stop();
          const next = await startServer(port);
          children.push(next);
          serverChild = next;
          watchServer(next);
          serverPid = next.pid;
          prevServer = sampleProcessTree(next.pid);
          procFrom = prevServer;
          snap.from = await fetchStats(serverUrl);
          faultLog.push({ index, firedUs, note: `server killed and restarted as pid ${next.pid}` });
        } else if (f.kind === 'cut-connections') {
          const res = await fetch(`${serverUrl}/admin/cut?fraction=${f.fraction}`, { method: 'POST' });
          faultLog.push({ index, firedUs, note: `cut ${((await res.json()) as { cut: number }).cut} connections` });
        } else if (f.kind === 'stall-server') {
          await fetch(`${serverUrl}/admin/stall?ms=${f.durationMs}`, { method: 'POST' });
          faultLog.push({ index, firedUs, note: `server event loop blocked for ${f.durationMs} ms` });
        } else if (f.kind === 'blackhole' && proxyChild) {
          proxyChild.child.send?.({ type: 'blackhole', ms: f.durationMs });
          faultLog.push({ index, firedUs, note: `proxy blackholed both ways for ${f.durationMs} ms` });
        }
        log(`fault ${f.text}: ${faultLog.at(-1)?.note ?? 'not applicable'}`);
      } catch (err) {
        faultLog.push({ index, firedUs, note: `injection failed: ${(err as Error).message}` });
        log(`fault ${f.text}: injection failed: ${(err as Error).message}`);
      }
    };
    const faultTimers = faults.map((f, i) => at(t0Us + f.atMs * 1000, () => void inject(f, i)));

    let results: WorkerResult[];
    try {
      results = await Promise.all(tasks);
    } finally {
      for (const c of children) expectedExits.add(c);
      clearInterval(sampler);
      for (const t of statsTimers) clearTimeout(t);
      for (const t of faultTimers) clearTimeout(t);
      hooks.signal?.removeEventListener('abort', stop);
    }
    const endedUs = nowUs();
    if (aborted && endedUs < toUs) {
      procTo = serverPid ? sampleProcessTree(serverPid) : null;
      proxyTo = proxyPid ? sampleProcess(proxyPid) : null;
      if (reference) snap.to = await fetchStats(serverUrl);
    } else if (reference && !snap.to) {
      snap.to = await fetchStats(serverUrl);
    }
    const statsFrom = snap.from;
    const statsTo = snap.to;

    // 5. Assemble the record.
    const counters = results.map((r) => r.counters).reduce(addCounters, emptyCounters());
    const hist = (k: keyof WorkerResult['histograms']) => addEncoded(results.map((r) => r.histograms[k]));
    const workerFigures: WorkerFigures[] = results.map((r) => ({ cpuUs: r.cpuUs, eluMean: r.eluMean, eluMax: r.eluMax, clients: r.clients }));
    const measuredToUs = Math.min(toUs, endedUs);
    let server: ServerFigures | null = null;
    if (procFrom && procTo) {
      const d = { ...banked.stats };
      if (statsFrom && statsTo) addStatsDelta(d, statsFrom, statsTo);
      const haveStats = statsFrom !== null && statsTo !== null;
      server = {
        // CPU from /stats (µs, process.cpuUsage) is finer than /proc's 10 ms ticks.
        cpuUs: haveStats ? d.cpuUs : banked.cpuUs + procTo.cpuUs - procFrom.cpuUs,
        rssBytesMax: Math.max(rssMax, procTo.rssBytes),
        rssBytesStart: rssBaseline || procFrom.rssBytes,
        bytesWritten: d.bytesWritten,
        bytesRead: d.bytesRead,
        connectionsAccepted: d.tcpAccepted,
        httpRequests: d.httpRequests,
        delivered: d.deliveredTotal,
        slowConsumerDrops: d.slowConsumerDrops,
        openConnectionsMax: Math.max(openMax, statsTo ? Object.values(statsTo.open).reduce((a, b) => a + b, 0) : 0),
      };
    }

    const timeline: TimelinePoint[] = [...buckets.entries()]
      .filter(([sec, b]) => sec >= 1 && b.ticks.length > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([sec, b]) => {
        const deliveryUs = addEncoded(b.ticks.map((k) => k.interval));
        const p = percentiles(decodeHistogram(deliveryUs));
        const samp = buckets.get(sec + 1);
        return {
          tS: sec,
          deliveryUs,
          openConnections: b.ticks.reduce((n, k) => n + k.open, 0),
          deliveriesPerS: b.ticks.reduce((n, k) => n + k.deliveries, 0),
          p50Us: p.p50,
          p99Us: p.p99,
          serverCpuPct: samp?.serverCpuPct ?? b.serverCpuPct,
          serverRssBytes: samp?.serverRssBytes ?? b.serverRssBytes,
          generatorCpuPct: samp?.generatorCpuPct ?? b.generatorCpuPct,
          generatorElu: Math.max(...b.ticks.map((k) => k.elu)),
        };
      });

    // 6. Validity: the harness must know its own error.
    const invalidReasons: string[] = [];
    if (serverDied) invalidReasons.push(serverDied);
    else if (aborted) invalidReasons.push(`interrupted after ${((endedUs - t0Us) / 1e6).toFixed(1)} s of ${(s.durationMs / 1000).toFixed(0)} s; partial result`);
    const measuredSecs = [...buckets.entries()].filter(([sec]) => sec * 1e6 + t0Us > fromUs && sec * 1e6 + t0Us <= measuredToUs);
    // Short polls back to back (closed loop, for the peak request rate) keep the loop busy by
    // design: a full loop is the expected state, so it is noted rather than judged invalid.
    const closedLoop = s.transport === 'short-poll' && s.pollIntervalMs === 0;
    const notes: string[] = [];
    for (let w = 0; w < workers; w++) {
      const elus = measuredSecs.map(([, b]) => b.ticks.find((k) => k.workerIndex === w)?.elu ?? 0);
      let run = 0;
      let worst = 0;
      for (const e of elus) {
        run = e > SATURATED_ELU ? run + 1 : 0;
        worst = Math.max(worst, run);
      }
      if (worst >= 2 && closedLoop) notes.push(`closed loop (--poll-interval 0): worker ${w} event-loop utilization above ${SATURATED_ELU * 100} % for ${worst} s, as intended — the request rate is the peak this generator and server reach together, and request latency includes the generator's own queueing`);
      else if (worst >= 2) invalidReasons.push(`generator saturated: worker ${w} event-loop utilization above ${SATURATED_ELU * 100} % for ${worst} s; the numbers measure the generator, not the server — use fewer clients or more --workers/--load-cpus`);
      const delays = measuredSecs.map(([, b]) => b.ticks.find((k) => k.workerIndex === w)?.loopDelayP99Ms ?? 0);
      const worstDelay = Math.max(0, ...delays);
      if (worstDelay > STALLED_LOOP_DELAY_MS) invalidReasons.push(`generator fell behind: worker ${w} event-loop delay p99 reached ${worstDelay.toFixed(0)} ms; deliveries were timestamped late`);
      if ((worst >= 2 && !closedLoop) || worstDelay > STALLED_LOOP_DELAY_MS) {
        const behind = measuredSecs.flatMap(([, b]) => b.ticks.filter((k) => k.workerIndex === w && (k.elu > SATURATED_ELU || k.loopDelayP99Ms > STALLED_LOOP_DELAY_MS)));
        const share = cpuShareWhileBusy(behind);
        if (share !== null && share < STARVED_CPU_SHARE) invalidReasons.push(`generator starved: in the seconds worker ${w} fell behind, its thread was on a CPU only ${(share * 100).toFixed(0)} % of the time its event loop was busy — other processes on the load CPUs (${s.loadCpus ?? 'not pinned'}) took the rest; measure on a quieter machine or give the generator CPUs of its own`);
      }
    }
    const publisherStats = publisher ? await publisher.close() : null;
    if (publisherStats) invalidReasons.push(...publisherProblems(publisherStats));
    if (s.ratePerS > 0 && counters.delivered === 0 && !aborted) invalidReasons.push('no message was delivered in the measured window');
    let proxyFigures: ProxyFigures | undefined;
    if (proxyChild) {
      const cpuPct = proxyFrom && proxyTo && measuredToUs > fromUs ? (100 * (proxyTo.cpuUs - proxyFrom.cpuUs)) / (measuredToUs - fromUs) : null;
      // The proxy prints its final stats on SIGTERM (lateness over the window set above).
      await proxyChild.stop();
      const judged = judgeProxy({ delayMs: s.proxy!.delayMs, cpuPct, stats: lastProxyStats(proxyChild.stdoutTail()), blackholed: faults.some((f) => f.kind === 'blackhole') });
      proxyFigures = judged.figures;
      if (!aborted) invalidReasons.push(...judged.invalidReasons);
    }

    const config: RunConfig = {
      transport: s.transport, workload: s.workload, clients: ownClients, durationMs: s.durationMs,
      warmupMs: s.warmupMs, ratePerS: s.ratePerS, payloadBytes: s.payloadBytes, topics: s.topics,
      pollIntervalMs: s.pollIntervalMs, longPollTimeoutMs: s.longPollTimeoutMs,
      arrivalRatePerS: s.arrivalRatePerS, network: s.network, target: s.target,
      serverDelayMs: s.serverDelayMs, workers,
      ...(s.targetProfile ? { profile: s.targetProfile.name } : {}),
    };
    const measuredMs = Math.max(0, (measuredToUs - fromUs) / 1000);
    const record = finishRecord({
      schema: SCHEMA,
      schemaVersion: SCHEMA_VERSION,
      name: s.name,
      complete: !aborted,
      startedAt,
      endedAt: new Date().toISOString(),
      config: aborted ? { ...config, durationMs: measuredMs + s.warmupMs } : config,
      environment: environment(s),
      histograms: { deliveryUs: hist('deliveryUs'), connectUs: hist('connectUs'), requestUs: hist('requestUs'), requestRawUs: hist('requestRawUs') },
      counters,
      server,
      generator: {
        workers: workerFigures,
        cpuUs: workerFigures.reduce((a, w) => a + w.cpuUs, 0),
        eluMax: Math.max(0, ...workerFigures.map((w) => w.eluMax)),
      },
      timeline,
      ...(closedLoop ? { closedLoop, notes } : {}),
      valid: invalidReasons.length === 0,
      invalidReasons,
    });
    // A fresh child server counted every drop of the run; a --target only the window's.
    const drops = !s.target && statsTo ? statsTo.slowConsumerDrops + banked.stats.slowConsumerDrops : (server?.slowConsumerDrops ?? null);
    if (s.slowClients) record.slowClients = slowResult(s.slowClients, results, drops);
    if (publisherStats) {
      record.publisher = { published: publisherStats.published, failed: publisherStats.failed, lateUs: { ...publisherStats.lateUs, max: publisherStats.maxLateUs } };
      log(`publisher: ${publisherStats.published} published, ${publisherStats.failed} failed; late against its schedule p50 ${(publisherStats.lateUs.p50 / 1000).toFixed(2)} ms, p99 ${(publisherStats.lateUs.p99 / 1000).toFixed(2)} ms`);
    }
    if (faults.length) record.faults = faultResults(faults, faultLog, results, timeline, s.warmupMs);
    if (proxyFigures) {
      record.proxy = proxyFigures;
      record.environment.network = `${s.network} (${formatProxyFigures(proxyFigures)})`;
    }
    return record;
  } finally {
    await publisher?.close();
    if (pool) await pool.destroy().catch(() => undefined);
    await Promise.all(children.map((c) => c.stop()));
  }
}
