/**
 * `npm run bench:profile`: what the profile path (`--profile builtin:reference`: the generator
 * publishes by HTTP, the clients subscribe as the profile says) costs in latency against the
 * native path, on the same reference server. Per transport, pairs of native and profile runs in
 * turns; prints each run's median and B ÷ A per pair. The figure is the delivery p50, except for
 * short polling, whose delivery latency is staleness (each client's phase against the publish
 * grid, a matter of chance): there it is the request p50, what the two paths share.
 * The suite keeps a coarse bound for ws (test/load/target/reference.test.ts).
 *
 * Usage: `npm run bench:profile [-- --transports ws,sse,long-poll,short-poll] [--pairs 3]`.
 */
import { validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import type { TransportName } from '../core/wire.ts';
import { decodeHistogram, percentiles } from '../core/histogram.ts';
import { TRANSPORTS, traitsOf } from '../load/drivers/index.ts';
import { conditions, runPairs, runSettingsFrom } from './pairs.ts';
import { runBenchMain } from './main.ts';

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'transports', kind: 'list', arg: 'LIST', help: 'transports to measure', default: [...TRANSPORTS], choices: TRANSPORTS },
  { name: 'pairs', kind: 'int', arg: 'N', help: 'pairs of runs per transport', default: 3, min: 1, max: 50 },
]);

async function main(argv: string[]): Promise<number> {
  const p = parseOptions(argv, SPECS);
  if (p.help) {
    process.stdout.write(formatHelp('npm run bench:profile [-- options]', 'Native path against --profile builtin:reference, in pairs of runs.', SPECS));
    return 0;
  }
  if (p.problems.length) throw validationError(p.problems);
  const argvOf = ['--clients', '50', '--topics', '2', '--rate', '10', '--duration', '8s', '--warmup', '2s', '--poll-interval', '100ms', '--long-poll-timeout', '2s'];
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`\n## bench:profile — ${new Date().toISOString()}\n`);
  write(conditions('50 clients on 2 topics at 10 msg/s, 8 s runs (2 s warm-up), Δ = 100 ms, long polls of 2 s; A native, B --profile builtin:reference'));
  for (const transport of p.values.transports as TransportName[]) {
    const staleness = traitsOf(transport).pollInterval;
    const variant = (profiled: boolean) => ({
      label: `${profiled ? 'profile' : 'native'} ${staleness ? 'request' : 'delivery'} p50`,
      settings: (name: string) => runSettingsFrom(transport, profiled ? [...argvOf, '--profile', 'builtin:reference'] : argvOf, `${transport}-${name}`),
    });
    await runPairs({
      title: transport, a: variant(false), b: variant(true), pairs: p.values.pairs as number, write,
      figure: (r) => (staleness ? percentiles(decodeHistogram(r.histograms.requestUs)).p50 : r.summary.latencyUs.p50),
    });
  }
  return 0;
}

await runBenchMain('bench:profile', main);
