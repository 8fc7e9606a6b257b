/**
 * Whether the latency proxy emulated the network it was asked for, judged over the run's measured
 * window: by its CPU and by the distribution of its release lateness (how far past their due time
 * its own work pushed chunks), not by one worst chunk — a broadcast burst makes a few chunks late
 * by the time it takes to write to every socket, which says little; a lateness p99 that is a
 * sizeable part of the delay says the emulated network was not the configured one.
 */
import type { ProxyFigures } from '../core/record.ts';
import type { LatencyProxyStats } from './proxy.ts';

/** Proxy CPU over the window above this share of a core: saturated. */
export const PROXY_SATURATED_PCT = 90;
/** Lateness p99 above this share of the one-way delay: the proxy distorted the delay. */
export const PROXY_LATE_P99_SHARE = 0.5;
/** …but never judge below this: ms-grained timers and a shared CPU cannot promise a 1 ms delay ±0.5 ms. */
export const PROXY_LATE_P99_FLOOR_MS = 5;

/** The lateness p99 limit for a one-way delay, ms. */
export function proxyLatenessLimitMs(delayMs: number): number {
  return Math.max(PROXY_LATE_P99_FLOOR_MS, PROXY_LATE_P99_SHARE * delayMs);
}

/**
 * The proxy's figures for the record and the reasons (maybe none) the run is invalid because of it.
 * `stats` are the proxy's final stats (its lateness limited to the measured window), `cpuPct` its
 * CPU over that window (null when unknown). A blackhole releases its backlog in one burst by
 * design, so lateness is not judged then.
 */
export function judgeProxy(input: { delayMs: number; cpuPct: number | null; stats: LatencyProxyStats | null; blackholed: boolean }): { figures: ProxyFigures; invalidReasons: string[] } {
  const { delayMs, cpuPct, stats, blackholed } = input;
  const limitMs = proxyLatenessLimitMs(delayMs);
  const late = stats?.lateness;
  const figures: ProxyFigures = {
    cpuPct,
    releases: late?.releases ?? 0,
    latenessMs: late ? { p50: late.p50Ms, p99: late.p99Ms, max: late.maxMs } : null,
    latenessP99LimitMs: limitMs,
    maxLatenessWholeRunMs: stats?.maxLatenessMs ?? null,
    ...(stats?.lostChunks ? { lostChunks: stats.lostChunks.inWindow } : {}),
  };
  const invalidReasons: string[] = [];
  if (cpuPct !== null && cpuPct > PROXY_SATURATED_PCT) {
    invalidReasons.push(`latency proxy saturated: ${cpuPct.toFixed(0)} % of a core (limit ${PROXY_SATURATED_PCT} %); the added delay is no longer the configured one`);
  }
  if (!blackholed && late && late.p99Ms > limitMs) {
    // Low CPU with late releases: the proxy waited for a CPU, not for its own work.
    const why = cpuPct !== null && cpuPct < 50 ? `; its CPU was only ${cpuPct.toFixed(0)} %, so it was kept off the CPU (other processes on its CPUs), not overloaded by its own work` : '';
    invalidReasons.push(`latency proxy fell behind: release lateness p99 ${late.p99Ms.toFixed(1)} ms (p50 ${late.p50Ms.toFixed(1)} ms, max ${late.maxMs.toFixed(1)} ms) over the measured window, limit ${limitMs.toFixed(1)} ms (${PROXY_LATE_P99_SHARE * 100} % of the ${delayMs} ms delay)${why}`);
  }
  if (!stats) invalidReasons.push('latency proxy: its final stats were not received, so its lateness is unknown');
  return { figures, invalidReasons };
}

/** `proxy CPU 31 %, lateness p50 0.2 / p99 3.1 / max 9.0 ms` — for the environment line and the console. */
export function formatProxyFigures(f: ProxyFigures): string {
  const parts = [`proxy CPU ${f.cpuPct === null ? '?' : f.cpuPct.toFixed(0)} %`];
  if (f.latenessMs) parts.push(`lateness p50 ${f.latenessMs.p50.toFixed(1)} / p99 ${f.latenessMs.p99.toFixed(1)} / max ${f.latenessMs.max.toFixed(1)} ms (limit p99 ${f.latenessP99LimitMs.toFixed(1)} ms)`);
  if (f.lostChunks !== undefined) parts.push(`${f.lostChunks} pieces lost (held for a retransmission)`);
  return parts.join(', ');
}
