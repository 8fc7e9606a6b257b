/**
 * `npm run bench:h2`: the production transports over TLS, and what SSE over HTTP/2 costs against
 * SSE over HTTP/1.1 (issue #25). Server and generator pinned apart (taskset: `--server-cpus`,
 * `--load-cpus`); every run of one invocation on the same pinning.
 *
 * 1. Every transport asked (default: all) with `--tls` at `--clients` (1,000), `--cut` (10 %) of
 *    its connections cut mid-run: valid, lost, the protocol, the handshake share of connect time,
 *    the full and resumed handshakes (the cut clients come back on resumed ones). A larger cut
 *    makes its resumed handshakes one burst on the generator's CPU (half of 1,000 at once stalls
 *    one generator CPU for over 300 ms, which the validity rule rejects).
 * 2. `sse-h2` at `--streams-per-connection` N (10) against `sse` at the same N (which opens one
 *    connection per subscription, as a browser without HTTP/2), both `--tls`, `--repeats` times
 *    in turns (sse first on even repeats, sse-h2 first on odd): connections and streams in /stats,
 *    server RSS per subscription and per connection, server CPU per message, bytes per message —
 *    each as a mean with its 95 % interval, and sse-h2 ÷ sse with its interval (delta method).
 * 3. Head-of-line under the latency proxy (bench/h2-hol.ts): sse against sse-h2 at N tabs per
 *    browser behind a wan-like proxy with equal link capacity per browser, with and without one
 *    slow tab per browser, `--repeats` rounds: the fast tabs' p50/p99, h2 ÷ h1 per round; and
 *    with one large-message tab per browser (`--large-topic`) against every tab small, on a link
 *    per connection and on one link per browser (`link=browser`); and every tab small on one link
 *    per browser with `loss=` (a lost message holds its TCP connection), each segment lost on its
 *    own or in runs (`burst=`); `--hol-cases` picks among them.
 *
 * Usage: `npm run bench:h2 [-- --clients 1000] [--duration 10s] [--repeats 3] [--parts 1,2,3] [--hol-cases …] [--quick]`.
 * A run the harness marked invalid prints its reason and is left out of the means; nothing is re-run.
 */
import { join } from 'node:path';
import type { OptionSpec } from '../core/options.ts';
import type { ResultRecord } from '../core/record.ts';
import { formatBytes, formatUs } from '../core/units.ts';
import type { TransportName } from '../core/wire.ts';
import { TRANSPORTS } from '../load/drivers/index.ts';
import { meanCi, ratioOfMeansCi, type Estimate } from '../reports/stats.ts';
import { HOL_CASES, holPart, type HolPlan } from './h2-hol.ts';
import { benchOptions, runBenchMain } from './main.ts';
import { conditions, runKept } from './pairs.ts';

const MULTIPLEXED: TransportName = 'sse-h2';
const PEER: TransportName = 'sse';

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'quick', kind: 'bool', help: 'smoke check: 100 clients, 4 s runs, 2 repeats (not the issue\'s figures)' },
  { name: 'transports', kind: 'list', arg: 'LIST', help: 'transports of part 1', default: [...TRANSPORTS], choices: TRANSPORTS },
  { name: 'clients', kind: 'int', arg: 'N', help: 'clients (subscriptions) of every run', default: 1000, min: 1 },
  { name: 'duration', kind: 'durationMs', arg: 'TIME', help: 'length of each run', default: 10_000, min: 3000 },
  { name: 'cut', kind: 'fraction', arg: 'PERCENT', help: 'share of the connections part 1 cuts mid-run (each comes back on a resumed handshake)', default: 0.1, min: 0.001, max: 1 },
  { name: 'parts', kind: 'list', arg: 'LIST', help: 'which parts to run (3: head-of-line under the proxy)', default: ['1', '2', '3'], choices: ['1', '2', '3'] },
  { name: 'hol-cases', kind: 'list', arg: 'LIST', help: 'part 3\'s conditions: even, slow (split links), even-shared, slow-shared, even-shared-records (link=browser), small, large (a link per connection), small-shared, large-shared (link=browser), small-shared-loss (link=browser, loss=), small-shared-burst (link=browser, loss=, burst=), large-shared-loss (link=browser, loss=)', default: [...HOL_CASES], choices: HOL_CASES },
  { name: 'streams-per-connection', kind: 'int', arg: 'N', help: 'subscriptions per browser in part 2', default: 10, min: 1 },
  { name: 'repeats', kind: 'int', arg: 'N', help: 'runs of each side in part 2', default: 3, min: 1 },
  { name: 'server-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the reference server', default: '0' },
  { name: 'load-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the generator', default: '1' },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the records go', default: '.tmp/bench-h2' },
]);


/**
 * Part 3's large tab: 64 KB takes 52 ms on the 1.25 MB/s link, longer than the 20 ms between the
 * interleaved topics' messages at 5 msg/s on 10 topics, so over HTTP/2 the next two tabs' 1 KB
 * messages wait behind it; per browser the link carries 5 × (64 + 9 × 1) KB/s, under a third of it.
 */
