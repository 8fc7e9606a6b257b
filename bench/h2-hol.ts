/**
 * Part 3 of `npm run bench:h2` (issue #25): head-of-line effects of HTTP/2 under the latency
 * proxy. `sse-h2` at N streams per connection against `sse` at the same N, both `--tls`, behind a
 * proxy of `delay`/`jitter`/`bw`, with and without a slow tab in every browser; the delivery
 * p50/p99 of the other (fast) tabs, lost, valid, per round and as h2 ÷ h1 with the rounds' median
 * and spread.
 *
 * Equal capacity per browser: the proxy paces each connection on a link of its own (`bw=` is per
 * direction per connection, netem/proxy.ts). One HTTP/2 connection gets the browser's link
 * (`linkBytesPerS`); each of the N HTTP/1.1 connections gets linkBytesPerS ÷ N, so both browsers
 * have the same bytes per second. Broadcast loads every tab alike, so that split is the share each
 * connection would win on one shared link; what differs is that HTTP/2's tabs queue behind each
 * other's bytes on one TCP connection and one pacing link, and HTTP/1.1's do not. A browser's N
 * HTTP/1.1 connections on one real link would also share its queue; the proxy cannot model that.
 *
 * The slow tab: `--slow-clients` of share 1/N picks exactly one subscription in N, spread evenly
 * (load/worker-task.ts isSlowClient), and a generator thread fills its browsers with consecutive
 * subscriptions: with one generator thread (one load CPU) every browser holds one slow tab. Its
 * figures are recorded apart; the record's summary is the fast tabs'.
 *
 * Rounds alternate the order (sse first on even rounds) so the machine's drift lands on both.
 * A run the harness marked invalid prints its reason and gets no ratio; nothing is re-run.
 */
import type { ResultRecord } from '../core/record.ts';
import { formatUs } from '../core/units.ts';
import type { TransportName } from '../core/wire.ts';
import { median } from './pairs.ts';

export interface HolPlan {
  /** streams per connection (tabs per browser) */
  n: number;
  rounds: number;
  /** subscriptions; a multiple of n keeps every browser full */
  clients: number;
  durationMs: number;
  delayMs: number;
  jitterMs: number;
  /** one browser's link, bytes per second per direction */
  linkBytesPerS: number;
  payloadBytes: number;
  ratePerS: number;
  /** the slow tab's read rate, bytes per second */
  slowReadBytesPerS: number;
}

type Side = 'h1' | 'h2';
const TRANSPORT: Record<Side, TransportName> = { h1: 'sse', h2: 'sse-h2' };

/** The proxy's network for `side`: the browser's link whole for HTTP/2, split N ways for HTTP/1.1. */
export function holNetwork(p: HolPlan, side: Side): string {
  const bw = side === 'h2' ? p.linkBytesPerS : p.linkBytesPerS / p.n;
  return `delay=${p.delayMs}ms,jitter=${p.jitterMs}ms,bw=${Math.round(bw)}`;
}

/** `pushbench run` options of one side of one condition (the caller adds the pinning and --out). */
export function holArgs(p: HolPlan, side: Side, slow: boolean): string[] {
  const args = ['--tls', '--network', holNetwork(p, side), '--streams-per-connection', String(p.n), '--clients', String(p.clients),
    '--duration', `${p.durationMs}ms`, '--warmup', '1s', '--rate', String(p.ratePerS), '--topics', '1', '--payload', String(p.payloadBytes)];
  if (slow) args.push('--slow-clients', `${+(100 / p.n).toFixed(4)}%:${p.slowReadBytesPerS}/s`);
  return args;
}

/** One run's figures; null when it was invalid. */
interface Fig { p50: number; p99: number; lost: number }

const spread = (xs: readonly number[], show: (x: number) => string): string => {
  const m = median(xs);
  if (m === null) return '—';
  return xs.length > 1 ? `${show(m)} (${show(Math.min(...xs))}–${show(Math.max(...xs))})` : show(m);
};
const times = (x: number) => `${x.toFixed(2)}×`;

