/**
 * `npm run bench:socketio`: pushbench's Socket.IO transports against the reference Socket.IO
 * server (servers/socketio/), the server pinned to CPU 0 and the generator to CPU 1 (taskset):
 *
 * 1. `--clients` (1,000) clients on each of socketio-ws, socketio-polling, socketio-upgrade:
 *    valid, lost, undelivered, latency, upgrade share and time, requests and bytes per message;
 * 2. deliveries per generator core for socketio-ws against a bare `socket.io-client` loop
 *    (bench/socketio-bare.ts) on the same server, clients, rate and window, in `--rounds` rounds
 *    taken in turns: pushbench's worker-thread CPU over its measured window against the bare
 *    process's CPU over the same length of window; the ratio (pushbench ÷ bare, ≥ 1 means
 *    pushbench spends no more CPU per delivery) with its median and range over the rounds.
 *
 * The server pings every 5 s (socket.io's default is 25 s) so that heartbeats fall inside the
 * short windows. Tables go to stdout as Markdown, progress to stderr. Figures: docs/socketio.md.
 */
import { once } from 'node:events';
import os from 'node:os';
import { parseOptions, type OptionSpec } from '../core/options.ts';
import type { ResultRecord } from '../core/record.ts';
import { pinSelf, spawnTs, type Spawned } from '../core/spawn.ts';
import { GENERATOR_V8_FLAGS } from '../core/tsx.ts';
import { nowUs } from '../core/wire.ts';
import { cpuModel } from '../load/resources.ts';
import { TARGET_ONLY_TRANSPORTS } from '../load/drivers/index.ts';
import { newRunId, runOnce } from '../load/runner.ts';
import { ProfilePublisher } from '../load/target/publisher.ts';
import { socketioProfile, SOCKETIO_TARGET_DEFAULTS } from '../load/target/socketio.ts';
import { RUN_OPTION_SPECS, loadSettings } from '../cli/run-options.ts';
import { spread, type Spread } from './ladder.ts';
import { benchOptions, runBenchMain } from './main.ts';

const SPECS: readonly OptionSpec[] = [
  { name: 'clients', kind: 'int', arg: 'N', help: 'clients per run', default: 1000, min: 1 },
  { name: 'rate', kind: 'number', arg: 'MSG/S', help: 'messages per second on the one topic (part 1)', default: 5, min: 0.1 },
  { name: 'core-rate', kind: 'number', arg: 'MSG/S', help: 'messages per second for the per-core comparison (part 2)', default: 10, min: 0.1 },
  { name: 'rounds', kind: 'int', arg: 'N', help: 'rounds of the per-core comparison (pushbench and bare in turns)', default: 3, min: 1 },
  { name: 'parts', kind: 'list', arg: 'LIST', help: 'parts to run', default: ['transports', 'core'], choices: ['transports', 'core'] },
  { name: 'server-cpu', kind: 'string', arg: 'CPU', help: 'CPU of the Socket.IO server', default: '0' },
  { name: 'load-cpu', kind: 'string', arg: 'CPU', help: 'CPU of the generator and of the bare loop', default: '1' },
];

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const fmt = (x: number | null, d = 2): string => (x === null ? '–' : x.toFixed(d));
const ms = (us: number): string => (us / 1000).toFixed(2);

function settings(transport: string, url: string, clients: number, rate: number, duration: string, warmup: string, loadCpu: string) {
  const argv = ['--target', url, '--socketio', '--clients', String(clients), '--rate', String(rate), '--duration', duration, '--warmup', warmup,
    '--load-cpus', loadCpu, '--workers', '1', '--no-report', '--out', os.tmpdir()];
  const p = parseOptions(argv, RUN_OPTION_SPECS);
  const problems = [...p.problems];
  const s = loadSettings(p.values, transport, problems);
  if (problems.length) throw new Error(problems.join('; '));
  return { ...s, name: `bench-${transport}` };
}

/** Part 1: one run per Socket.IO transport. */
async function transports(url: string, clients: number, rate: number, loadCpu: string): Promise<string[]> {
  const rows = ['| transport | valid | delivered | lost | undelivered | p50 ms | p99 ms | upgrade share | upgrade p50 / p99 ms | heartbeats | req/msg | bytes/msg |', '|---|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const t of TARGET_ONLY_TRANSPORTS) {
    log(`bench:socketio: ${t}, ${clients} clients, ${rate} msg/s`);
    const r = await runOnce(settings(t, url, clients, rate, '8s', '3s', loadCpu));
    const s = r.summary;
    const f = r.socketio!;
    rows.push(`| ${t} | ${r.valid ? 'yes' : `NO (${r.invalidReasons.join('; ')})`} | ${s.delivered} | ${s.lost} | ${s.undelivered ?? '–'} | ${ms(s.latencyUs.p50)} | ${ms(s.latencyUs.p99)} | ${(f.upgradeShare * 100).toFixed(1)} % | ${f.upgradeMs ? `${f.upgradeMs.p50.toFixed(1)} / ${f.upgradeMs.p99.toFixed(1)}` : '–'} | ${f.heartbeats} | ${fmt(s.requestsPerMessage, 3)} | ${fmt(s.bytesPerMessage, 1)} |`);
  }
  return rows;
}

