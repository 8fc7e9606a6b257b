/**
 * `npm run bench:tls`: what TLS costs each transport (issue #25). For every transport a plain run
 * and a `--tls` run back to back, same clients, schedule and pinning, in turns (plain first for
 * the even transports, TLS first for the odd ones, so the machine's drift lands on both sides);
 * prints connect time, server CPU per message and server RSS per connection of each, and TLS ÷
 * plain. Then the reconnect storm: `--fault restart-server` with and without TLS, the time until
 * 99 % of the clients are back, the server's CPU in the seconds of the storm, and the handshakes.
 *
 * The storm's server may be held to a CPU limit (`--storm-server-cpu-limit`, a cgroup's CFS quota,
 * as a Kubernetes pod's limit) and its clients given a client library's backoff
 * (`--storm-reconnect-delay`, `--storm-reconnect-jitter`); the table states both, and the
 * generator's worst loop delay, which the run's validity rule judges.
 *
 * Usage: `npm run bench:tls [-- --clients 1000] [--duration 15s] [--storm-clients 10000] [--storm-arrival-rate 500] [--storm-only] [--quick]`.
 * A run the harness marked invalid prints its reason and gets no ratio; nothing is re-run.
 */
import type { OptionSpec, OptionValues } from '../core/options.ts';
import type { ResultRecord } from '../core/record.ts';
import { formatBytes, formatUs } from '../core/units.ts';
import type { TransportName } from '../core/wire.ts';
import { TRANSPORTS, traitsOf } from '../load/drivers/index.ts';
import { benchOptions, runBenchMain } from './main.ts';
import { conditions, runKept } from './pairs.ts';

/** Transports with a plain run to compare against (a TLS-only one is compared with its peer by bench:h2). */
const PLAIN = TRANSPORTS.filter((t) => !traitsOf(t).tlsOnly);

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'quick', kind: 'bool', help: 'smoke check: 100 clients, 4 s runs, a storm of 200 (not the issue\'s figures)' },
  { name: 'transports', kind: 'list', arg: 'LIST', help: 'transports to measure', default: PLAIN, choices: PLAIN },
  { name: 'clients', kind: 'int', arg: 'N', help: 'clients of each cost run', default: 1000, min: 1 },
  { name: 'duration', kind: 'durationMs', arg: 'TIME', help: 'length of each cost run', default: 15_000, min: 3000 },
  { name: 'storm-clients', kind: 'int', arg: 'N', help: 'clients of the reconnect storm (the issue asks for 10,000)', default: 10_000, min: 1 },
  { name: 'storm-arrival-rate', kind: 'int', arg: 'N', help: 'clients started per second before the storm (every one must be connected at the restart)', default: 500, min: 1 },
  { name: 'storm-only', kind: 'bool', help: 'the reconnect storm alone, no cost table' },
  { name: 'storm-server-cpu-limit', kind: 'number', arg: 'CPUS', help: 'the storm\'s reference server held to this much CPU (pushbench run --server-cpu-limit; needs root or a delegated cgroup)', min: 0 },
  { name: 'storm-reconnect-delay', kind: 'durationMs', bareUnit: 'ms', arg: 'TIME', help: 'the storm clients\' first reconnect wait (pushbench run --reconnect-delay)', default: 100, min: 1, max: 5000 },
  { name: 'storm-reconnect-jitter', kind: 'fraction', arg: 'PERCENT', help: 'share of each reconnect wait spread either way (pushbench run --reconnect-jitter)', default: 0.2, min: 0, max: 0.99 },
  { name: 'storm-transport', kind: 'string', arg: 'NAME', help: 'transport of the reconnect storm', default: PLAIN[0], choices: PLAIN },
  { name: 'server-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the reference server', default: '0' },
  { name: 'load-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the generator', default: '1' },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the records go', default: '.tmp/bench-tls' },
]);

/** The figures compared, from one record. */
interface Costs {
  connectP50Us: number;
  cpuUsPerMessage: number | null;
  rssPerConnection: number | null;
}

function costsOf(r: ResultRecord): Costs {
  return { connectP50Us: r.summary.connectUs.p50, cpuUsPerMessage: r.summary.serverCpuUsPerMessage, rssPerConnection: r.summary.serverRssBytesPerConnection };
}

