/**
 * `npm run bench:scale`: issue #26's one-box figure — 40,000 WebSocket clients held on this machine,
 * more than one source address's ephemeral ports allow, valid and with nothing lost. Each round is
 * a fresh run: the reference server and the generator each as as many processes as the open-files
 * limit needs (node:cluster for the server, load/multi.ts for the generator), the server pinned to
 * `--server-cpus` and the generator to `--load-cpus` (apart: the output says which), the clients
 * sending from `--source-ips` (client i from address i mod n). While every client is connected and
 * before the window, the kernel's socket table is read once: the established connections from each
 * source address, which shows the total past one address's range.
 *
 * Per round: clients held through the window, valid, lost, errors, delivery p50/p99, the generator's
 * event-loop utilization and loop delay (its saturation, the validity rule's measures), its longest
 * GC pause, the server's CPU and RSS; then the median of the rounds with their range. Exits 1 when a
 * round falls short of the acceptance (all held, valid, 0 lost, 0 errors, past one address's range).
 *
 * Usage: `npm run bench:scale [-- --clients 40000] [--rounds 3] [--source-ips LIST|CIDR] [--quick]`.
 */
import { readFile } from 'node:fs/promises';
import { formatBytes, formatUs } from '../core/units.ts';
import type { OptionSpec } from '../core/options.ts';
import type { ResultRecord } from '../core/record.ts';
import { FD_RESERVE, processesFor } from '../capacity/search.ts';
import { runMulti } from '../load/multi.ts';
import { ephemeralPortCount, openFilesLimit } from '../load/resources.ts';
import { spread } from './ladder.ts';
import { benchOptions, runBenchMain } from './main.ts';
import { conditions, keepRecord, runSettingsFrom } from './pairs.ts';

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'quick', kind: 'bool', help: 'smoke check: 2,000 clients, 1 round, 5 s measured (not the issue\'s figure)' },
  { name: 'clients', kind: 'int', arg: 'N', help: 'WebSocket clients (the issue asks for 40,000)', default: 40_000, min: 1 },
  { name: 'rounds', kind: 'int', arg: 'N', help: 'fresh runs; the figures are their median and range', default: 3, min: 1 },
  { name: 'source-ips', kind: 'string', arg: 'LIST|CIDR', help: 'addresses the clients send from (at least 2)', default: '127.0.5.1,127.0.5.2' },
  { name: 'rate', kind: 'string', arg: 'MSG/S', help: 'messages per second on each topic (broadcast)', default: '1' },
  { name: 'topics', kind: 'int', arg: 'N', help: 'broadcast topics the clients spread over', default: 100, min: 1 },
  { name: 'window', kind: 'durationMs', arg: 'TIME', help: 'measured window after every client has connected and settled', default: 20_000, min: 2000 },
  { name: 'arrival-rate', kind: 'int', arg: 'N', help: 'clients started per second', default: 2000, min: 1 },
  { name: 'server-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the reference server', default: '0' },
  { name: 'load-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the generator processes', default: '1' },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the records go', default: '.tmp/bench-scale' },
]);

/**
 * Settle after the ramp before the window, as a capacity step's: a share of the ramp, at least 2 s
 * (after a long ramp the first seconds are not yet steady: heap growth, the set-up's garbage).
 */
const settleMs = (rampMs: number) => Math.max(2000, 0.4 * rampMs);

/** Established IPv4 TCP sockets by local address, from the kernel's table (/proc/net/tcp). */
async function establishedBySource(addresses: readonly string[]): Promise<Map<string, number>> {
  const hexOf = (ip: string) => ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0').toUpperCase()).reverse().join('');
  const wanted = new Map(addresses.map((a) => [hexOf(a), a]));
  const out = new Map(addresses.map((a) => [a, 0]));
  const text = await readFile('/proc/net/tcp', 'utf8');
  for (let at = text.indexOf('\n') + 1; at > 0 && at < text.length; at = text.indexOf('\n', at) + 1) {
    // "  sl: LLLLLLLL:PPPP RRRRRRRR:PPPP st …": local address at a fixed offset after the colon
    const colon = text.indexOf(': ', at);
    const local = text.slice(colon + 2, colon + 10);
    const state = text.slice(colon + 30, colon + 32);
    const a = wanted.get(local);
    if (a !== undefined && state === '01') out.set(a, out.get(a)! + 1);
  }
  return out;
}