const LARGE_TAB = Object.freeze({ smallBytes: 1024, largeBytes: 64 * 1024, largeRatePerS: 5 });

/**
 * Part 3's lossy case: 1 % per segment; each 1 KB message is one segment, so at 50 messages a
 * second per browser a 10 s run loses about 45 on each side, enough to count. Over HTTP/1.1 a
 * tab's next message comes 200 ms later on its connection, so a loss waits for the RTO and holds
 * that tab alone; over HTTP/2 the next message (another tab's) follows 20 ms later and reveals the
 * loss within about a round trip, holding the tabs whose messages come meanwhile. At 1 % the lost
 * and held messages are a few per cent: between p90 and p99, where the table shows them.
 */
const LOSS_PERCENT = 1;
/**
 * Part 3's small TLS records: a 1400-byte record (about 1,420 on the wire) fits one 1448-byte
 * segment, the size servers with dynamic record sizing start with; Node's default is 16 KB.
 */
const SMALL_RECORD_BYTES = 1400;
/**
 * Part 3's bursty case: the same 1 %, in runs of 3 segments on average on a browser's link (a
 * Gilbert chain, netem/loss.ts): a run can hit several of an HTTP/1.1 browser's connections at once.
 */
const LOSS_BURST = 3;

/**
 * Part 3's fixed settings: wan's delay and jitter; a 10 Mbit/s link per browser; 4 KB at 20 msg/s
 * to each of 10 tabs is 0.8 MB/s (wire bytes included ~0.85), two thirds of the link, so queueing
 * on it shows without the link falling behind; a slow tab reading 2 KB/s lags behind the 80 KB/s
 * it is sent within the first second. 100 subscriptions keep the proxy's writes (2,000/s for sse)
 * far under its lateness limit.
 */
const HOL: Omit<HolPlan, 'n' | 'rounds' | 'durationMs'> = Object.freeze({
  clients: 100, delayMs: 25, jitterMs: 2, linkBytesPerS: 1_250_000, payloadBytes: 4096, ratePerS: 20, slowReadBytesPerS: 2048,
  ...LARGE_TAB, lossPercent: LOSS_PERCENT, lossBurst: LOSS_BURST, smallRecordBytes: SMALL_RECORD_BYTES,
});

const pct = (x: number): string => `${(100 * x).toFixed(0)} %`;

/** Part 1's row: one TLS run with a cut. */
function tlsRow(t: TransportName, r: ResultRecord): string {
  const tls = r.tls;
  const hs = tls ? `${tls.full} full, ${tls.resumed} resumed` : '—';
  const protocols = tls ? Object.keys(tls.protocols).join(', ') : '—';
  const valid = r.valid ? 'yes' : `NO: ${r.invalidReasons.join('; ')}`;
  return `| ${t} | ${valid} | ${r.summary.lost} | ${r.counters.reconnects} | ${protocols} | ${tls ? pct(tls.handshakeShare) : '—'} | ${formatUs(r.summary.connectUs.p50)} | ${hs} |`;
}

/** The figures part 2 compares, from one record (null: not measured). */
const FIGURES: readonly { label: string; of: (r: ResultRecord) => number | null; show: (x: number) => string }[] = [
  { label: 'connections open (/stats)', of: (r) => r.server?.connectionsOpen ?? null, show: (x) => x.toFixed(0) },
  { label: 'streams open (/stats)', of: (r) => r.server?.streamsOpen ?? null, show: (x) => x.toFixed(0) },
  { label: 'server RSS per subscription', of: (r) => rssGrowth(r) / r.config.clients, show: (x) => formatBytes(x) },
  { label: 'server RSS per connection', of: (r) => (r.server?.connectionsOpen ? rssGrowth(r) / r.server.connectionsOpen : null), show: (x) => formatBytes(x) },
  { label: 'server CPU per message', of: (r) => r.summary.serverCpuUsPerMessage, show: (x) => `${x.toFixed(1)} µs` },
  { label: 'bytes on the wire per message', of: (r) => r.summary.bytesPerMessage, show: (x) => x.toFixed(0) },
  { label: 'delivery latency p50', of: (r) => r.summary.latencyUs.p50, show: (x) => formatUs(x) },
  { label: 'TLS handshakes (full)', of: (r) => r.tls?.full ?? null, show: (x) => x.toFixed(0) },
];

function rssGrowth(r: ResultRecord): number {
  return r.server ? Math.max(0, r.server.rssBytesMax - r.server.rssBytesStart) : NaN;
}

const interval = (e: Estimate, show: (x: number) => string): string =>
  e.lo === null || e.hi === null ? show(e.mean) : `${show(e.mean)} [${show(e.lo)}, ${show(e.hi)}]`;

