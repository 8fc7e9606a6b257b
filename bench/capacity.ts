/**
 * `npm run bench:capacity`: issue 7's acceptance figures. Runs `pushbench capacity` for SSE and
 * WebSocket at a low message rate (broadcast, 1 msg/s, 64 B), doubling to 20,000 clients by
 * default — past one process's 20,000 open files, so the reference server and the generator each
 * run as 2 processes (chosen from the limit) with source addresses spread over 127.0.0.x — and
 * then checks what the acceptance asks at the largest count reached: valid, 0 lost, memory per
 * connection reported. Prints the conditions (machine, pinning, limits, load average before and
 * after) and the capacity table as Markdown; exits 1 when a check fails.
 *
 * Usage: `npm run bench:capacity [-- --max 40000] [--start 5000] [--step-duration 20s] [--quick]`.
 */
import { TRANSPORTS } from '../load/drivers/index.ts';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { capacityCommand } from '../cli/capacity-command.ts';
import { validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import { cpuModel, openFilesLimit } from '../load/resources.ts';
import { readResultFile } from '../core/record.ts';
import { formatBytes, formatUs } from '../core/units.ts';
import { runBenchMain } from './main.ts';

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'quick', kind: 'bool', help: 'smoke check: 200 → 800 clients, 5 s steps (not the acceptance figures)' },
  { name: 'transports', kind: 'list', arg: 'LIST', help: 'transports to measure', default: ['sse', 'ws'], choices: TRANSPORTS },
  { name: 'start', kind: 'int', arg: 'N', help: 'clients of the first step', default: 5000, min: 1 },
  { name: 'max', kind: 'int', arg: 'N', help: 'most clients (the acceptance asks for 20,000)', default: 20_000, min: 1 },
  { name: 'step-duration', kind: 'durationMs', arg: 'TIME', help: 'measured hold of each step', default: 20_000, min: 1000 },
  { name: 'slo', kind: 'string', arg: 'TERMS', help: 'the SLO each step must hold', default: 'p99<250ms,lost=0,errors<0.1%' },
  { name: 'topics', kind: 'int', arg: 'N', help: 'broadcast topics the clients spread over (each carries 1 msg/s, so every client still gets 1 msg/s; more topics spread the fan-out over the second)', default: 100, min: 1 },
  { name: 'arrival-rate', kind: 'ratePerS', arg: 'N/s', help: 'clients started per second', default: 1000 },
  { name: 'server-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the reference server (taskset list)', default: '0' },
  { name: 'load-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the generator processes', default: '1' },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the step records and the report go', default: '.tmp/bench-capacity' },
]);

interface CapacityFile {
  outcomes: { transport: string; capacity: number | null; lowerBound: boolean; stop: { kind: string; message: string }; atCapacity: string | null; serverProcs: number; generatorProcs: number }[];
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' / ');

async function main(argv: string[]): Promise<number> {
  const p = parseOptions(argv, SPECS);
  if (p.help) {
    process.stdout.write(formatHelp('npm run bench:capacity [-- options]', 'Issue 7 acceptance: SSE and WebSocket held at 20,000 clients, 1 msg/s broadcast.', SPECS));
    return 0;
  }
  if (p.problems.length) throw validationError(p.problems);
  const v = p.values;
  const quick = Boolean(v.quick);
  const start = quick ? 200 : (v.start as number);
  const max = quick ? 800 : (v.max as number);
  const stepMs = quick ? 5000 : (v.stepDuration as number);
  const name = `bench-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  const loadBefore = load();
  const startedAt = new Date();
  const code = await capacityCommand([
    '--transport', (v.transports as string[]).join(','), '--slo', v.slo as string,
    '--start', String(start), '--max', String(max), '--step-duration', `${stepMs}ms`,
    '--workload', 'broadcast', '--rate', '1', '--payload', '64', '--topics', String(v.topics),
    '--arrival-rate', String(v.arrivalRate), '--server-cpus', v.serverCpus as string, '--load-cpus', v.loadCpus as string,
    '--out', v.out as string, '--name', name,
  ]);
  if (code !== 0) return code;
  const dir = join(v.out as string, name);
  const file = JSON.parse(readFileSync(join(dir, 'capacity.json'), 'utf8')) as CapacityFile;
  const fds = openFilesLimit();
  const minutes = ((Date.now() - startedAt.getTime()) / 60_000).toFixed(1);
  const out = [
    '',
    `## bench:capacity — ${startedAt.toISOString()}`,
    '',
    `Conditions: ${os.cpus().length} × ${cpuModel()}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}; reference server pinned to CPU ${v.serverCpus}, generator to CPU ${v.loadCpus}; ` +
      `open files ${fds ? fds.hard.toLocaleString('en-US') : 'unknown'} per process; broadcast over ${v.topics} topic(s) at 1 msg/s each (every client gets 1 msg/s), 64 B, loopback, clients arriving at ${v.arrivalRate}/s; ` +
      `steps ${start.toLocaleString('en-US')} → ${max.toLocaleString('en-US')}, ${stepMs / 1000} s measured after each step's warm-up; SLO ${v.slo}; ` +
      `load average (1/5/15 min) ${loadBefore} before, ${load()} after; ${minutes} min.`,
    '',
    '| transport | clients held | server + generator processes | valid | lost | p50 | p99 | server CPU | server RSS/connection | stopped because |',
    '|---|---:|---:|---|---:|---:|---:|---:|---:|---|',
  ];
  const failures: string[] = [];
  for (const o of file.outcomes) {
    const r = o.atCapacity ? readResultFile(join(dir, `${o.atCapacity}.json`)) : null;
    if (!r) {
      out.push(`| ${o.transport} | none | — | — | — | — | — | — | — | ${o.stop.message} |`);
      failures.push(`${o.transport}: no step held the SLO`);
      continue;
    }
    const s = r.summary;
    const cpu = r.server ? `${((100 * r.server.cpuUs) / ((r.config.durationMs - r.config.warmupMs) * 1000)).toFixed(0)} % of a core` : 'unknown';
    const rss = s.serverRssBytesPerConnection === null ? 'unknown' : formatBytes(s.serverRssBytesPerConnection);
    out.push(`| ${o.transport} | ${o.lowerBound ? '≥ ' : ''}${s.clients.toLocaleString('en-US')} | ${o.serverProcs} + ${o.generatorProcs} | ${s.valid ? 'yes' : 'NO'} | ${s.lost} | ${formatUs(s.latencyUs.p50)} | ${formatUs(s.latencyUs.p99)} | ${cpu} | ${rss} | ${o.stop.message} |`);
    if (!quick && s.clients < 20_000) failures.push(`${o.transport}: held ${s.clients} clients, the acceptance asks for 20,000`);
    if (!s.valid) failures.push(`${o.transport}: the step at ${s.clients} is invalid`);
    if (s.lost !== 0) failures.push(`${o.transport}: ${s.lost} lost at ${s.clients}`);
    if (s.serverRssBytesPerConnection === null) failures.push(`${o.transport}: memory per connection unknown`);
  }
  out.push('', failures.length ? `Acceptance: FAILED — ${failures.join('; ')}` : 'Acceptance: passed (each transport held, valid, 0 lost, memory per connection reported).', `Records and report: ${dir}`, '');
  process.stdout.write(out.join('\n'));
  return failures.length ? 1 : 0;
}

await runBenchMain('bench:capacity', main);
