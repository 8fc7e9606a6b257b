/**
 * One measured run: start (or reach) the server, pin server and generator apart, ramp clients
 * over piscina worker threads, sample resources every second, and assemble the result record.
 *
 * The runner never records a latency itself: workers send encoded histograms and counters, the
 * runner adds them. With settings.steps the run is a live staircase: the clients grow step by step
 * and each step's window becomes a record of its own (RunHooks.onStep). Everything it starts
 * (server, proxy, worker threads) it stops, also when the run is aborted (the record then says
 * `complete: false`).
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { nowUs, type StatsSnapshot } from '../core/wire.ts';
import { finishRecord, type ProxyFigures, type ResultRecord } from '../core/record.ts';
import { sampleCpus, sampleProcess, sampleProcessTree } from './resources.ts';
import { pinSelf, type Spawned } from '../core/spawn.ts';
import { assembleRecord, type RunFacts, type WindowPart } from './run/assemble.ts';
import type { SecondBucket } from './run/buckets.ts';
import { DEFAULT_GC_NOTE } from './run/diagnose.ts';
import { faultResults, slowResult } from './run/run-extras.ts';
import { TSX_EXEC_ARGV, generatorGcMode } from '../core/tsx.ts';
import { publisherTopics, topicOf } from './workload.ts';
import { progressPercentiles } from './progress.ts';
import type { FaultSpec } from './faults.ts';
import { formatProxyFigures, judgeProxy } from '../netem/proxy-validity.ts';
import type { ProcSample } from './resources.ts';
import type { WorkerResult, WorkerStep, WorkerTask, WorkerTick } from './worker.ts';
import { probeTarget } from './target/probe.ts';
import { publisherProblems } from './target/publisher.ts';
import { PublisherThread } from './target/publisher-thread.ts';
import { everySecond } from './seconds.ts';
import { traitsOf } from './drivers/index.ts';
import { shareClients, staircaseProblems, type RunHooks, type RunSettings } from './run/settings.ts';
import { countCpus, environment, sourceAddresses } from './run/machine.ts';
import { addStatsDelta, checkReachable, fetchStats, zeroStatsDelta } from './run/server-stats.ts';
import { PROXY_NICE, lastProxyStats, spawnLatencyProxy, spawnReferenceServer } from './run/children.ts';
import { measureWindows } from './run/schedule.ts';

// What callers import from here (the run's settings, the machine split, the server's /stats).
export type { Progress } from './progress.ts';
export type { ProxySpec } from '../netem/network.ts';
export type { GeneratorShare, LiveStep, RunHooks, RunSettings } from './run/settings.ts';
export { shareClients, staircaseProblems } from './run/settings.ts';
export { countCpus, defaultCpuSplit, environment, sourceAddresses } from './run/machine.ts';
export { checkReachable, isStatsSnapshot } from './run/server-stats.ts';
export { spawnReferenceServer } from './run/children.ts';
export { DEFAULT_GC_NOTE } from './run/diagnose.ts';

/** how long after the workers' tick the runner samples /proc (their ticks of the second are in by then) */
const SAMPLER_LAG_US = 50_000;

/** What one window's figures are taken from: samples at its edges, maxima sampled inside it. */
interface WindowMeter {
  procFrom: ProcSample | null;
  procTo: ProcSample | null;
  proxyFrom: ProcSample | null;
  proxyTo: ProcSample | null;
  statsFrom: StatsSnapshot | null;
  statsTo: StatsSnapshot | null;
  /** /stats requests under way for this window */
  fetches: Promise<void>[];
  rssMax: number;
  openMax: number;
}

