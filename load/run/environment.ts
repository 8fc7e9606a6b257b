/**
 * What a run measures and through what, up and down in one object: the reference server as a
 * pinned child (or the user's --target, reached and asked for /stats), the latency proxy of an
 * emulated network, and a profile target's publisher thread. Everything it started it stops in
 * {@link RunEnvironment.close}, also when the run failed half-way up.
 *
 * A reference server that dies on its own (not killed by a restart fault, not stopped by the run's
 * teardown) is reported once through the callback given to {@link RunEnvironment.watch}.
 */
import { rmSync } from 'node:fs';
import type { Spawned } from '../../core/spawn.ts';
import { CpuLimit } from '../../core/cpu-limit.ts';
import { newTlsFolder } from '../../core/tls.ts';
import type { ClientTls } from '../drivers/types.ts';
import type { PublishSchedule } from '../../core/wire.ts';
import { usableSchedule } from '../expected.ts';
import type { LatencyProxyStats } from '../../netem/proxy.ts';
import { probeTarget } from '../target/probe.ts';
import type { PublisherStats } from '../target/publisher.ts';
import { PublisherThread } from '../target/publisher-thread.ts';
import { publisherTopics, topicOf } from '../workload.ts';
import { PROXY_NICE, lastProxyStats, serverLogLine, spawnLatencyProxy, spawnReferenceServer } from './children.ts';
import type { SampledServer } from './sampler.ts';
import type { MeasureWindow, RunSchedule } from './schedule.ts';
import { checkReachable, fetchStats } from './server-stats.ts';
import { trust, untrust } from './control.ts';
import type { SettledRun } from './settings.ts';

export class RunEnvironment implements SampledServer {
  /** the server itself: the reference server's URL or the target's */
  serverUrl = '';
  /** where the clients connect: the proxy when there is one, else the server */
  baseUrl = '';
  /** whose CPU and memory the run samples (a --target's from --server-pid); null = unknown */
  serverPid: number | null;
  /** the server answers /stats (the reference server, or a target that does) */
  reference = false;
  proxyPid: number | null = null;
  /** the reason the reference server died during the run; null while it lives */
  serverDied: string | null = null;
  /** how the clients verify the server over TLS; undefined for plain HTTP */
  clientTls: ClientTls | undefined;
  /** the reference server's TLS material (made at start, shared by its restarts), removed at close */
  private tlsDir: string | undefined;
  /** the reference server's CPU limit (`--server-cpu-limit`), its restarts' too, removed at close */
  private cpuLimit: CpuLimit | undefined;
  private readonly children: Spawned[] = [];
  private serverChild: Spawned | null = null;
  private proxyChild: Spawned | null = null;
  private publisher: PublisherThread | undefined;
  private readonly expectedExits = new Set<Spawned>();
  private onDied: () => void = () => {};
  private closing: Promise<void> | undefined;
  /** the reference server's scheduled publisher, from its /stats (null: none, or no such /stats) */
  private serverSchedule: PublishSchedule | null = null;

  constructor(private readonly s: SettledRun, private readonly log: (line: string) => void) {
    this.serverPid = s.serverPid;
  }

  /** The server (started or reached), then the proxy in front of it, then a profile's publisher. */
  async up(): Promise<void> {
    await this.upServer();
    await this.upProxy();
    await this.upPublisher();
  }

  /** a reference server this run started (which a restart fault can kill and start again) */
  get canRestart(): boolean {
    return this.serverChild !== null;
  }

  /** The proxy judges its lateness over the measured window only, not the connection burst. */
  proxyJudges(w: MeasureWindow): void {
    this.proxyChild?.child.send?.({ type: 'window', fromUs: w.fromUs, toUs: w.toUs });
  }

  /** Start a profile target's publisher on the run's schedule (share 0 of a multi-process generator). */
  async startPublisher(plan: RunSchedule): Promise<void> {
    const s = this.s;
    if (!s.targetProfile || !this.publisher) return;
    // Straight to the server, not through the proxy: the reference server's own publisher is not either.
    const topics = Array.from({ length: publisherTopics(s.workload, s.clients, s.topics) }, (_, i) => topicOf(s.workload === 'fanout' ? 'fanout' : 'broadcast', i, s.topics, s.topicPrefix));
    const [w] = plan.windows;
    await this.publisher.start({ baseUrl: this.serverUrl, publish: s.targetProfile.publish, topics, ratePerS: s.ratePerS, payloadBytes: s.payloadBytes, startUs: plan.t0Us, stopUs: w.toUs, judgeFromUs: w.fromUs, run: s.runId, ca: this.clientTls?.ca });
  }

  /**
   * The timetable the run's clients are expected against (load/recorder.ts), or null: a profile's
   * generator publisher's (ProfilePublisher: message g at t0 + g / (topics × rate)), or the
   * reference server's scheduled publisher's from its /stats when it feeds every topic the run
   * subscribes to. None in chat (the clients publish) nor with a restart-server fault (the new
   * server keeps a timetable of its own; the fault's figures count what the restart cost).
   */
  timetable(plan: RunSchedule): PublishSchedule | null {
    const s = this.s;
    const topics = publisherTopics(s.workload, s.clients, s.topics);
    if (topics === 0 || s.ratePerS <= 0 || (s.faults ?? []).some((f) => f.kind === 'restart-server')) return null;
    if (s.targetProfile) return { firstUs: plan.t0Us, stepUs: 1e6 / (s.ratePerS * topics), topics };
    return usableSchedule(this.serverSchedule, topics) ? this.serverSchedule : null;
  }

  /** Report the reference server's death (once) through `onDied`, from now on. */
  watch(onDied: () => void): void {
    this.onDied = onDied;
    if (this.serverChild) this.watchChild(this.serverChild);
  }