interface PerCore { delivered: number; cpuUs: number; perCoreS: number }

function pbPerCore(r: ResultRecord): PerCore {
  if (!r.valid) log(`  pushbench run invalid: ${r.invalidReasons.join('; ')}`);
  return { delivered: r.summary.delivered, cpuUs: r.generator.cpuUs, perCoreS: r.summary.delivered / (r.generator.cpuUs / 1e6) };
}

/** The bare loop: its own clients on a fresh topic, fed by a publisher in this process (on the load CPU, as pushbench's publisher thread is). */
async function bare(url: string, clients: number, rate: number, loadCpu: string, warmupMs: number, windowMs: number): Promise<PerCore> {
  const run = newRunId();
  const topic = `pb-${run}-t0`;
  const child: Spawned = await spawnTs('bench/socketio-bare.ts', [url, String(clients), topic, run, String(warmupMs), String(windowMs)], {
    cpus: loadCpu, ready: /^(ready)$/, what: 'the bare socket.io-client loop', nodeFlags: GENERATOR_V8_FLAGS, timeoutMs: 60_000,
  });
  const startUs = nowUs();
  const publisher = new ProfilePublisher({
    baseUrl: url, publish: socketioProfile(SOCKETIO_TARGET_DEFAULTS).publish, topics: [topic], ratePerS: rate, payloadBytes: 64,
    startUs, stopUs: startUs + (warmupMs + windowMs + 1000) * 1000, run,
  });
  publisher.start();
  await once(child.child, 'exit');
  await publisher.close();
  const got = JSON.parse(child.stdoutTail().filter(Boolean).at(-1)!) as { delivered: number; cpuUs: number };
  return { ...got, perCoreS: got.delivered / (got.cpuUs / 1e6) };
}

/** Part 2: pushbench and the bare loop in turns; the ratio of their deliveries per CPU-second. */
async function perCore(url: string, clients: number, rate: number, rounds: number, loadCpu: string): Promise<string[]> {
  const rows = ['| round | pushbench deliveries | pushbench CPU s | pushbench /core-s | bare deliveries | bare CPU s | bare /core-s | ratio |', '|---|---|---|---|---|---|---|---|'];
  const ratios: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    log(`bench:socketio: per-core round ${i}/${rounds}`);
    const pb = pbPerCore(await runOnce(settings(TARGET_ONLY_TRANSPORTS[0], url, clients, rate, '6s', '2s', loadCpu)));
    const b = await bare(url, clients, rate, loadCpu, 2000, 4000);
    const ratio = pb.perCoreS / b.perCoreS;
    ratios.push(ratio);
    rows.push(`| ${i} | ${pb.delivered} | ${(pb.cpuUs / 1e6).toFixed(3)} | ${Math.round(pb.perCoreS)} | ${b.delivered} | ${(b.cpuUs / 1e6).toFixed(3)} | ${Math.round(b.perCoreS)} | ${ratio.toFixed(2)} |`);
  }
  const sp: Spread = spread(ratios);
  rows.push('', `deliveries per generator core, socketio-ws ÷ bare socket.io-client: **${fmt(sp.median)}** (median of ${sp.n}; range ${fmt(sp.min)} – ${fmt(sp.max)}); goal ≥ 1.0`);
  return rows;
}

async function main(argv: string[]): Promise<number> {
  const v = benchOptions(argv, SPECS, 'npm run bench:socketio [-- options]', 'Socket.IO transports at scale, and deliveries per generator core against a bare socket.io-client loop.');
  if (v === null) return 0;
  const loadCpu = v.loadCpu as string;
  const pinned = pinSelf(loadCpu);
  const server = await spawnTs('servers/socketio/main.ts', ['--port', '0', '--ping-interval', '5s'], { cpus: v.serverCpu as string, ready: /listening on (http:\/\/\S+)/, what: 'the reference Socket.IO server' });
  const started = new Date();
  const parts = v.parts as string[];
  try {
    const out: string[] = [];
    if (parts.includes('transports')) out.push(`### ${v.clients} clients per transport, ${v.rate} msg/s, 5 s measured`, '', ...(await transports(server.url, v.clients as number, v.rate as number, loadCpu)), '');
    if (parts.includes('core')) out.push(`### Deliveries per generator core: socketio-ws vs bare socket.io-client (${v.clients} clients, ${v.coreRate} msg/s, 4 s measured)`, '', ...(await perCore(server.url, v.clients as number, v.coreRate as number, v.rounds as number, loadCpu)), '');
    out.push(`- ${started.toISOString()} – ${new Date().toISOString()}; ${cpuModel()}, ${os.cpus().length} cores; Node ${process.version}`,
      `- server (socket.io) pinned to CPU ${v.serverCpu}; generator and bare loop pinned to CPU ${loadCpu}${pinned ? '' : ' (taskset missing: NOT pinned)'}; one worker thread`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await server.stop();
  }
  return 0;
}

await runBenchMain('bench:socketio', main);
