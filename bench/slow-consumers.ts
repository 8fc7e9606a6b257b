/**
 * `npm run bench:slow-consumers`: what slow readers cost the other clients. Per transport, pairs
 * of the same run without and with a share of slow readers (the server drops them once their
 * 32 KB send budget is full), made in turns; prints the fast clients' p99 of each run and B ÷ A,
 * B − A per pair. The suite keeps a coarse bound of this (test/reliability/slow-consumers.test.ts:
 * at most one message period above the run without slow readers).
 *
 * Usage: `npm run bench:slow-consumers [-- --transports ws,sse] [--pairs 3] [--duration 10s]
 * [--slow 20%:2KB/s]`.
 */
import { validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import type { TransportName } from '../core/wire.ts';
import { parseSlowClients } from '../cli/run-options.ts';
import { conditions, runPairs, runSettingsFrom } from './pairs.ts';
import { runBenchMain } from './main.ts';

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'transports', kind: 'list', arg: 'LIST', help: 'transports to measure', default: ['ws', 'sse'], choices: ['ws', 'sse'] },
  { name: 'pairs', kind: 'int', arg: 'N', help: 'pairs of runs per transport', default: 3, min: 1, max: 50 },
  { name: 'duration', kind: 'durationMs', arg: 'TIME', help: 'each run, warm-up (2 s) included', default: 10_000, min: 4000 },
  { name: 'slow', kind: 'string', arg: 'SHARE:RATE', help: 'the slow readers', default: '20%:2KB/s' },
]);

async function main(argv: string[]): Promise<number> {
  const p = parseOptions(argv, SPECS);
  if (p.help) {
    process.stdout.write(formatHelp('npm run bench:slow-consumers [-- options]', 'The other clients\' p99 with and without slow readers, in pairs of runs.', SPECS));
    return 0;
  }
  const slow = parseSlowClients(p.values.slow as string);
  const problems = [...p.problems, ...(typeof slow === 'string' ? [`--slow: ${slow}`] : [])];
  if (problems.length) throw validationError(problems);
  const argvOf = ['--clients', '20', '--duration', `${p.values.duration}ms`, '--warmup', '2s', '--rate', '50', '--payload', '32KB'];
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`\n## bench:slow-consumers — ${new Date().toISOString()}\n`);
  write(conditions(`20 clients, 50 msg/s of 32 KB, ${(p.values.duration as number) / 1000} s runs (2 s warm-up), server send budget 32 KB; B has ${p.values.slow} slow readers, A none; the figure is the other clients' delivery p99`));
  for (const transport of p.values.transports as TransportName[]) {
    const variant = (withSlow: boolean) => ({
      label: withSlow ? `p99 with slow readers` : 'p99 without',
      settings: (name: string) => {
        const s = runSettingsFrom(transport, argvOf, `${transport}-${name}`);
        s.serverArgs = ['--send-buffer', '32KB'];
        if (withSlow && typeof slow !== 'string') s.slowClients = slow;
        return s;
      },
    });
    await runPairs({ title: transport, a: variant(false), b: variant(true), pairs: p.values.pairs as number, figure: (r) => r.summary.latencyUs.p99, write });
  }
  return 0;
}

await runBenchMain('bench:slow-consumers', main);
