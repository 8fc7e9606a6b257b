/**
 * `npm run bench:metrics -- [--pairs N] [--scrape-every TIME] [--out DIR] -- <pushbench run options>`:
 * what `--metrics-port` costs the generator. The same `pushbench run`, without and with live
 * metrics (scraped every --scrape-every, as a Prometheus would), taken in turns — A B, B A, … —
 * so a drift in the machine's speed falls on both sides; prints each run's generator CPU per
 * delivery, the medians and their ratio, and the ratio within each back-to-back pair (bench/ab.ts,
 * whose helpers this reuses: "base" is without metrics, "head" with).
 *
 * Server pinned to --server-cpus and generator to --load-cpus (default 0 and 1). Ctrl-C stops the
 * run in progress. docs/benchmarks.md has the figures.
 */
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { PushbenchError, validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import { repoPath } from '../core/tsx.ts';
import { cpuModel } from '../load/resources.ts';
import { abOrder, checkRunArgv, median, pairedRatios, runFigures, runOne, splitRunArgv, stopRunOnSignal, type RunFigures } from './ab.ts';
import { spread } from './ladder.ts';

const SPECS: OptionSpec[] = [
  { name: 'pairs', kind: 'int', arg: 'N', help: 'runs of each side, taken in turns (A B B A …)', default: 3, min: 1, max: 20 },
  { name: 'scrape-every', kind: 'durationMs', arg: 'TIME', help: 'how often the runs with metrics are scraped', default: 5000, min: 250 },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the runs\' records go', default: 'results/bench-metrics' },
  { name: 'help', kind: 'bool', short: 'h', help: 'show this help' },
];

const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);
const us = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)} µs`);

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** One run with metrics on `port`, scraped every `everyMs` until it ends; resolves with its record and the scrapes that answered. */
async function runScraped(argv: string[], outDir: string, port: number, everyMs: number) {
  const run = runOne(repoPath('.'), [...argv, '--metrics', `127.0.0.1:${port}`], outDir);
  let done = false;
  void run.finally(() => (done = true)).catch(() => {});
  let scrapes = 0;
  while (!done) {
    await Promise.race([run.catch(() => {}), new Promise((r) => setTimeout(r, everyMs))]);
    if (done) break;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null);
    if (res?.ok) {
      await res.text();
      scrapes++;
    }
  }
  return { record: await run, scrapes };
}

function report(runs: readonly RunFigures[], pairs: number, argv: string[], scrapes: number[], outRoot: string): void {
  out('## bench:metrics — generator CPU without and with --metrics-port');
  out();
  out(`\`pushbench run ${argv.join(' ')}\`, ${pairs} runs per side in turns; "with" runs were scraped ${scrapes.join(', ')} times. Generator CPU is the pushbench process over each run's measured window. ${cpuModel()}, ${os.cpus().length} cores; Node ${process.version}; ${new Date().toISOString()}.`);
  out();
  out('| # | metrics | valid | deliveries/s | gen CPU | CPU/delivery | p99 |');
  out('|---:|---|---|---:|---:|---:|---:|');
  runs.forEach((f, i) => out(`| ${i + 1} | ${f.side === 'head' ? 'with' : 'without'} | ${f.valid ? 'yes' : 'NO'} | ${Math.round(f.deliveriesPerS).toLocaleString('en-US')} | ${f.generatorCpuPct.toFixed(1)} % | ${us(f.cpuPerDeliveryUs)} | ${(f.p99Us / 1000).toFixed(1)} ms |`));
  out();
  const side = (s: 'base' | 'head') => runs.filter((f) => f.side === s && f.cpuPerDeliveryUs !== null).map((f) => f.cpuPerDeliveryUs!);
  const w = spread(side('head'));
  const wo = spread(side('base'));
  out(`- CPU per delivery without metrics: median ${us(wo.median)} (${side('base').map((x) => x.toFixed(2)).join(', ')})`);
  out(`- CPU per delivery with metrics: median ${us(w.median)} (${side('head').map((x) => x.toFixed(2)).join(', ')})`);
  if (w.median !== null && wo.median !== null) out(`- with ÷ without, medians: **${(w.median / wo.median).toFixed(3)}**`);
  const paired = pairedRatios(runs, 'cpuPerDeliveryUs');
  if (paired.length > 0) {
    const m = median(paired)!;
    out(`- with ÷ without within each back-to-back pair that did the same work (${paired.length} of ${pairs}): ${paired.map((x) => x.toFixed(3)).join(', ')}; median **${m.toFixed(3)}** (${m < 1 ? '−' : '+'}${Math.abs(100 * (m - 1)).toFixed(1)} %), range ${Math.min(...paired).toFixed(3)}–${Math.max(...paired).toFixed(3)}`);
  }
  for (const [i, f] of runs.entries()) if (!f.valid) out(`- run ${i + 1} (${f.side === 'head' ? 'with' : 'without'}) invalid: ${f.invalidReasons.join('; ')}`);
  out(`- records: ${outRoot}`);
}

export async function main(argv: string[]): Promise<number> {
  const { own, runArgv } = splitRunArgv(argv);
  const parsed = parseOptions(own, SPECS);
  if (parsed.help) {
    process.stdout.write(formatHelp('npm run bench:metrics -- [options] -- <pushbench run options>', 'One `pushbench run`, without and with --metrics-port in turns: generator CPU per delivery, medians and their ratio.', SPECS));
    return 0;
  }
  const problems = [...parsed.problems];
  for (const a of ['--metrics', '--metrics-port']) if (runArgv.some((x) => x === a || x.startsWith(`${a}=`))) problems.push(`${a} is set by bench:metrics for the runs with metrics; leave it out of the run's options`);
  const { withPins } = checkRunArgv(runArgv, 'bench:metrics', problems);
  if (problems.length) {
    process.stderr.write(`${validationError(problems, 'bench:metrics: invalid options').message}\n`);
    return 2;
  }
  const pairs = parsed.values.pairs as number;
  const everyMs = parsed.values.scrapeEvery as number;
  const outRoot = join(resolve(parsed.values.out as string), `metrics-${new Date().toISOString().replace(/[:.]/g, '').slice(0, 15)}`);
  const offSignals = stopRunOnSignal('bench:metrics');
  try {
    const runs: RunFigures[] = [];
    const scrapes: number[] = [];
    const order = abOrder(pairs);
    for (let i = 0; i < order.length; i++) {
      const side = order[i];
      const dir = join(outRoot, `${String(i + 1).padStart(2, '0')}-${side === 'head' ? 'with' : 'without'}`);
      const started = Date.now();
      let record;
      if (side === 'head') {
        const r = await runScraped(withPins, dir, await freePort(), everyMs);
        record = r.record;
        scrapes.push(r.scrapes);
      } else record = await runOne(repoPath('.'), withPins, dir);
      const f = runFigures(side, record);
      runs.push(f);
      log(`  ${i + 1}/${order.length} ${side === 'head' ? 'with' : 'without'}: ${Math.round(f.deliveriesPerS).toLocaleString('en-US')} deliveries/s, generator CPU ${f.generatorCpuPct.toFixed(1)} %, ${us(f.cpuPerDeliveryUs)}/delivery, valid ${f.valid} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    report(runs, pairs, withPins, scrapes, outRoot);
    return 0;
  } finally {
    offSignals();
  }
}

if (process.argv[1] && /bench[\\/]metrics\.ts$/.test(process.argv[1])) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof PushbenchError ? '' : 'bench:metrics: '}${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
