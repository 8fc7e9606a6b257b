/**
 * The run's per-second sampler and its window edges: the server's CPU and memory (/proc over its
 * process tree) and counters (/stats), this process's CPU, the load CPUs' busy and stolen time,
 * and the live progress line. It samples on the workers' tick grid, SAMPLER_LAG_US after it, so
 * the CPU of second k is filed with the workers' ticks of second k (load/seconds.ts).
 *
 * Threading: runs on the runner's main thread from timers; nothing here blocks.
 */
import { nowUs } from '../../core/wire.ts';
import { sampleCpus, sampleProcess, sampleProcessTree, type CpuTimes, type ProcSample } from '../resources.ts';
import { SAMPLER_LAG_US, everySecond, timeoutAt, type SecondTimer } from '../seconds.ts';
import { progressPercentiles, type Progress } from '../progress.ts';
import type { WorkerTick } from '../worker-task.ts';
import { fetchStats } from './server-stats.ts';
import type { MeterReadings } from './assemble.ts';
import type { SecondBucket, SecondBuckets } from './buckets.ts';
import type { RunSchedule } from './schedule.ts';
import type { RunHooks, RunSettings } from './settings.ts';
import type { RunMetrics } from '../metrics-sink.ts';


/** A window's readings as the sampler writes them. */
export interface WindowMeter extends MeterReadings {
  /** /stats requests under way for this window */
  fetches: Promise<void>[];
}

/** What the sampler reads of the server side (a server fault may replace the server and its pid). */
export interface SampledServer {
  readonly serverPid: number | null;
  readonly proxyPid: number | null;
  /** the server answers /stats */
  readonly reference: boolean;
  readonly serverUrl: string;
}

export class RunSampler {
  /** each window's readings, written from timers */
  readonly meters: WindowMeter[];
  /** the server's RSS before any client connected: RSS per connection counts from here */
  readonly rssBaseline: number;
  private prevServer: ProcSample | null;
  private prevSelf: ProcSample | null;
  private prevCpus: CpuTimes | null;
  private prevT: number;
  private timer: SecondTimer | null = null;
  private edgeTimers: NodeJS.Timeout[] = [];

  /**
   * Takes the first readings (call once the workers are started, before any client connects);
   * `hooks.onProgress` gets the progress line, and `live` (the run's metrics) the same each second.
   */
  constructor(
    private readonly s: RunSettings,
    private readonly plan: RunSchedule,
    private readonly buckets: SecondBuckets,
    private readonly server: SampledServer,
    private readonly hooks: Pick<RunHooks, 'onProgress'>,
    private readonly live?: Pick<RunMetrics, 'second'>,
  ) {
    this.prevServer = server.serverPid ? sampleProcessTree(server.serverPid) : null;
    this.rssBaseline = this.prevServer?.rssBytes ?? 0;
    this.prevSelf = sampleProcess(process.pid);
    this.prevCpus = sampleCpus(s.loadCpus);
    this.prevT = nowUs();
    const proxyStart = server.proxyPid ? sampleProcess(server.proxyPid) : null;
    const first = this.prevServer;
    this.meters = plan.windows.map(() => ({
      procFrom: first, procTo: first, proxyFrom: proxyStart, proxyTo: proxyStart,
      statsFrom: null, statsTo: null, fetches: [], rssMax: first?.rssBytes ?? 0, openMax: 0,
    }));
  }

  /** Sample every second, and at each window's edges. */
  start(): void {
    this.timer = everySecond(this.plan.t0Us, SAMPLER_LAG_US, () => this.second());
    this.edgeTimers = this.plan.windows.flatMap((w, i) => [
      timeoutAt(w.fromUs, () => this.readFrom(i)),
      timeoutAt(w.toUs, () => {
        const fetch = this.readTo(i);
        if (fetch) this.meters[i].fetches.push(fetch);
      }),
    ]);
  }

  stop(): void {
    this.timer?.stop();
    for (const t of this.edgeTimers) clearTimeout(t);
  }

  /** A new server process (a restart fault): its CPU counts from `proc`. */
  rebase(proc: ProcSample | null): void {
    this.prevServer = proc;
  }

  /** Close window `i`'s readings now, where an interruption cut it (its /stats awaited). */
  async readCut(i: number): Promise<void> {
    await this.readTo(i);
  }

  /** Window `i`'s end /stats when its window-end reading has none (yet). */
  async fillStatsTo(i: number): Promise<void> {
    const m = this.meters[i];
    if (this.server.reference && !m.statsTo) m.statsTo = await fetchStats(this.server.serverUrl);
  }

