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
 * HTTP/1.1 connections on one real link would also share its queue; the large-tab case below
 * models that with `link=browser`.
 *
 * The slow tab: `--slow-clients` of share 1/N picks exactly one subscription in N, spread evenly
 * (load/worker-task.ts isSlowClient), and a generator thread fills its browsers with consecutive
 * subscriptions: with one generator thread (one load CPU) every browser holds one slow tab. Its
 * figures are recorded apart; the record's summary is the fast tabs'. `even-shared` and
 * `slow-shared` run the same on the browser's whole link with `link=browser`, so HTTP/1.1's tabs
 * share one link's queue instead of a tenth of it each. `even-shared-records` is `even-shared` with
 * the server's TLS records cut to about a segment (`--tls-record-size`): HTTP/2 writes the tabs'
 * frames in one go, and a receiver reads none of a record's frames before its last byte.
 *
 * The large tab (`--large-topic`): N topics, tab k of every browser on topic t(k) (a generator
 * thread's browser is N consecutive ids, id i subscribes t(i mod N)), t0's messages `largeBytes`,
 * the others' `smallBytes`, at `largeRatePerS`; against the same run with every topic small. The
 * publisher interleaves the topics, one message every 1 / (N · rate), so over HTTP/2 a small message
 * written while t0's is still on the link waits for its end. Here every connection gets the whole
 * browser link, on both sides: split N ways, HTTP/1.1's large tab would have a tenth of the link
 * for a load that must queue on HTTP/2's whole link to show at all (t0's transmission longer than
 * the gap to the next message is exactly the large tab overrunning its tenth). So HTTP/1.1 is its
 * best case, each tab a link of its own, as if the small tabs' few bytes did not share a real
 * link with the large one; the large tab's own figures are recorded apart. The same two cases on
 * `link=browser` (both sides: for sse-h2 it changes nothing, one connection per browser) give
 * HTTP/1.1's browser one link for its N connections, whose FIFO queue the small tabs' messages
 * then wait in behind the large tab's bytes, as HTTP/2's streams do on its one connection.
 *
 * The lossy case (`small-shared-loss`): every tab small on `link=browser`, with `loss=` (netem/
 * loss.ts): a lost message and everything after it on its TCP connection arrive a retransmission
 * delay late. Over HTTP/2 that connection is all N tabs'; over HTTP/1.1 one tab's. The interleaved
 * topics put each message in a write of its own, one segment, on both sides, so both lose as many
 * messages; what differs is how many others wait behind each loss, and for how long (a busy
 * connection reveals a loss sooner: netem/loss.ts). p90 is shown too: the share of messages held
 * decides which percentile a loss moves. `small-shared-burst` is the same with the losses in runs
 * (`burst=`): one run on a browser's link can hit several of HTTP/1.1's connections at once.
 * `large-shared-loss` puts the large tab on that lossy link: a 64 KB message spans 46 segments, so
 * at 1 % about a third of them lose one, and over HTTP/2 the other tabs wait for its repair. For
 * the lossy cases the bench also prints the share of messages held (over the one-way delay plus 50
 * and plus 100 ms: a lost message's hold is at least 1.25 round trips, 62.5 ms at 25 ms), those
 * held per lost piece, and the mean.
 *
 * Rounds alternate the order (sse first on even rounds) so the machine's drift lands on both.
 * A run the harness marked invalid prints its reason and gets no ratio; nothing is re-run.
 */
import type { ResultRecord } from '../core/record.ts';
import { formatUs } from '../core/units.ts';
import { countsAtOrBelow, decodeHistogram } from '../core/histogram.ts';
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
  /** the large-tab case: the other tabs' data bytes, the large tab's, and the rate of every topic */
  smallBytes: number;
  largeBytes: number;
  largeRatePerS: number;
  /** `even-shared-records`: the server's TLS record size, bytes (both sides) */
  smallRecordBytes: number;
  /** the lossy cases' per-segment loss, %, and the bursty one's mean segments per loss run */
  lossPercent: number;
  lossBurst: number;
  /** which conditions to run, by key ({@link HOL_CASES}); absent: all */
  cases?: readonly string[];
}

/** Part 3's conditions by key: even and slow tabs on split links; small and large tabs on a link per connection, or per browser. */
export const HOL_CASES = Object.freeze(['even', 'slow', 'even-shared', 'slow-shared', 'even-shared-records', 'small', 'large', 'small-shared', 'large-shared', 'small-shared-loss', 'small-shared-burst', 'large-shared-loss']);

