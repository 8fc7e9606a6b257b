/**
 * The child processes a run starts: the reference server it measures and the latency proxy that
 * emulates a network, each a TypeScript entry pinned with taskset.
 */
import os from 'node:os';
import { spawnTs, type Spawned } from '../../core/spawn.ts';
import type { CpuLimit } from '../../core/cpu-limit.ts';
import { repoPath } from '../../core/tsx.ts';
import type { LatencyProxyStats } from '../../netem/proxy.ts';
import type { ProxySpec } from '../../netem/network.ts';
import { publisherTopics } from '../workload.ts';
import type { RunSettings } from './settings.ts';

/**
 * Start the reference server a run of `s` measures, on `port` (0: any free one), pinned to
 * `s.serverCpus`; HTTPS with the TLS material in `tlsDir` (core/tls.ts) when given; in the cgroup
 * of `limit` (core/cpu-limit.ts) when given, from before it forks anything.
 */
export function spawnReferenceServer(s: RunSettings, port: number, tlsDir?: string, limit?: CpuLimit): Promise<Spawned> {
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
    ...(tlsDir ? ['--tls-dir', tlsDir] : []),
    ...(s.payloadKind ? ['--payload-kind', s.payloadKind] : []),
    ...(s.largeTopicBytes ? ['--large-topic', String(s.largeTopicBytes)] : []),
    ...(s.wsCompression ? ['--ws-compression'] : []),
    ...(s.tlsRecordBytes ? ['--tls-record-size', String(s.tlsRecordBytes)] : []),
    ...(s.serverArgs ?? []),
  ];
  return spawnTs(repoPath('servers/serve.ts'), args, {
    cpus: s.serverCpus,
    ready: /^pushbench listening on (https?:\/\/\S+)/,
    what: 'the reference server',
    bundle: true,
    ...(limit ? { onSpawn: (pid: number) => limit.add(pid) } : {}),
  });
}

/** The run log's line for the reference server `server` of `s`: where it listens, its processes, pinning and CPU limit. */
export function serverLogLine(server: Spawned, s: RunSettings, limit?: CpuLimit): string {
  const procs = s.serverProcs && s.serverProcs > 1 ? ` (${s.serverProcs} processes)` : '';
  const pinned = s.serverCpus ? ` pinned to CPU ${s.serverCpus}` : '';
  const limited = limit ? `, limited to ${limit.fraction} CPU (cgroup v${limit.version} ${limit.path})` : '';
  return `server: pid ${server.pid} at ${server.url}${procs}${pinned}${limited}`;
}

/**
 * The proxy stands in for the kernel's network path (netem runs in softirq, ahead of every user
 * process), so it runs at a higher priority than the generator it shares CPUs with: a due chunk
 * then waits for the proxy's own work, not for the generator's. Needs CAP_SYS_NICE; without it the
 * proxy runs at the default priority and its lateness (judged per run) shows the cost.
 */
export const PROXY_NICE = -10;
function raiseProxyPriority(pid: number): boolean {
  try {
    os.setPriority(pid, PROXY_NICE);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start the latency proxy in front of `serverUrl`, on the generator's CPUs (`loadCpus`), in a
 * process of its own so its CPU is measured apart; `raised`: it got {@link PROXY_NICE}.
 */
export async function spawnLatencyProxy(spec: ProxySpec, serverUrl: string, loadCpus: string | null): Promise<{ proxy: Spawned; raised: boolean }> {
  const target = new URL(serverUrl);
  const proxy = await spawnTs(repoPath('netem/proxy-main.ts'), [
    '--target', `${target.hostname}:${target.port}`,
    '--delay', `${spec.delayMs}ms`,
    '--jitter', `${spec.jitterMs}ms`,
    ...(spec.bandwidthBytesPerS ? ['--bandwidth', String(spec.bandwidthBytesPerS)] : []),
    ...(spec.link === 'browser' ? ['--link', 'browser'] : []),
    ...(spec.lossRate !== undefined ? ['--loss', String(spec.lossRate)] : []),
    ...(spec.lossBurst !== undefined ? ['--loss-burst', String(spec.lossBurst)] : []),
  ], { cpus: loadCpus, ready: /^pushbench proxy listening on (http:\/\/\S+)/, what: 'the latency proxy', ipc: true, bundle: true });
  return { proxy, raised: raiseProxyPriority(proxy.pid) };
}

/** The proxy's final stats from its last JSON stdout line (printed on SIGTERM); null when absent. */
export function lastProxyStats(stdout: string[]): LatencyProxyStats | null {
  const last = [...stdout].reverse().find((l) => l.startsWith('{'));
  try {
    return last ? ((JSON.parse(last) as { stats?: LatencyProxyStats }).stats ?? null) : null;
  } catch {
    return null;
  }
}