/** Run once; resolves with the record (complete: false when aborted). Throws PushbenchError on setup failures. */
export async function runOnce(s: RunSettings, hooks: RunHooks = {}): Promise<ResultRecord> {
  const log = hooks.log ?? (() => {});
  const startedAt = new Date().toISOString();
  const children: Spawned[] = [];
  let pool: Piscina | undefined;
  let publisher: PublisherThread | undefined;
  const misuse = staircaseProblems(s);
  if (misuse.length) throw new Error(`runOnce: ${misuse.join('; ')}`);
  try {
    if (s.loadCpus) pinSelf(s.loadCpus);
    if (generatorGcMode() === 'default') log(DEFAULT_GC_NOTE);

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
      const { proxy, raised } = await spawnLatencyProxy(s.proxy, serverUrl, s.loadCpus);
      children.push(proxy);
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
    const t0Us = s.share?.t0Us ?? nowUs() + 300_000;
    const drainMs = Math.max(500, 2 * s.pollIntervalMs) + s.serverDelayMs + (s.proxy ? 4 * (s.proxy.delayMs + s.proxy.jitterMs) : 0);
    // One measured window, or one per step of a live staircase.
    const windows = measureWindows(s, t0Us, drainMs);
    const closeAtUs = windows[windows.length - 1].closeUs;
    const silenceUs = Math.max(2e6, 3 * s.pollIntervalMs * 1000, s.ratePerS > 0 ? 3e6 / s.ratePerS : 0) + s.serverDelayMs * 1000;
    const host = new URL(baseUrl).hostname;
    // the proxy judges its lateness over the measured window only, not the connection burst
    proxyChild?.child.send?.({ type: 'window', fromUs: windows[0].fromUs, toUs: windows[0].toUs });
    const localAddresses = sourceAddresses(host, s.clients);

    const buckets = new Map<number, SecondBucket>();
    const bucket = (sec: number): SecondBucket => {
      let b = buckets.get(sec);
      if (!b) buckets.set(sec, (b = { ticks: [], serverCpuPct: null, serverRssBytes: null, generatorCpuPct: 0, loadCpusBusyPct: null, loadCpusStealPct: null }));
      return b;
    };
    const secOf = (tUs: number) => Math.round((tUs - t0Us) / 1e6);

    // A staircase's steps arrive from every worker when their windows close; the step's record is
    // assembled once all workers sent theirs (see 5b).
    const stepParts = windows.map(() => [] as WorkerStep[]);
    let onWorkerStep = (_m: WorkerStep) => {};
    const ports: MessagePort[] = [];
    const tasks: Promise<WorkerResult>[] = [];
    for (let w = 0; w < workers; w++) {
      const clientIds: number[] = [];
      const stride = (s.share?.of ?? 1) * workers;
      for (let id = (s.share?.index ?? 0) + (s.share?.of ?? 1) * w; id < s.clients; id += stride) clientIds.push(id);
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (m: WorkerTick | WorkerStep) => (m.type === 'step' ? onWorkerStep(m) : bucket(secOf(m.tUs)).ticks.push(m)));
      ports.push(port1 as unknown as MessagePort);
      const task: WorkerTask = {
        workerIndex: w, transport: s.transport, baseUrl, clientIds, totalClients: s.clients,
        workload: s.workload, topics: s.topics, ratePerS: s.ratePerS, payloadBytes: s.payloadBytes,
        t0Us, arrivalRatePerS: s.arrivalRatePerS, fromUs: windows[0].fromUs, toUs: windows[0].toUs, closeAtUs,
        pollIntervalMs: s.pollIntervalMs, longPollTimeoutMs: s.longPollTimeoutMs,
        reconnectMinMs: 100, reconnectMaxMs: 5000, localAddresses, silenceUs, port: port2,
        faultsAtUs: faults.map((f) => t0Us + f.atMs * 1000),
        slowClients: s.slowClients ?? undefined,
        profile: s.targetProfile ?? undefined,
        ...(s.steps ? { steps: windows.map(({ clients, startUs, fromUs, toUs, closeUs }) => ({ clients, startUs, fromUs, toUs, closeUs })) } : {}),
      };
      tasks.push(pool.run(task, { transferList: [port2] }) as Promise<WorkerResult>);
    }

    // A profile target is fed by the generator (share 0 of a multi-process one), straight to the
    // server (not through the proxy: the reference server's own publisher is not either).
    if (s.targetProfile && publisher) {
      const topics = Array.from({ length: publisherTopics(s.workload, s.clients, s.topics) }, (_, i) => topicOf(s.workload === 'fanout' ? 'fanout' : 'broadcast', i, s.topics));
      await publisher.start({ baseUrl: serverUrl, publish: s.targetProfile.publish, topics, ratePerS: s.ratePerS, payloadBytes: s.payloadBytes, startUs: t0Us, stopUs: windows[0].toUs, judgeFromUs: windows[0].fromUs });
    }

    // 4. Sampling: server /proc and /stats, generator /proc, one second apart; progress line.
    let aborted = false;
    /** a staircase whose growth the caller ended (onStep returned false): not an interruption */
    let growthStopped = false;
    const tellWorkers = (message: { type: 'stop' } | { type: 'go'; index: number }) => {
      for (const p of ports) (p as unknown as import('node:worker_threads').MessagePort).postMessage(message);
    };
    const stopWorkers = () => tellWorkers({ type: 'stop' });
    const stop = () => {
      if (aborted || growthStopped) return;
      aborted = true;
      stopWorkers();
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
    let prevCpus = sampleCpus(s.loadCpus);
    let prevT = nowUs();
    const proxyStart = proxyPid ? sampleProcess(proxyPid) : null;
    // What each window's figures are taken from; written from timers.
    const meters: WindowMeter[] = windows.map(() => ({
      procFrom: prevServer, procTo: prevServer, proxyFrom: proxyStart, proxyTo: proxyStart,
      statsFrom: null, statsTo: null, fetches: [], rssMax: prevServer?.rssBytes ?? 0, openMax: 0,
    }));
    // On the workers' tick grid (load/seconds.ts), 50 ms after it: the CPU of second k is filed
    // with the workers' ticks of second k.
    const sampler = everySecond(t0Us, SAMPLER_LAG_US, () => {
      const t = nowUs();
      const dtUs = t - prevT;
      const sec = secOf(t);
      const b = bucket(sec);
      if (serverPid) {
        const cur = sampleProcessTree(serverPid);
        if (cur && prevServer) {
          b.serverCpuPct = (100 * (cur.cpuUs - prevServer.cpuUs)) / dtUs;
          b.serverRssBytes = cur.rssBytes;
          windows.forEach((w, i) => {
            if (t >= w.fromUs && t <= w.toUs + 1e6) meters[i].rssMax = Math.max(meters[i].rssMax, cur.rssBytes);
          });
        }
        prevServer = cur;
      }
      const self = sampleProcess(process.pid);
      if (self && prevSelf) b.generatorCpuPct = (100 * (self.cpuUs - prevSelf.cpuUs)) / dtUs;
      prevSelf = self;
      const cpus = sampleCpus(s.loadCpus);
      if (cpus && prevCpus) {
        b.loadCpusBusyPct = (100 * (cpus.busyUs - prevCpus.busyUs)) / dtUs;
        b.loadCpusStealPct = (100 * (cpus.stealUs - prevCpus.stealUs)) / dtUs;
      }
      prevCpus = cpus;
      prevT = t;
      const last = buckets.get(sec - 1);
      const ticks = last?.ticks ?? [];
      const open = ticks.reduce((n, k) => n + k.open, 0);
      windows.forEach((w, i) => {
        if (t >= w.fromUs && t <= w.toUs) meters[i].openMax = Math.max(meters[i].openMax, open);
      });
      if (hooks.onProgress) {
        const p = progressPercentiles(ticks);
        const elapsedS = (t - t0Us) / 1e6;
        const k = Math.max(0, windows.findIndex((w) => t < w.closeUs));
        const cw = windows[k];
        const rampUs = ((cw.clients - (k > 0 ? windows[k - 1].clients : 0)) / s.arrivalRatePerS) * 1e6;
        hooks.onProgress({
          name: cw.name, transport: s.transport, elapsedS, totalS: (closeAtUs - t0Us) / 1e6,
          phase: t < cw.startUs + rampUs ? 'ramp' : t < cw.fromUs ? 'warmup' : t < cw.toUs ? 'measure' : 'drain',
          started: ticks.reduce((n, k) => n + k.started, 0), clients: cw.clients, open,
          deliveriesPerS: ticks.reduce((n, k) => n + k.deliveries, 0), p50Us: p.p50, p99Us: p.p99,
          generatorElu: Math.max(0, ...ticks.map((k) => k.elu)), generatorLoopDelayP99Ms: Math.max(0, ...ticks.map((k) => k.loopDelayP99Ms)),
          serverCpuPct: last?.serverCpuPct ?? null,
        });
      }
    });
    const at = (tUs: number, fn: () => void) => setTimeout(fn, Math.max(0, (tUs - nowUs()) / 1000));
    const statsTimers = windows.flatMap((w, i) => {
      const m = meters[i];
      return [
        at(w.fromUs, () => {
          m.procFrom = serverPid ? sampleProcessTree(serverPid) : null;
          m.proxyFrom = proxyPid ? sampleProcess(proxyPid) : null;
          if (reference) m.fetches.push(fetchStats(serverUrl).then((x) => void (m.statsFrom = x)));
        }),
        at(w.toUs, () => {
          m.procTo = serverPid ? sampleProcessTree(serverPid) : null;
          m.proxyTo = proxyPid ? sampleProcess(proxyPid) : null;
          if (reference) m.fetches.push(fetchStats(serverUrl).then((x) => void (m.statsTo = x)));
        }),
      ];
    });

    // 5. Faults. A server restart splits the server's counters into segments: what the old process
    // counted until it died is banked, and the new process is measured from its own start.
    const banked = { stats: zeroStatsDelta(), cpuUs: 0 };
    const faultLog: { index: number; firedUs: number; note: string }[] = [];
    const inject = async (f: FaultSpec, index: number) => {
      const firedUs = nowUs();
      const m = meters[0];
      try {
        if (f.kind === 'restart-server' && startServer && serverChild) {
          const port = Number(new URL(serverUrl).port);
          const last = await fetchStats(serverUrl);
          const lastProc = serverPid ? sampleProcessTree(serverPid) : null;
          if (m.statsFrom && last) addStatsDelta(banked.stats, m.statsFrom, last);
          if (m.procFrom && lastProc) banked.cpuUs += lastProc.cpuUs - m.procFrom.cpuUs;
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
          m.procFrom = prevServer;
          m.statsFrom = await fetchStats(serverUrl);
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

    // Closed-loop short polls (--poll-interval 0) keep the loop busy by design: a full loop is the
    // expected state, so it is noted rather than judged invalid.
    const closedLoop = traitsOf(s.transport).pollInterval && s.pollIntervalMs === 0;

    const facts: RunFacts = { settings: s, t0Us, ownClients, workers, closedLoop, gcMode: generatorGcMode(), loadCpuCount: countCpus(s.loadCpus), rssBaseline };
    /** The record of window `i` before its summary (the caller may still add reasons). */
    const assemble = (i: number, parts: readonly WindowPart[], cut: boolean, endedUs: number, extraReasons: readonly string[] = []) => {
      const win = windows[i];
      return assembleRecord(facts, {
        window: win, parts, buckets, meter: meters[i], banked, cut, endedUs, serverDied, extraReasons, environment: environment(s),
        startedAt: s.steps ? new Date(Date.now() - (nowUs() - win.startUs) / 1000).toISOString() : startedAt,
        endedAt: new Date().toISOString(),
      });
    };
    /** The summarized record (validity from its reasons as they stand now). */
    const finished = (draft: Omit<ResultRecord, 'summary'>): ResultRecord =>
      finishRecord({ ...draft, endedAt: new Date().toISOString(), valid: draft.invalidReasons.length === 0 });

    // 5b. A staircase: each step's record as soon as every worker has closed its window; the hook
    // judges it and may end the growth (the clients then close, the run ends).
    const stepRecords: ResultRecord[] = [];
    let stepChain = Promise.resolve();
    onWorkerStep = (m) => {
      stepParts[m.index].push(m);
      if (stepParts[m.index].length < workers) return;
      stepChain = stepChain.then(async () => {
        if (aborted || growthStopped) return;
        await Promise.all(meters[m.index].fetches);
        const parts = [...stepParts[m.index]].sort((a, b) => a.workerIndex - b.workerIndex);
        const record = finished(assemble(m.index, parts, false, nowUs()));
        stepRecords.push(record);
        const more = hooks.onStep?.(record, m.index) !== false;
        if (m.index >= windows.length - 1 || aborted) return;
        if (more) {
          tellWorkers({ type: 'go', index: m.index + 1 });
        } else {
          growthStopped = true;
          stopWorkers();
        }
      });
    };

    let results: WorkerResult[];
    try {
      results = await Promise.all(tasks);
      if (s.steps) {
        // Step messages travel on the ports, results on piscina's channel: let the ports catch up.
        const posted = results.reduce((n, r) => n + (r.stepsPosted ?? 0), 0);
        const until = nowUs() + 2e6;
        while (stepParts.reduce((n, p) => n + p.length, 0) < posted && nowUs() < until) await new Promise((r) => setTimeout(r, 10));
        await stepChain;
      }
    } finally {
      for (const c of children) expectedExits.add(c);
      sampler.stop();
      for (const t of statsTimers) clearTimeout(t);
      for (const t of faultTimers) clearTimeout(t);
      hooks.signal?.removeEventListener('abort', stop);
    }
    const endedUs = nowUs();
    if (s.steps) {
      // The step an interruption cut short gets a partial record (complete: false), like a run.
      const cutIndex = stepRecords.length;
      if (cutIndex < windows.length && !growthStopped) {
        const m = meters[cutIndex];
        await Promise.all(m.fetches);
        if (endedUs < windows[cutIndex].toUs) {
          m.procTo = serverPid ? sampleProcessTree(serverPid) : null;
          m.proxyTo = proxyPid ? sampleProcess(proxyPid) : null;
          if (reference) m.statsTo = await fetchStats(serverUrl);
        }
        const parts = results.map((r) => ({ clients: r.clients, counters: r.counters, histograms: r.histograms }));
        const record = finished(assemble(cutIndex, parts, aborted, endedUs));
        stepRecords.push(record);
        hooks.onStep?.(record, cutIndex);
      }
      return stepRecords[stepRecords.length - 1];
    }
    const m = meters[0];
    if (aborted && endedUs < windows[0].toUs) {
      m.procTo = serverPid ? sampleProcessTree(serverPid) : null;
      m.proxyTo = proxyPid ? sampleProcess(proxyPid) : null;
      if (reference) m.statsTo = await fetchStats(serverUrl);
    } else if (reference && !m.statsTo) {
      m.statsTo = await fetchStats(serverUrl);
    }

    // 5. Assemble the record.
    const publisherStats = publisher ? await publisher.close() : null;
    const parts = results.map((r) => ({
      clients: r.clients, counters: r.counters, histograms: r.histograms,
      figures: { cpuUs: r.cpuUs, eluMean: r.eluMean, eluMax: r.eluMax, clients: r.clients },
    }));
    const draft = assemble(0, parts, aborted, endedUs, publisherStats ? publisherProblems(publisherStats) : []);
    let proxyFigures: ProxyFigures | undefined;
    if (proxyChild) {
      const { fromUs } = windows[0];
      const measuredToUs = Math.min(windows[0].toUs, endedUs);
      const cpuPct = m.proxyFrom && m.proxyTo && measuredToUs > fromUs ? (100 * (m.proxyTo.cpuUs - m.proxyFrom.cpuUs)) / (measuredToUs - fromUs) : null;
      // The proxy prints its final stats on SIGTERM (lateness over the window set above).
      await proxyChild.stop();
      const judged = judgeProxy({ delayMs: s.proxy!.delayMs, cpuPct, stats: lastProxyStats(proxyChild.stdoutTail()), blackholed: faults.some((f) => f.kind === 'blackhole') });
      proxyFigures = judged.figures;
      if (!aborted) draft.invalidReasons.push(...judged.invalidReasons);
    }
    const record = finished(draft);
    // A fresh child server counted every drop of the run; a --target only the window's.
    const drops = !s.target && m.statsTo ? m.statsTo.slowConsumerDrops + banked.stats.slowConsumerDrops : (record.server?.slowConsumerDrops ?? null);
    if (s.slowClients) record.slowClients = slowResult(s.slowClients, results, drops);
    if (publisherStats) {
      record.publisher = { published: publisherStats.published, failed: publisherStats.failed, lateUs: { ...publisherStats.lateUs, max: publisherStats.maxLateUs } };
      log(`publisher: ${publisherStats.published} published, ${publisherStats.failed} failed; late against its schedule p50 ${(publisherStats.lateUs.p50 / 1000).toFixed(2)} ms, p99 ${(publisherStats.lateUs.p99 / 1000).toFixed(2)} ms`);
    }
    if (faults.length) record.faults = faultResults(faults, faultLog, results, record.timeline, s.warmupMs);
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