  /**
   * Kill the reference server (SIGKILL) and start a new one on its port; `killed` runs between
   * the kill and the wait for the old process's exit. Resolves with the new server.
   */
  async restartServer(killed: () => void): Promise<Spawned> {
    const old = this.serverChild!;
    const port = Number(new URL(this.serverUrl).port);
    this.expectedExits.add(old);
    old.child.kill('SIGKILL');
    killed();
    await old.stop();
    const next = await spawnReferenceServer(this.s, port, this.tlsDir, this.cpuLimit);
    this.children.push(next);
    this.serverChild = next;
    this.watchChild(next);
    this.serverPid = next.pid;
    return next;
  }

  /** Stop every byte through the proxy both ways for `ms`; false without a proxy. */
  blackhole(ms: number | undefined): boolean {
    if (!this.proxyChild) return false;
    this.proxyChild.child.send?.({ type: 'blackhole', ms });
    return true;
  }

  /** From here on the children's exits are the run's teardown, not a death to report. */
  expectExits(): void {
    for (const c of this.children) this.expectedExits.add(c);
  }

  /** Stop the publisher; what it did (null without one). */
  async closePublisher(): Promise<PublisherStats | null> {
    return this.publisher ? await this.publisher.close() : null;
  }

  /** Stop the proxy, which prints its final stats on SIGTERM; null without a proxy. */
  async stopProxy(): Promise<{ stats: LatencyProxyStats | null } | null> {
    if (!this.proxyChild) return null;
    await this.proxyChild.stop();
    return { stats: lastProxyStats(this.proxyChild.stdoutTail()) };
  }

  /** Stop the publisher and every child process. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.publisher?.close();
      await Promise.all(this.children.map((c) => c.stop()));
      if (this.serverUrl) untrust(this.serverUrl);
      if (this.tlsDir) rmSync(this.tlsDir, { recursive: true, force: true });
      this.cpuLimit?.remove();
    })();
    return this.closing;
  }

  private async upServer(): Promise<void> {
    const s = this.s;
    if (s.target) {
      this.serverUrl = s.target.replace(/\/$/, '');
      if (s.tls) this.clientTls = { ca: s.ca };
      if (s.ca) trust(this.serverUrl, s.ca);
      await checkReachable(this.serverUrl);
      const stats = await fetchStats(this.serverUrl);
      this.reference = stats !== null;
      // the server's timetable on this machine's clock (a shard on another host: dist/clock.ts)
      const sched = stats?.schedule ?? null;
      this.serverSchedule = sched && { ...sched, firstUs: sched.firstUs + (s.serverClockShiftUs ?? 0) };
      return;
    }
    const ca = s.tls ? await this.makeTls() : undefined;
    if (s.serverCpuLimit !== undefined) this.cpuLimit = CpuLimit.create(s.serverCpuLimit);
    const server = await spawnReferenceServer(s, 0, this.tlsDir, this.cpuLimit);
    this.serverChild = server;
    this.children.push(server);
    this.serverUrl = server.url;
    if (ca !== undefined) {
      trust(server.url, ca);
      this.clientTls = { ca };
    }
    this.serverPid = server.pid;
    this.reference = true;
    this.serverSchedule = (await fetchStats(this.serverUrl))?.schedule ?? null;
    this.log(serverLogLine(server, s, this.cpuLimit));
  }

  /** The reference server's TLS material, made now into a private folder; its CA. */
  private async makeTls(): Promise<string> {
    const { dir, material } = await newTlsFolder();
    this.tlsDir = dir;
    return material.ca;
  }

  /** The network between clients and server: a latency proxy for emulated profiles (a TCP relay: TLS passes through). */
  private async upProxy(): Promise<void> {
    const s = this.s;
    this.baseUrl = this.serverUrl;
    if (!s.proxy) return;
    const { proxy, raised } = await spawnLatencyProxy(s.proxy, this.serverUrl, s.loadCpus);
    this.children.push(proxy);
    this.baseUrl = this.clientTls ? proxy.url.replace(/^http:/, 'https:') : proxy.url;
    this.proxyPid = proxy.pid;
    this.proxyChild = proxy;
    this.log(`proxy: pid ${proxy.pid} at ${proxy.url}, ${s.proxy.delayMs} ms ± ${s.proxy.jitterMs} ms each way${raised ? `, nice ${PROXY_NICE}` : ''}`);
  }

  /**
   * A profile target is probed before any load: a wrong profile fails here, in a sentence. Its
   * publisher thread loads meanwhile (share 0 of a multi-process generator publishes). In chat
   * the clients publish (each through the profile's publish request), not the generator.
   */
  private async upPublisher(): Promise<void> {
    const s = this.s;
    if (s.targetProfile && s.workload !== 'chat' && (s.share?.index ?? 0) === 0) this.publisher = new PublisherThread();
    if (s.targetProfile) await probeTarget(this.serverUrl, s.targetProfile, s.transport, { run: s.runId, longPollTimeoutMs: s.longPollTimeoutMs, payloadBytes: s.payloadBytes, tls: this.clientTls });
    await this.publisher?.whenReady();
  }

  private watchChild(c: Spawned): void {
    const died = (code: number | null, sig: NodeJS.Signals | null) => {
      if (this.expectedExits.has(c) || this.serverDied) return;
      const why = c.stderrTail().split('\n').filter(Boolean).at(-1);
      this.serverDied = `the reference server (pid ${c.pid}) exited during the run (${sig ?? `code ${code}`})${why ? `: ${why}` : ''}; partial result`;
      this.log(this.serverDied);
      this.onDied();
    };
    if (c.child.exitCode !== null || c.child.signalCode !== null) died(c.child.exitCode, c.child.signalCode);
    else c.child.once('exit', died);
  }
}
