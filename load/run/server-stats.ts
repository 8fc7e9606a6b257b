/**
 * The server's own counters (GET /stats on a pushbench server, or a --target that answers in
 * its shape): reading them, telling them from another answer, and their deltas over a window.
 */
import type { StatsSnapshot } from '../../core/wire.ts';
import { PushbenchError, codeOf } from '../../core/errors.ts';
import { controlFetch } from './control.ts';

/** The /stats snapshot at `url`; null when it does not answer, or not in the shape a run reads. */
export async function fetchStats(url: string): Promise<StatsSnapshot | null> {
  try {
    const res = await controlFetch(`${url}/stats`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return null;
    const body: unknown = await res.json();
    return isStatsSnapshot(body) ? body : null;
  } catch {
    return null;
  }
}

/**
 * Whether a /stats answer has the counters a run reads. A --target that is not a pushbench server
 * may answer /stats with anything (an SPA's index page, its own JSON, a catch-all handler): such a
 * server is measured without /stats, from /proc alone, as one without the path.
 */
export function isStatsSnapshot(x: unknown): x is StatsSnapshot {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const cpu = s.cpuUs as Record<string, unknown> | null | undefined;
  return (
    typeof cpu === 'object' && cpu !== null && num(cpu.user) && num(cpu.system) &&
    typeof s.open === 'object' && s.open !== null && Object.values(s.open).every(num) &&
    ['bytesWritten', 'bytesRead', 'tcpAccepted', 'httpRequests', 'deliveredTotal', 'slowConsumerDrops'].every((k) => num(s[k]))
  );
}

/** Fail within `timeoutMs` with a sentence when nothing answers at `url`. */
export async function checkReachable(url: string, timeoutMs = 5000): Promise<void> {
  try {
    await controlFetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err;
    const code = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : codeOf(cause);
    throw new PushbenchError('PB_TARGET_UNREACHABLE', `cannot reach the target ${url} (${code}); is the server running and listening there?`);
  }
}

/** The /stats counters a run reports as deltas over its measured window. */
export interface StatsDelta {
  cpuUs: number;
  bytesWritten: number;
  bytesRead: number;
  tcpAccepted: number;
  httpRequests: number;
  deliveredTotal: number;
  slowConsumerDrops: number;
}

export function zeroStatsDelta(): StatsDelta {
  return { cpuUs: 0, bytesWritten: 0, bytesRead: 0, tcpAccepted: 0, httpRequests: 0, deliveredTotal: 0, slowConsumerDrops: 0 };
}

/** acc += b − a, field by field (a and b from the same server process). */
export function addStatsDelta(acc: StatsDelta, a: StatsSnapshot, b: StatsSnapshot): void {
  acc.cpuUs += b.cpuUs.user + b.cpuUs.system - (a.cpuUs.user + a.cpuUs.system);
  acc.bytesWritten += b.bytesWritten - a.bytesWritten;
  acc.bytesRead += b.bytesRead - a.bytesRead;
  acc.tcpAccepted += b.tcpAccepted - a.tcpAccepted;
  acc.httpRequests += b.httpRequests - a.httpRequests;
  acc.deliveredTotal += b.deliveredTotal - a.deliveredTotal;
  acc.slowConsumerDrops += b.slowConsumerDrops - a.slowConsumerDrops;
}

/**
 * What a restarted server counted before it died (server faults): its /stats deltas and CPU
 * from the window's start to its last reading, added to the new process's own figures.
 */
export interface BankedServer {
  stats: StatsDelta;
  cpuUs: number;
}