/** One round's figures, read off its merged record. */
interface Round {
  record: ResultRecord;
  /** fewest clients open in any second of the window (the timeline sums the processes) */
  heldMin: number;
  bySource: Map<string, number> | null;
  serverCpuPct: number | null;
}

function figuresOf(r: ResultRecord, bySource: Map<string, number> | null): Round {
  const fromS = r.config.warmupMs / 1000;
  const window = r.timeline.filter((p) => p.tS > fromS && p.tS <= r.config.durationMs / 1000);
  const windowUs = (r.config.durationMs - r.config.warmupMs) * 1000;
  return {
    record: r,
    heldMin: window.length ? Math.min(...window.map((p) => p.openConnections)) : 0,
    bySource,
    serverCpuPct: r.server ? (100 * r.server.cpuUs) / windowUs : null,
  };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x.toFixed(0)} %`);
const n = (x: number) => x.toLocaleString('en-US');

function row(i: number, x: Round): string {
  const r = x.record;
  const g = r.generator;
  const eluMean = Math.max(...g.workers.map((w) => w.eluMean));
  const sources = x.bySource ? [...x.bySource.values()].map(n).join(' + ') : '—';
  return `| ${i + 1} | ${n(x.heldMin)} / ${n(r.config.clients)} | ${sources} | ${r.valid ? 'yes' : 'NO'} | ${r.summary.lost} | ${r.summary.errors} | ` +
    `${formatUs(r.summary.latencyUs.p50)} / ${formatUs(r.summary.latencyUs.p99)} | ${pct(100 * eluMean)} / ${pct(100 * g.eluMax)} | ` +
    `${g.loopDelayP99MaxMs?.toFixed(1) ?? '—'} ms | ${g.gcMaxMs?.toFixed(1) ?? '—'} ms | ${pct(x.serverCpuPct)} | ` +
    `${r.server ? formatBytes(r.server.rssBytesMax) : '—'} (${r.summary.serverRssBytesPerConnection === null ? '—' : formatBytes(r.summary.serverRssBytesPerConnection)}/conn) |`;
}

function summaryLine(label: string, xs: number[], fmt: (x: number) => string): string {
  const s = spread(xs);
  return s.median === null ? `- ${label}: —` : `- ${label}: **${fmt(s.median)}** (${fmt(s.min!)} – ${fmt(s.max!)}, ${s.n} round${s.n === 1 ? '' : 's'})`;
}

async function main(argv: string[]): Promise<number> {
  const v = benchOptions(argv, SPECS, 'npm run bench:scale [-- options]', 'Issue 26: 40,000 WebSocket clients on this one box, past one source address\'s ephemeral ports; held, valid, 0 lost.');
  if (v === null) return 0;
  const quick = Boolean(v.quick);
  const clients = quick ? 2000 : (v.clients as number);
  const rounds = quick ? 1 : (v.rounds as number);
  const windowMs = quick ? 5000 : (v.window as number);
  const arrival = v.arrivalRate as number;
  const rampMs = (1000 * clients) / arrival;
  const warmupMs = Math.ceil((rampMs + settleMs(rampMs)) / 1000) * 1000;
  const fds = openFilesLimit()?.hard ?? null;
  const perProcess = fds !== null && Number.isFinite(fds) ? fds : null;
  const procs = processesFor(clients, 1, perProcess);
  const out = v.out as string;
  const args = [
    '--clients', String(Math.min(clients, 1000)), '--workload', 'broadcast', '--rate', v.rate as string, '--topics', String(v.topics), '--payload', '64',
    '--arrival-rate', String(arrival), '--warmup', `${warmupMs}ms`, '--duration', `${warmupMs + windowMs}ms`,
    '--source-ips', v.sourceIps as string, '--server-cpus', v.serverCpus as string, '--load-cpus', v.loadCpus as string, '--out', out, '--no-report',
  ];
  // The options are checked for one process's open files; the clients are then spread over
  // `procs` processes of each side, as a capacity step does, each server process capped at what
  // its open files hold.
  const base = {
    ...runSettingsFrom('ws', args, 'scale'), clients,
    ...(perProcess ? { serverArgs: ['--max-connections', String(perProcess - FD_RESERVE)] } : {}),
  };
  const ips = base.sourceIps ?? [];
  if (ips.length < 2) process.stderr.write(`bench:scale: ${ips.length} source address: the figure is meant for 2 or more\n`);
  const range = ephemeralPortCount();
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`\n## bench:scale — ${new Date().toISOString()}\n`);
  write(conditions(`reference server pinned to CPU ${v.serverCpus}, generator processes to CPU ${v.loadCpus} (apart); ${procs} server + ${procs} generator processes (open files ${fds ?? 'unlimited'} per process); ` +
    `${n(clients)} ws clients from ${ips.length} source addresses (${ips.join(', ')}), ${n(Math.ceil(clients / Math.max(1, ips.length)))} per address at most, one address's ephemeral range ${n(range)} ports; ` +
    `broadcast over ${v.topics} topics at ${v.rate} msg/s each, 64 B, loopback; clients arriving at ${n(arrival)}/s, ${warmupMs / 1000} s warm-up, ${windowMs / 1000} s measured; ${rounds} round${rounds === 1 ? '' : 's'}`));
  write('\n| round | clients held in the window (fewest) | established per source address | valid | lost | errors | delivery p50 / p99 | generator ELU mean / max | loop delay p99, worst second | longest GC pause | server CPU | server RSS max (per conn) |');
  write('|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  const done: Round[] = [];
  const failures: string[] = [];
  for (let i = 0; i < rounds; i++) {
    let reading: Promise<Map<string, number>> | null = null;
    const s = { ...base, name: `scale-${i + 1}`, serverProcs: procs };
    const record = await runMulti(s, procs, {
      // once, when every client is connected and before the window opens
      onProgress: (p) => {
        if (reading === null && p.phase === 'warmup' && p.open >= clients) reading = establishedBySource(ips).catch(() => new Map());
      },
    });
    await keepRecord(record, out);
    const round = figuresOf(record, reading ? await reading : null);
    done.push(round);
    write(row(i, round));
    const tag = `round ${i + 1}`;
    if (round.heldMin < clients) failures.push(`${tag}: ${n(round.heldMin)} held of ${n(clients)}`);
    if (!record.valid) failures.push(`${tag} invalid: ${record.invalidReasons.join('; ')}`);
    if (record.summary.lost !== 0 || record.summary.errors !== 0) failures.push(`${tag}: ${record.summary.lost} lost, ${record.summary.errors} errors`);
    const total = round.bySource ? [...round.bySource.values()].reduce((a, b) => a + b, 0) : 0;
    if (!quick && total <= range) failures.push(`${tag}: ${n(total)} established from the source addresses, not past one address's ${n(range)} ports`);
  }
  write('\nMedian of the rounds (range):\n');
  write(summaryLine('delivery p99', done.map((x) => x.record.summary.latencyUs.p99), formatUs));
  write(summaryLine('generator ELU, busiest second of the busiest process', done.map((x) => 100 * x.record.generator.eluMax), (x) => `${x.toFixed(0)} %`));
  write(summaryLine('generator loop delay p99, worst second', done.map((x) => x.record.generator.loopDelayP99MaxMs ?? 0), (x) => `${x.toFixed(1)} ms`));
  write(summaryLine('server CPU over the window', done.flatMap((x) => (x.serverCpuPct === null ? [] : [x.serverCpuPct])), (x) => `${x.toFixed(0)} % of a core`));
  write(summaryLine('server RSS at most', done.flatMap((x) => (x.record.server ? [x.record.server.rssBytesMax] : [])), formatBytes));
  write(summaryLine('server RSS per connection', done.flatMap((x) => (x.record.summary.serverRssBytesPerConnection === null ? [] : [x.record.summary.serverRssBytesPerConnection])), formatBytes));
  write('');
  const past = quick ? '' : `, from ${ips.length} addresses past one address's ${n(range)} ports`;
  write(failures.length ? `Acceptance: FAILED — ${failures.join('; ')}` : `Acceptance: passed (${n(clients)} held, valid, 0 lost, 0 errors in every round${past}).`);
  write(`Records: ${out}`);
  return failures.length ? 1 : 0;
}

await runBenchMain('bench:scale', main);
