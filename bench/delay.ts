/**
 * `npm run bench:delay`: how exactly the reference server's `--delay` comes out in the delivery
 * latency. Per transport, pairs of the same run without and with `--delay 20`, made in turns;
 * prints each run's p50, B ÷ A and B − A per pair: B − A should be the delay itself (the design
 * aims at ±1 ms). The suite keeps a coarse bound (test/load/run.test.ts).
 *
 * Usage: `npm run bench:delay [-- --transports sse,ws] [--pairs 3] [--delay 20]`.
 */
import { validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import type { TransportName } from '../core/wire.ts';
import { TRANSPORTS } from '../load/drivers/index.ts';
import { conditions, median, ms, runPairs, runSettingsFrom } from './pairs.ts';
import { runBenchMain } from './main.ts';

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'transports', kind: 'list', arg: 'LIST', help: 'transports to measure', default: ['sse', 'ws'], choices: TRANSPORTS },
  { name: 'pairs', kind: 'int', arg: 'N', help: 'pairs of runs per transport', default: 3, min: 1, max: 50 },
  { name: 'delay', kind: 'int', arg: 'MS', help: 'the server\'s hold of every delivery', default: 20, min: 1 },
]);

async function main(argv: string[]): Promise<number> {
  const p = parseOptions(argv, SPECS);
  if (p.help) {
    process.stdout.write(formatHelp('npm run bench:delay [-- options]', 'The server\'s --delay as it comes out in the delivery p50, in pairs of runs.', SPECS));
    return 0;
  }
  if (p.problems.length) throw validationError(p.problems);
  const delayMs = p.values.delay as number;
  const argvOf = ['--clients', '50', '--duration', '6s', '--warmup', '2s', '--rate', '20'];
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`\n## bench:delay — ${new Date().toISOString()}\n`);
  write(conditions(`50 clients, 20 msg/s, 6 s runs (2 s warm-up); B with --delay ${delayMs}, A without; the figure is the delivery p50`));
  for (const transport of p.values.transports as TransportName[]) {
    const variant = (delayed: boolean) => ({
      label: delayed ? `p50 with --delay ${delayMs}` : 'p50 without',
      settings: (name: string) => runSettingsFrom(transport, delayed ? [...argvOf, '--delay', String(delayMs)] : argvOf, `${transport}-${name}`),
    });
    const f = await runPairs({ title: transport, a: variant(false), b: variant(true), pairs: p.values.pairs as number, figure: (r) => r.summary.latencyUs.p50, write });
    const d = median(f.differences);
    write(`${transport}: the delay came out as ${ms(d)} (error ${d === null ? '—' : ms(d - delayMs * 1000)}).`);
  }
  return 0;
}

await runBenchMain('bench:delay', main);