const ratio = (tls: number | null, plain: number | null): string => (tls === null || plain === null || plain <= 0 ? '—' : `${(tls / plain).toFixed(2)}×`);
const bytes = (n: number | null): string => (n === null ? '—' : formatBytes(n));
const cpu = (n: number | null): string => (n === null ? '—' : `${n.toFixed(1)} µs`);

/** One transport's plain and TLS runs in the given order: the table row, or why there is none. */
async function costRow(transport: TransportName, base: string[], tlsFirst: boolean, out: string): Promise<string> {
  const runs: Partial<Record<'plain' | 'tls', ResultRecord>> = {};
  for (const side of tlsFirst ? (['tls', 'plain'] as const) : (['plain', 'tls'] as const)) {
    runs[side] = await runKept(transport, [...base, ...(side === 'tls' ? ['--tls'] : []), '--out', out], out, `${transport}-${side}`);
  }
  const bad = (['plain', 'tls'] as const).filter((k) => !runs[k]!.valid).map((k) => `${k} invalid: ${runs[k]!.invalidReasons.join('; ')}`);
  if (bad.length) return `| ${transport} | ${bad.join(' / ')} | | | | | | | |`;
  const p = costsOf(runs.plain!);
  const t = costsOf(runs.tls!);
  const share = runs.tls!.tls ? `${(100 * runs.tls!.tls.handshakeShare).toFixed(0)} %` : '—';
  return `| ${transport} | ${formatUs(p.connectP50Us)} → ${formatUs(t.connectP50Us)} | ${ratio(t.connectP50Us, p.connectP50Us)} | ${share} | ` +
    `${cpu(p.cpuUsPerMessage)} → ${cpu(t.cpuUsPerMessage)} | ${ratio(t.cpuUsPerMessage, p.cpuUsPerMessage)} | ` +
    `${bytes(p.rssPerConnection)} → ${bytes(t.rssPerConnection)} | ${ratio(t.rssPerConnection, p.rssPerConnection)} | ${runs.plain!.summary.lost} / ${runs.tls!.summary.lost} |`;
}

/**
 * Connections open just before the restart (the storm's size): the last second the record has
 * before the restart's own, whose tick may be taken after the first clients saw the server die.
 */
function openAtRestart(r: ResultRecord, atS: number): number | null {
  const before = r.timeline.filter((p) => p.tS < atS);
  return before.length ? before[before.length - 1].openConnections : null;
}

/**
 * The storm's row: the clients connected when the server died, their disconnects, reconnect time
 * p99 (99 % of them back), server CPU, handshakes. A storm of fewer clients than asked for (the
 * generator still behind the arrivals at the restart) says so: its figures are not the asked size's.
 */
function stormRow(label: string, r: ResultRecord, atS: number, clients: number): string {
  const f = r.faults?.[0];
  if (!f) return `| ${label} | no fault result | | | | | | | |`;
  // From the restart until 99 % are back (detection p99 + reconnect p99; 3 s at least): a generator
  // blocked by its connects posts no tick for some of those seconds, and the record has a point
  // only for a second with ticks.
  const untilS = atS + Math.max(3, Math.ceil((f.detectUs.p99 + f.reconnectUs.p99) / 1e6));
  const seconds = r.timeline.filter((p) => p.tS > atS && p.tS <= untilS);
  const storm = seconds.map((p) => p.serverCpuPct ?? 0);
  const peak = storm.length ? `${Math.max(...storm).toFixed(0)} %` : '—';
  const delay = r.generator.loopDelayP99MaxMs;
  const hs = r.tls ? `${r.tls.full} full, ${r.tls.resumed} resumed` : 'none (plain)';
  const open = openAtRestart(r, atS);
  const short = open !== null && open < clients ? [`only ${open} of ${clients} clients connected a second before the restart`] : [];
  const reasons = [...short, ...r.invalidReasons];
  return `| ${label} | ${open ?? '—'} | ${f.disconnects} | ${formatUs(f.detectUs.p99)} | ${formatUs(f.reconnectUs.p99)} | ${peak} | ${delay === undefined ? '—' : `${delay.toFixed(0)} ms`} | ${hs} | ${reasons.length ? `NO: ${reasons.join('; ')}` : 'yes'} |`;
}