/** Part 2's table: each figure's mean [95 % CI] on both sides and their ratio. */
function costTable(runs: Record<'peer' | 'h2', ResultRecord[]>, write: (line: string) => void): void {
  write(`| figure | ${PEER} | ${MULTIPLEXED} | ${MULTIPLEXED} ÷ ${PEER} [95 % CI] |`);
  write('|---|--:|--:|--:|');
  for (const f of FIGURES) {
    const xs = (side: 'peer' | 'h2') => runs[side].map(f.of).filter((x): x is number => x !== null && Number.isFinite(x));
    const p = meanCi(xs('peer'));
    const h = meanCi(xs('h2'));
    if (p.n === 0 || h.n === 0) {
      write(`| ${f.label} | — | — | — |`);
      continue;
    }
    const q = ratioOfMeansCi(h, p);
    const ratio = q === null ? '—' : q.lo === null || q.hi === null ? `${q.ratio.toPrecision(3)}×` : `${q.ratio.toPrecision(3)}× [${q.lo.toPrecision(3)}, ${q.hi.toPrecision(3)}]`;
    write(`| ${f.label} | ${interval(p, f.show)} | ${interval(h, f.show)} | ${ratio} |`);
  }
}

async function main(argv: string[]): Promise<number> {
  const v = benchOptions(argv, SPECS, 'npm run bench:h2 [-- options]', 'Issue 25: every transport over TLS at 1,000 clients with a cut, and SSE over HTTP/2 against SSE over HTTP/1.1.');
  if (v === null) return 0;
  const quick = Boolean(v.quick);
  const clients = quick ? 100 : (v.clients as number);
  const durationMs = quick ? 4000 : (v.duration as number);
  const repeats = quick ? 2 : (v.repeats as number);
  const n = v.streamsPerConnection as number;
  const out = v.out as string;
  const pin = ['--server-cpus', v.serverCpus as string, '--load-cpus', v.loadCpus as string];
  const base = ['--tls', '--clients', String(clients), '--duration', `${durationMs}ms`, '--rate', '1', '--topics', '1', ...pin, '--out', out];
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`\n## bench:h2 — ${new Date().toISOString()}\n`);
  write(conditions(`server CPU ${v.serverCpus}, generator CPU ${v.loadCpus} (taskset); --tls; ${durationMs / 1000} s runs; parts 1 and 2: broadcast, 1 topic at 1 msg/s, 64 B, loopback, ${clients} clients`));

  const parts = v.parts as string[];
  if (parts.includes('1')) await part1(v.transports as TransportName[], durationMs, v.cut as number, base, out, write);
  if (parts.includes('2')) await part2(n, repeats, base, out, write);
  if (parts.includes('3')) {
    const plan: HolPlan = { ...HOL, n, rounds: repeats, durationMs, clients: Math.ceil(HOL.clients / n) * n, cases: v.holCases as string[] };
    await holPart(plan, (t, args, name) => runKept(t, [...args, ...pin, '--out', out], out, name), write);
  }
  write(`\nRecords: ${out}`);
  return 0;
}

/** Each transport over TLS with `cut` of its connections cut mid-run. */
async function part1(transports: readonly TransportName[], durationMs: number, cut: number, base: string[], out: string, write: (line: string) => void): Promise<void> {
  const cutAtS = Math.round(durationMs / 2000);
  const share = `${+(100 * cut).toFixed(1)}%`;
  write(`\n### 1. Each transport over TLS, ${share} of the connections cut at ${cutAtS} s\n`);
  write('| transport | valid | lost | reconnects | protocol | TLS share of connect | connect p50 | handshakes |');
  write('|---|---|--:|--:|---|--:|--:|---|');
  for (const t of transports) {
    const r = await runKept(t, [...base, '--fault', `cut-connections@${cutAtS}s:${share}`], out, `${t}-tls-cut`);
    write(tlsRow(t, r));
  }
}

/** sse-h2 against sse at `n` subscriptions per browser, `repeats` runs each in turns. */
async function part2(n: number, repeats: number, base: string[], out: string, write: (line: string) => void): Promise<void> {
  write(`\n### 2. ${MULTIPLEXED} against ${PEER}, ${n} subscriptions per browser, ${repeats} runs each in turns\n`);
  const runs: Record<'peer' | 'h2', ResultRecord[]> = { peer: [], h2: [] };
  for (let i = 0; i < repeats; i++) {
    const order = i % 2 === 0 ? (['peer', 'h2'] as const) : (['h2', 'peer'] as const);
    for (const side of order) {
      const t = side === 'h2' ? MULTIPLEXED : PEER;
      const r = await runKept(t, [...base, '--streams-per-connection', String(n)], out, `${t}-spc${n}-r${i + 1}`);
      if (r.valid) runs[side].push(r);
      else write(`${t} run ${i + 1} invalid, left out: ${r.invalidReasons.join('; ')}`);
      write(`${t} run ${i + 1}: lost ${r.summary.lost}, connections ${r.server?.connectionsOpen ?? '—'}, streams ${r.server?.streamsOpen ?? '—'}`);
    }
  }
  write('');
  costTable(runs, write);
}

await runBenchMain('bench:h2', main);
