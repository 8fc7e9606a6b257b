/**
 * `pushbench <command>`: the one entry point. Every command returns an exit code:
 * 0 success, 1 a gate failed (regression, assertion), 2 bad input, 130 interrupted.
 */
import { exitCodeOf, PushbenchError } from '../core/errors.ts';
import type { OptionSpec } from '../core/options.ts';

type Command = (argv: string[]) => Promise<number>;

/** Commands, loaded lazily so `pushbench serve` does not load the generator and vice versa. */
const COMMANDS: Record<string, { help: string; load: () => Promise<Command> }> = {
  serve: { help: 'start the reference servers (all four transports on one port)', load: async () => (await import('../servers/serve.ts')).serveCommand },
  rank: { help: 'the main job: rank the four transports with confidence intervals over message rates and networks, and map where the claimed order holds', load: async () => withMetricsOf(...(await import('./rank-command.ts').then((m) => [m.rankCommand, m.RANK_OPTION_SPECS] as const))) },
  run: { help: 'measure one transport under a workload', load: async () => withMetricsOf((await import('./run-command.ts')).runCommand, (await import('./run-options.ts')).RUN_OPTION_SPECS) },
  capacity: { help: 'how many clients each transport holds under an SLO, and servers needed for a million', load: async () => withMetricsOf(...(await import('./capacity-command.ts').then((m) => [m.capacityCommand, m.CAPACITY_OPTION_SPECS] as const))) },
  plan: { help: 'plan one run over many machines (shards): writes the plan every shard and merge read', load: async () => (await import('./plan-command.ts')).planCommand },
  manifest: { help: 'the Kubernetes objects (Indexed Job) or GitHub Actions workflow that run a plan\'s shards', load: async () => (await import('./manifest-command.ts')).manifestCommand },
  merge: { help: 'merge the records of a plan\'s shards into one record and report, thresholds judged on it', load: async () => (await import('./merge-command.ts')).mergeCommand },
  report: { help: 'write the report (HTML, SVG, Markdown, CSV, hlog) for result files', load: async () => (await import('./report-command.ts')).reportCommand },
  compare: { help: 'regression gate: compare result files against a baseline, with thresholds and significance', load: async () => (await import('./compare-command.ts')).compareCommand },
  ab: { help: 'regression gate for a change: measure a git revision and this checkout in turns, then compare', load: async () => (await import('./ab-command.ts')).abCommand },
};

/** A load command with `--metrics-port` (cli/metrics-option.ts); `specs`: its option table. */
async function withMetricsOf(command: Command, specs: readonly OptionSpec[]): Promise<Command> {
  const { withMetrics } = await import('./metrics-option.ts');
  return withMetrics(command, specs);
}

export function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  return `usage: pushbench <command> [options]\n\ncommands:\n${Object.entries(COMMANDS)
    .map(([k, c]) => `  ${k.padEnd(w)}${c.help}`)
    .join('\n')}\n\n'pushbench <command> --help' shows a command's options; 'pushbench --version' the version.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`pushbench ${(await import('../core/version.ts')).PUSHBENCH_VERSION}\n`);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`pushbench: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await cmd.load())(rest);
  } catch (err) {
    if (err instanceof PushbenchError) {
      process.stderr.write(`pushbench ${name}: ${err.message}\n`);
      if (err.code === 'PB_BAD_OPTION') process.stderr.write(`('pushbench ${name} --help' lists the options)\n`);
      return exitCodeOf(err);
    }
    process.stderr.write(`pushbench ${name}: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