async function main(argv: string[]): Promise<number> {
  const v = benchOptions(argv, SPECS, 'npm run bench:tls [-- options]', 'Issue 25: the cost of TLS per transport, as ratios to the plain run, and the reconnect storm with and without TLS.');
  if (v === null) return 0;
  const quick = Boolean(v.quick);
  const clients = quick ? 100 : (v.clients as number);
  const durationMs = quick ? 4000 : (v.duration as number);
  const stormClients = quick ? 200 : (v.stormClients as number);
  const pin = ['--server-cpus', v.serverCpus as string, '--load-cpus', v.loadCpus as string];
  const base = ['--clients', String(clients), '--duration', `${durationMs}ms`, '--rate', '1', '--topics', '1', ...pin];
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`\n## bench:tls — ${new Date().toISOString()}\n`);
  write(conditions(`server CPU ${v.serverCpus}, generator CPU ${v.loadCpus}; broadcast, 1 topic at 1 msg/s, 64 B, loopback`));
  if (!v.stormOnly) await costTable(v, clients, durationMs, base, write);
  await stormTable(v, quick, stormClients, pin, write);
  write(`\nRecords: ${v.out as string}`);
  return 0;
}

/** The cost table: each transport plain and TLS, in turns. */
async function costTable(v: OptionValues, clients: number, durationMs: number, base: string[], write: (line: string) => void): Promise<void> {
  write(`\nCost runs: ${clients} clients, ${durationMs / 1000} s runs.`);
  write('\n| transport | connect p50 plain → TLS | TLS ÷ plain | TLS share of connect | server CPU/msg plain → TLS | TLS ÷ plain | server RSS/conn plain → TLS | TLS ÷ plain | lost plain / TLS |');
  write('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const [i, t] of (v.transports as TransportName[]).entries()) write(await costRow(t, base, i % 2 === 1, v.out as string));
}

/** The reconnect storm, plain then TLS, with the same clients, schedule, pinning, limit and backoff. */
async function stormTable(v: OptionValues, quick: boolean, stormClients: number, pin: string[], write: (line: string) => void): Promise<void> {

  // Both storms ramp at one arrival rate, below the default 1,000/s: a client's full TLS handshake
  // is the costliest thing the generator does, and the storm is the size asked for only if every
  // client is connected when the server dies. The restart comes 2 s after the last arrival, and the
  // run goes on long enough for the ramp to be under half of it (run's rule) and for 99 % of the
  // clients to be back.
  const arrivalRate = quick ? 1000 : (v.stormArrivalRate as number);
  const rampS = Math.ceil(stormClients / arrivalRate);
  const atS = rampS + 2;
  const stormMs = Math.max(8000, (2 * rampS + 6) * 1000);
  const limit = v.stormServerCpuLimit as number | undefined;
  const delayMs = v.stormReconnectDelay as number;
  const jitter = v.stormReconnectJitter as number;
  const stormArgs = ['--clients', String(stormClients), '--arrival-rate', String(arrivalRate), '--duration', `${stormMs}ms`, '--rate', '1', '--topics', '1', '--fault', `restart-server@${atS}s`, ...pin,
    '--reconnect-delay', `${delayMs}ms`, '--reconnect-jitter', String(jitter), ...(limit !== undefined ? ['--server-cpu-limit', String(limit)] : []), '--out', v.out as string];
  const storm = v.stormTransport as TransportName;
  write(`\nReconnect storm: ${storm}, ${stormClients} clients arriving at ${arrivalRate}/s, the server killed and restarted at ${atS} s (same port; with TLS the same certificate and ticket keys); ` +
    `server CPU limit ${limit === undefined ? 'none (CPU ' + (v.serverCpus as string) + ' whole)' : `${limit} CPU (CFS quota)`}; clients reconnect after ${delayMs} ms ± ${Math.round(jitter * 100)} %, doubling per failed attempt up to 5 s.\n`);
  write('| run | connected before the restart | disconnects | detection p99 | 99 % back after | server CPU peak (restart → 99 % back) | generator loop delay p99, worst second | TLS handshakes | valid |');
  write('|---|--:|--:|--:|--:|--:|--:|---|---|');
  for (const tls of [false, true]) {
    const r = await runKept(storm, [...stormArgs, ...(tls ? ['--tls'] : [])], v.out as string, `storm-${tls ? 'tls' : 'plain'}`);
    write(stormRow(tls ? 'TLS' : 'plain', r, atS, stormClients));
  }
}

await runBenchMain('bench:tls', main);