type Side = 'h1' | 'h2';
const TRANSPORT: Record<Side, TransportName> = { h1: 'sse', h2: 'sse-h2' };

/**
 * The proxy's network for `side`: the browser's link whole for HTTP/2, split N ways for HTTP/1.1;
 * with `shared`, the browser's link whole on both, HTTP/1.1's connections sharing it (`link=browser`).
 */
export function holNetwork(p: HolPlan, side: Side, shared = false): string {
  const bw = side === 'h2' || shared ? p.linkBytesPerS : p.linkBytesPerS / p.n;
  return `delay=${p.delayMs}ms,jitter=${p.jitterMs}ms,bw=${Math.round(bw)}${shared ? ',link=browser' : ''}`;
}

/** `pushbench run` options of one side of one condition (the caller adds the pinning and --out). */
export function holArgs(p: HolPlan, side: Side, slow: boolean, shared = false): string[] {
  const args = ['--tls', '--network', holNetwork(p, side, shared), '--streams-per-connection', String(p.n), '--clients', String(p.clients),
    '--duration', `${p.durationMs}ms`, '--warmup', '1s', '--rate', String(p.ratePerS), '--topics', '1', '--payload', String(p.payloadBytes)];
  if (slow) args.push('--slow-clients', `${+(100 / p.n).toFixed(4)}%:${p.slowReadBytesPerS}/s`);
  return args;
}

/**
 * `pushbench run` options of one side of the large-tab case: N topics, one per tab; with `large`
 * t0 carries largeBytes. Every connection gets the browser's whole link (see the header); with
 * `shared` a browser's connections share it (`link=browser`); `loss` adds `loss=`, each segment
 * lost on its own or (`burst`) in runs of `burst=`.
 */
export function holLargeArgs(p: HolPlan, large: boolean, shared = false, loss?: 'independent' | 'burst'): string[] {
  const lossy = loss ? `,loss=${p.lossPercent}%${loss === 'burst' ? `,burst=${p.lossBurst}` : ''}` : '';
  const network = `delay=${p.delayMs}ms,jitter=${p.jitterMs}ms,bw=${p.linkBytesPerS}${shared ? ',link=browser' : ''}${lossy}`;
  const args = ['--tls', '--network', network, '--streams-per-connection', String(p.n), '--clients', String(p.clients),
    '--duration', `${p.durationMs}ms`, '--warmup', '1s', '--rate', String(p.largeRatePerS), '--topics', String(p.n), '--payload', String(p.smallBytes), '--workers', '1'];
  if (large) args.push('--large-topic', String(p.largeBytes));
  return args;
}

/** One run's figures; null when it was invalid. `held`: with loss, the shares over the delay + 50 and + 100 ms, per lost piece, the mean. */
interface Fig { p50: number; p90: number; p99: number; lost: number; held?: Held }
interface Held { over50: number; over100: number; perLostPiece: number; meanUs: number }

/** A run's costs besides latency: bytes on the wire and server CPU per message, the proxy's CPU and lateness p99. */
function costs(r: ResultRecord): string {
  const { bytesPerMessage: b, serverCpuUsPerMessage: cpu } = r.summary;
  const proxy = r.proxy ? `, proxy CPU ${r.proxy.cpuPct?.toFixed(0) ?? '—'} %, lateness p99 ${r.proxy.latenessMs?.p99.toFixed(1) ?? '—'} ms` : '';
  return `${b === null ? '—' : b.toFixed(0)} B/msg, server ${cpu === null ? '—' : cpu.toFixed(1)} µs/msg${proxy}`;
}

/** A lossy run's held messages from its delivery histogram (see the header); undefined without loss. */
function heldFigures(r: ResultRecord, delayMs: number): Held | undefined {
  const lostPieces = r.proxy?.lostChunks;
  if (lostPieces === undefined) return undefined;
  const { atOrBelow, count, sumUs } = countsAtOrBelow(decodeHistogram(r.histograms.deliveryUs), [(delayMs + 50) * 1000, (delayMs + 100) * 1000]);
  if (count === 0) return undefined;
  return { over50: 1 - atOrBelow[0] / count, over100: 1 - atOrBelow[1] / count, perLostPiece: lostPieces > 0 ? (count - atOrBelow[0]) / lostPieces : 0, meanUs: sumUs / count };
}

