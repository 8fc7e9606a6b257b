/**
 * A shard's clock against its target's. Delivery latency compares a timestamp the server made
 * (its CLOCK_MONOTONIC, answered by `GET /time`) with a receive time read on the shard's machine;
 * on two hosts those clocks differ by an unknown offset. Each shard estimates it NTP-style before
 * and after the run: of several probes, the one with the smallest round trip, whose server time
 * is taken to be read at the middle of it (true offset within ± RTT / 2 of the estimate). The run
 * is corrected by the estimate before it (RunSettings.serverClockShiftUs); the one after gives the
 * drift, and both widen the uncertainty merge judges against the run's p50.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import https from 'node:https';
import { nowUs } from '../core/wire.ts';
import type { ClockFacts } from '../core/record.ts';

/**
 * Probes per estimate, {@link PROBE_GAP_MS} apart: the smallest of 16 round trips spread over
 * ~0.3 s rides out the moments a busy machine (a process starting, a GC, another lane's run)
 * delays some, where probes 5 ms apart could all lie inside one such moment.
 */
export const CLOCK_PROBES = 16;
const PROBE_GAP_MS = 20;

/** One estimate: the server clock minus this machine's (µs) and the round trip it was read over. */
export interface ClockEstimate {
  offsetUs: number;
  rttUs: number;
}

/** `GET base/time` once on `agent`: its `nowUs`, or null when the target has no such endpoint. */
function timeOnce(base: URL, agent: http.Agent): Promise<number | null> {
  const get = base.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(new URL('/time', base), { agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(null);
        try {
          const v = (JSON.parse(body) as { nowUs?: unknown }).nowUs;
          resolve(typeof v === 'number' ? v : null);
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${base.origin}/time took more than 5 s`)));
    req.on('error', reject);
  });
}

/**
 * Estimate the target's clock offset from {@link CLOCK_PROBES} probes over one kept-alive
 * connection (the first pays the connect; the minimum skips it). `skewUs` emulates this machine's
 * clock reading that much ahead (tests): the server's answers are read `skewUs` earlier. Null when
 * the target answers no `/time` (a server of yours: its latency cannot be corrected across hosts).
 */
export async function estimateClock(target: string, skewUs = 0, probes = CLOCK_PROBES): Promise<ClockEstimate | null> {
  const base = new URL(target);
  const agent = new (base.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
  try {
    let best: ClockEstimate | null = null;
    for (let i = 0; i < probes; i++) {
      const sentUs = nowUs();
      const server = await timeOnce(base, agent);
      const backUs = nowUs();
      if (server === null) return null;
      const rttUs = backUs - sentUs;
      if (!best || rttUs < best.rttUs) best = { offsetUs: server - skewUs - (sentUs + backUs) / 2, rttUs };
      await sleep(PROBE_GAP_MS);
    }
    return best;
  } finally {
    agent.destroy();
  }
}

/** The record's clock figures from the estimates before and after the run (µs, rounded). */
export function clockFacts(before: ClockEstimate, after: ClockEstimate | null, skewUs: number): ClockFacts {
  const driftUs = after ? after.offsetUs - before.offsetUs : 0;
  const r = (x: number) => Math.round(x);
  return {
    offsetUs: r(before.offsetUs), rttUs: r(before.rttUs),
    ...(after ? { afterOffsetUs: r(after.offsetUs), afterRttUs: r(after.rttUs) } : {}),
    driftUs: r(driftUs),
    uncertaintyUs: r(Math.max(before.rttUs, after?.rttUs ?? 0) / 2 + Math.abs(driftUs)),
    ...(skewUs ? { emulatedSkewUs: skewUs } : {}),
  };
}