/**
 * Run the plan: for each condition (no slow tab, one slow tab per browser) `rounds` rounds of sse
 * and sse-h2 in turns; `run` makes one record. Writes one line per run and a summary table.
 */
export async function holPart(p: HolPlan, run: (t: TransportName, args: string[], name: string) => Promise<ResultRecord>, write: (line: string) => void): Promise<void> {
  const per = (side: Side) => Math.round(side === 'h2' ? p.linkBytesPerS : p.linkBytesPerS / p.n);
  write(`\n### 3. Head-of-line under the latency proxy: sse against sse-h2, ${p.n} tabs per browser, ${p.rounds} rounds\n`);
  write(`${p.clients} subscriptions (${p.clients / p.n} browsers), ${p.payloadBytes} B at ${p.ratePerS} msg/s broadcast, delay ${p.delayMs} ms ± ${p.jitterMs} ms each way; ` +
    `each browser's link ${p.linkBytesPerS} B/s: sse-h2's one connection ${per('h2')} B/s, each of sse's ${p.n} connections ${per('h1')} B/s. ` +
    `Slow tab: one in ${p.n} reads ${p.slowReadBytesPerS} B/s (its figures apart). Figures: the fast tabs' delivery latency.\n`);
  const rows: string[] = [];
  for (const slow of [false, true]) {
    const label = slow ? 'one slow tab per browser' : 'no slow tab';
    const figs: Record<Side, (Fig | null)[]> = { h1: [], h2: [] };
    for (let i = 0; i < p.rounds; i++) {
      const order: Side[] = i % 2 === 0 ? ['h1', 'h2'] : ['h2', 'h1'];
      for (const side of order) {
        const t = TRANSPORT[side];
        const r = await run(t, holArgs(p, side, slow), `hol-${t}-${slow ? 'slow' : 'even'}-r${i + 1}`);
        const s = r.slowClients;
        const slowNote = s ? `; slow tabs ${s.clients}, dropped by the server ${s.serverDrops ?? '—'}, their lost ${s.lost}` : '';
        write(`${label}, round ${i + 1}, ${t}: ${r.valid ? 'valid' : `INVALID (${r.invalidReasons.join('; ')})`}; p50 ${formatUs(r.summary.latencyUs.p50)}, p99 ${formatUs(r.summary.latencyUs.p99)}, lost ${r.summary.lost}, delivered ${r.summary.delivered}${slowNote}`);
        figs[side][i] = r.valid ? { p50: r.summary.latencyUs.p50, p99: r.summary.latencyUs.p99, lost: r.summary.lost } : null;
      }
    }
    for (const k of ['p50', 'p99'] as const) {
      const ratios: number[] = [];
      for (let i = 0; i < p.rounds; i++) {
        const a = figs.h1[i];
        const b = figs.h2[i];
        if (a && b && a[k] > 0) ratios.push(b[k] / a[k]);
      }
      const of = (side: Side) => figs[side].filter((f): f is Fig => f !== null).map((f) => f[k] / 1000);
      const ms = (x: number) => `${x.toFixed(1)} ms`;
      rows.push(`| ${label} | ${k} | ${spread(of('h1'), ms)} | ${spread(of('h2'), ms)} | ${spread(ratios, times)} | ${ratios.length} |`);
    }
    const lost = (side: Side) => figs[side].reduce((sum, f) => sum + (f?.lost ?? 0), 0);
    const valid = (side: Side) => figs[side].filter((f) => f !== null).length;
    rows.push(`| ${label} | lost (valid runs) | ${lost('h1')} (${valid('h1')} of ${p.rounds}) | ${lost('h2')} (${valid('h2')} of ${p.rounds}) | | |`);
  }
  write('\nMedian of the rounds (min–max):\n');
  write('| condition | fast tabs | sse | sse-h2 | sse-h2 ÷ sse per round | rounds |');
  write('|---|---|--:|--:|--:|--:|');
  for (const row of rows) write(row);
}