const spread = (xs: readonly number[], show: (x: number) => string): string => {
  const m = median(xs);
  if (m === null) return '—';
  return xs.length > 1 ? `${show(m)} (${show(Math.min(...xs))}–${show(Math.max(...xs))})` : show(m);
};
const times = (x: number) => `${x.toFixed(2)}×`;

/** One condition of the part: its row label, its records' name, each side's run options. */
interface Condition { label: string; key: string; args: (side: Side) => string[] }

/**
 * Run the plan: for each condition (no slow tab, one slow tab per browser; every tab small, one
 * large tab per browser) `rounds` rounds of sse and sse-h2 in turns; `run` makes one record.
 * Writes one line per run and a summary table.
 */
export async function holPart(p: HolPlan, run: (t: TransportName, args: string[], name: string) => Promise<ResultRecord>, write: (line: string) => void): Promise<void> {
  const per = (side: Side) => Math.round(side === 'h2' ? p.linkBytesPerS : p.linkBytesPerS / p.n);
  write(`\n### 3. Head-of-line under the latency proxy: sse against sse-h2, ${p.n} tabs per browser, ${p.rounds} rounds\n`);
  write(`${p.clients} subscriptions (${p.clients / p.n} browsers), delay ${p.delayMs} ms ± ${p.jitterMs} ms each way. ` +
    `Slow tab: ${p.payloadBytes} B at ${p.ratePerS} msg/s broadcast on 1 topic; each browser's link ${p.linkBytesPerS} B/s: sse-h2's one connection ${per('h2')} B/s, each of sse's ${p.n} connections ${per('h1')} B/s; ` +
    `one tab in ${p.n} reads ${p.slowReadBytesPerS} B/s (its figures apart). ` +
    `Large tab: ${p.n} topics at ${p.largeRatePerS} msg/s, tab k of each browser on t(k), t0's messages ${p.largeBytes} B (its figures apart) against ${p.smallBytes} B on every topic; every connection ${p.linkBytesPerS} B/s on both sides, or (one link per browser) each browser's connections sharing ${p.linkBytesPerS} B/s. ` +
    `Lossy: every tab ${p.smallBytes} B on one link per browser, loss ${p.lossPercent} % per segment (a lost piece holds its connection), each lost on its own or in runs of ${p.lossBurst} segments on average on the browser's link. ` +
    'Figures: the other (fast) tabs\' delivery latency.\n');
  const all: Condition[] = [
    { label: 'no slow tab', key: 'even', args: (side) => holArgs(p, side, false) },
    { label: 'one slow tab per browser', key: 'slow', args: (side) => holArgs(p, side, true) },
    { label: 'no slow tab, one link per browser', key: 'even-shared', args: (side) => holArgs(p, side, false, true) },
    { label: 'one slow tab per browser, one link per browser', key: 'slow-shared', args: (side) => holArgs(p, side, true, true) },
    { label: `no slow tab, one link per browser, TLS records of ${p.smallRecordBytes} B`, key: 'even-shared-records', args: (side) => [...holArgs(p, side, false, true), '--tls-record-size', String(p.smallRecordBytes)] },
    { label: `every tab ${p.smallBytes} B`, key: 'small', args: () => holLargeArgs(p, false) },
    { label: `one ${p.largeBytes} B tab per browser`, key: 'large', args: () => holLargeArgs(p, true) },
    { label: `every tab ${p.smallBytes} B, one link per browser`, key: 'small-shared', args: () => holLargeArgs(p, false, true) },
    { label: `one ${p.largeBytes} B tab per browser, one link per browser`, key: 'large-shared', args: () => holLargeArgs(p, true, true) },
    { label: `every tab ${p.smallBytes} B, one link per browser, loss ${p.lossPercent} %`, key: 'small-shared-loss', args: () => holLargeArgs(p, false, true, 'independent') },
    { label: `every tab ${p.smallBytes} B, one link per browser, loss ${p.lossPercent} % in runs of ${p.lossBurst}`, key: 'small-shared-burst', args: () => holLargeArgs(p, false, true, 'burst') },
    { label: `one ${p.largeBytes} B tab per browser, one link per browser, loss ${p.lossPercent} %`, key: 'large-shared-loss', args: () => holLargeArgs(p, true, true, 'independent') },
  ];
  const conditions = all.filter((c) => p.cases === undefined || p.cases.includes(c.key));
  const rows: string[] = [];
  for (const c of conditions) {
    const figs: Record<Side, (Fig | null)[]> = { h1: [], h2: [] };
    for (let i = 0; i < p.rounds; i++) {
      const order: Side[] = i % 2 === 0 ? ['h1', 'h2'] : ['h2', 'h1'];
      for (const side of order) {
        const t = TRANSPORT[side];
        const r = await run(t, c.args(side), `hol-${t}-${c.key}-r${i + 1}`);
        const s = r.slowClients;
        const l = r.largeTopic;
        const apart = s ? `; slow tabs ${s.clients}, dropped by the server ${s.serverDrops ?? '—'}, their delivered ${s.delivered}, lost ${s.lost}, p50 ${formatUs(s.latencyUs.p50)}`
          : l ? `; large tabs ${l.clients}, their p50 ${formatUs(l.latencyUs.p50)}, p99 ${formatUs(l.latencyUs.p99)}, lost ${l.lost}, delivered ${l.delivered}` : '';
        write(`${c.label}, round ${i + 1}, ${t}: ${r.valid ? 'valid' : `INVALID (${r.invalidReasons.join('; ')})`}; p50 ${formatUs(r.summary.latencyUs.p50)}, p90 ${formatUs(r.summary.latencyUs.p90)}, p99 ${formatUs(r.summary.latencyUs.p99)}, lost ${r.summary.lost}, delivered ${r.summary.delivered}${apart}${r.proxy?.lostChunks !== undefined ? `; pieces lost ${r.proxy.lostChunks}` : ''}; ${costs(r)}`);
        const { p50, p90, p99 } = r.summary.latencyUs;
        figs[side][i] = r.valid ? { p50, p90, p99, lost: r.summary.lost, held: heldFigures(r, p.delayMs) } : null;
      }
    }
    rows.push(...conditionRows(c.label, figs, p.rounds));
  }
  write('\nMedian of the rounds (min–max):\n');
  write('| condition | fast tabs | sse | sse-h2 | sse-h2 ÷ sse per round | rounds |');
  write('|---|---|--:|--:|--:|--:|');
  for (const row of rows) write(row);
}

