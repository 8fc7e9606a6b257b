/**
 * `npm run bench:proxy`: how exactly the latency proxy adds its configured one-way delay, in each
 * direction, against the bare loopback path measured in the same run.
 *
 * The proxy runs as its own process (netem/proxy-main.ts, as in a run), so the stamps' writers and
 * readers here do not share its event loop. Each stamp is written at a random point inside its
 * millisecond: the proxy releases chunks on whole-millisecond timers (netem/release-schedule.ts),
 * and stamps written on this process's own millisecond timers would all fall at one phase of
 * that grid and carry its rounding (up to ±0.5 ms) whole into the median instead of averaging it.
 *
 * The median of what the proxy adds beyond the bare path includes its own path's extra loopback
 * hop and event-loop turn (~0.1-0.2 ms on a quiet machine): on a loaded machine each of those
 * waits for a CPU, which is what moves the median by half a millisecond or more, not the
 * schedule. Read the error next to the load average this prints.
 *
 * Usage: `npm run bench:proxy [-- --delays 20,3,1] [--stamps 400] [--proxy-cpus 1]`.
 */
import net from 'node:net';
import os from 'node:os';
import { validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import { spawnTs } from '../core/spawn.ts';
import { repoPath } from '../core/tsx.ts';
import { nowUs } from '../core/wire.ts';
import { cpuModel } from '../load/resources.ts';
import { quantileSorted } from '../reports/stats.ts';
import { readStamps } from './stamps.ts';
import { runBenchMain } from './main.ts';

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'delays', kind: 'list', arg: 'MS,…', help: 'one-way delays to measure, ms', default: ['20', '3', '1'] },
  { name: 'stamps', kind: 'int', arg: 'N', help: 'stamps each way per delay (one every 3-6 ms)', default: 400, min: 20 },
  { name: 'proxy-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the proxy process (taskset list)', default: '1' },
]);

const quantile = (xs: readonly number[], q: number) => quantileSorted([...xs].sort((x, y) => x - y), q);
const median = (xs: readonly number[]) => quantile(xs, 0.5);
/** One-way delays in ms, from a stamp stream, into `into`. */
const delaysInto = (into: number[]) => (sentUs: number, recvUs: number) => void into.push((recvUs - sentUs) / 1000);

/** `count` stamps 3-6 ms apart, each at a random point of its millisecond (a short spin). */
async function writeStamps(s: net.Socket, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await new Promise((r) => setTimeout(r, 3 + (i % 4)));
    const at = nowUs() + Math.random() * 1000;
    while (nowUs() < at);
    s.write(`${nowUs()}\n`);
  }
}

interface OneWay { up: number[]; down: number[] }

async function measure(port: number, accepted: () => Promise<net.Socket>, count: number): Promise<OneWay> {
  const next = accepted();
  const client = await new Promise<net.Socket>((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(c));
    c.once('error', reject);
  });
  const target = await next;
  const m: OneWay = { up: [], down: [] };
  readStamps(target, delaysInto(m.up));
  readStamps(client, delaysInto(m.down));
  // one direction after the other, so their releases never queue behind each other
  await writeStamps(client, count);
  await writeStamps(target, count);
  await new Promise((r) => setTimeout(r, 200));
  client.destroy();
  return m;
}

async function main(argv: string[]): Promise<number> {
  const p = parseOptions(argv, SPECS);
  if (p.help) {
    process.stdout.write(formatHelp('npm run bench:proxy [-- options]', 'The latency proxy\'s added one-way delay per direction, against the bare loopback path of the same run.', SPECS));
    return 0;
  }
  const delays = (p.values.delays as string[]).map(Number);
  const problems = [...p.problems, ...delays.filter((d) => !(d > 0)).map((d) => `--delays: ${d} is not a delay in ms above 0`)];
  if (problems.length) throw validationError(problems);
  const count = p.values.stamps as number;

  const waiting: ((s: net.Socket) => void)[] = [];
  const server = net.createServer({ noDelay: true }, (s) => waiting.shift()?.(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = () => new Promise<net.Socket>((r) => waiting.push(r));

  const loadBefore = os.loadavg()[0].toFixed(2);
  const bare = await measure(port, accepted, count);
  const bareUp = median(bare.up);
  const bareDown = median(bare.down);
  const rows: string[] = [];
  for (const delayMs of delays) {
    const proxy = await spawnTs(repoPath('netem/proxy-main.ts'), ['--target', `127.0.0.1:${port}`, '--delay', `${delayMs}ms`, '--jitter', '0ms'],
      { cpus: p.values.proxyCpus as string, ready: /^pushbench proxy listening on (http:\/\/\S+)/, what: 'the latency proxy' });
    try {
      const m = await measure(Number(new URL(proxy.url).port), accepted, count);
      for (const [dir, xs, baseMs] of [['up', m.up, bareUp], ['down', m.down, bareDown]] as const) {
        const added = median(xs) - baseMs;
        rows.push(`| ${delayMs} ms | ${dir} | ${added.toFixed(3)} ms | ${(added - delayMs >= 0 ? '+' : '') + (added - delayMs).toFixed(3)} ms | ${(added / delayMs).toFixed(3)} | ${(quantile(xs, 0.99) - baseMs).toFixed(3)} ms | ${(Math.min(...xs) - delayMs).toFixed(3)} ms |`);
      }
    } finally {
      await proxy.stop();
    }
  }
  server.close();
  process.stdout.write([
    '',
    `## bench:proxy — ${new Date().toISOString()}`,
    '',
    `Conditions: ${os.cpus().length} × ${cpuModel()}, Node ${process.version}; proxy process on CPU ${p.values.proxyCpus}; ${count} stamps each way per delay, one every 3-6 ms at a random point of its millisecond; load average ${loadBefore} before, ${os.loadavg()[0].toFixed(2)} after.`,
    `Bare loopback (the peer, same run): median ${bareUp.toFixed(3)} ms up, ${bareDown.toFixed(3)} ms down.`,
    '',
    '| delay | direction | median added (beyond bare) | error of the median | added ÷ configured | p99 added | earliest − delay |',
    '|--:|---|--:|--:|--:|--:|--:|',
    ...rows,
    '',
  ].join('\n'));
  return 0;
}

await runBenchMain('bench:proxy', main);