  private readFrom(i: number): void {
    const m = this.meters[i];
    const { serverPid, proxyPid, reference, serverUrl } = this.server;
    m.procFrom = serverPid ? sampleProcessTree(serverPid) : null;
    m.proxyFrom = proxyPid ? sampleProcess(proxyPid) : null;
    if (reference) m.fetches.push(fetchStats(serverUrl).then((x) => void (m.statsFrom = x)));
  }

  /** Window `i`'s end readings; its /stats request under way (null without /stats). */
  private readTo(i: number): Promise<void> | null {
    const m = this.meters[i];
    const { serverPid, proxyPid, reference, serverUrl } = this.server;
    m.procTo = serverPid ? sampleProcessTree(serverPid) : null;
    m.proxyTo = proxyPid ? sampleProcess(proxyPid) : null;
    return reference ? fetchStats(serverUrl).then((x) => void (m.statsTo = x)) : null;
  }

  private second(): void {
    const t = nowUs();
    const dtUs = t - this.prevT;
    const sec = this.buckets.secOf(t);
    const b = this.buckets.at(sec);
    this.sampleServer(t, dtUs, b);
    this.sampleGenerator(dtUs, b);
    this.prevT = t;
    const last = this.buckets.bySec.get(sec - 1);
    const ticks = last?.ticks ?? [];
    const open = ticks.reduce((n, k) => n + k.open, 0);
    this.plan.windows.forEach((w, i) => {
      if (t >= w.fromUs && t <= w.toUs) this.meters[i].openMax = Math.max(this.meters[i].openMax, open);
    });
    if (!this.hooks.onProgress && !this.live) return;
    const p = progressAt(t, ticks, open, last?.serverCpuPct ?? null, this.s, this.plan);
    this.hooks.onProgress?.(p);
    this.live?.second(p);
  }

  private sampleServer(t: number, dtUs: number, b: SecondBucket): void {
    const { serverPid } = this.server;
    if (!serverPid) return;
    const cur = sampleProcessTree(serverPid);
    if (cur && this.prevServer) {
      b.serverCpuPct = (100 * (cur.cpuUs - this.prevServer.cpuUs)) / dtUs;
      b.serverRssBytes = cur.rssBytes;
      this.plan.windows.forEach((w, i) => {
        if (t >= w.fromUs && t <= w.toUs + 1e6) this.meters[i].rssMax = Math.max(this.meters[i].rssMax, cur.rssBytes);
      });
    }
    this.prevServer = cur;
  }

  private sampleGenerator(dtUs: number, b: SecondBucket): void {
    const self = sampleProcess(process.pid);
    if (self && this.prevSelf) b.generatorCpuPct = (100 * (self.cpuUs - this.prevSelf.cpuUs)) / dtUs;
    this.prevSelf = self;
    const cpus = sampleCpus(this.s.loadCpus);
    if (cpus && this.prevCpus) {
      b.loadCpusBusyPct = (100 * (cpus.busyUs - this.prevCpus.busyUs)) / dtUs;
      b.loadCpusStealPct = (100 * (cpus.stealUs - this.prevCpus.stealUs)) / dtUs;
    }
    this.prevCpus = cpus;
  }
}

/** The progress line at `t` from the last whole second's ticks (the window `t` is in, its phase). */
function progressAt(t: number, ticks: readonly WorkerTick[], open: number, serverCpuPct: number | null, s: RunSettings, plan: RunSchedule): Progress {
  const { t0Us, windows, closeAtUs } = plan;
  const p = progressPercentiles(ticks);
  const elapsedS = (t - t0Us) / 1e6;
  const k = Math.max(0, windows.findIndex((w) => t < w.closeUs));
  const cw = windows[k];
  const rampUs = ((cw.clients - (k > 0 ? windows[k - 1].clients : 0)) / s.arrivalRatePerS) * 1e6;
  return {
    name: cw.name, transport: s.transport, elapsedS, totalS: (closeAtUs - t0Us) / 1e6,
    phase: t < cw.startUs + rampUs ? 'ramp' : t < cw.fromUs ? 'warmup' : t < cw.toUs ? 'measure' : 'drain',
    started: ticks.reduce((n, k) => n + k.started, 0), clients: cw.clients, open,
    deliveriesPerS: ticks.reduce((n, k) => n + k.deliveries, 0), p50Us: p.p50, p99Us: p.p99,
    generatorElu: Math.max(0, ...ticks.map((k) => k.elu)), generatorLoopDelayP99Ms: Math.max(0, ...ticks.map((k) => k.loopDelayP99Ms)),
    serverCpuPct,
  };
}