/** A condition's table rows: p50, p90 and p99 on each side with the per-round ratio, and what was lost. */
function conditionRows(label: string, figs: Record<Side, (Fig | null)[]>, rounds: number): string[] {
  const rows: string[] = [];
  for (const k of ['p50', 'p90', 'p99'] as const) {
    const ratios: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const a = figs.h1[i];
      const b = figs.h2[i];
      if (a && b && a[k] > 0) ratios.push(b[k] / a[k]);
    }
    const of = (side: Side) => figs[side].filter((f): f is Fig => f !== null).map((f) => f[k] / 1000);
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    rows.push(`| ${label} | ${k} | ${spread(of('h1'), ms)} | ${spread(of('h2'), ms)} | ${spread(ratios, times)} | ${ratios.length} |`);
  }
  rows.push(...heldRows(label, figs));
  const lost = (side: Side) => figs[side].reduce((sum, f) => sum + (f?.lost ?? 0), 0);
  const valid = (side: Side) => figs[side].filter((f) => f !== null).length;
  rows.push(`| ${label} | lost (valid runs) | ${lost('h1')} (${valid('h1')} of ${rounds}) | ${lost('h2')} (${valid('h2')} of ${rounds}) | | |`);
  return rows;
}

/** A lossy condition's held-message rows (none when its runs had no loss): median (min–max) of the valid runs. */
function heldRows(label: string, figs: Record<Side, (Fig | null)[]>): string[] {
  const of = (side: Side, k: keyof Held) => figs[side].flatMap((f) => (f?.held ? [f.held[k]] : []));
  if (of('h1', 'meanUs').length + of('h2', 'meanUs').length === 0) return [];
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const row = (what: string, k: keyof Held, show: (x: number) => string) => `| ${label} | ${what} | ${spread(of('h1', k), show)} | ${spread(of('h2', k), show)} | | |`;
  return [
    row('held > delay + 50 ms', 'over50', pct),
    row('held > delay + 100 ms', 'over100', pct),
    row('held per lost piece', 'perLostPiece', (x) => x.toFixed(2)),
    row('mean', 'meanUs', (x) => `${(x / 1000).toFixed(2)} ms`),
  ];
}
