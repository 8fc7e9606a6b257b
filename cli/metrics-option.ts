/**
 * `--metrics-port N` / `--metrics [HOST]:PORT` on the load commands (run, rank, capacity): the
 * command runs with a Prometheus endpoint open (load/metrics-server.ts) that every run it makes
 * reports to (load/metrics-sink.ts), and closes it when the command ends — normally, on an error
 * or on Ctrl-C — so no port is left behind.
 *
 * The address is checked and the port bound before the command does any work: a port in use, or a
 * malformed address, is an exit-2 problem listed with the other option problems parseOptions finds.
 */
import { validationError } from '../core/errors.ts';
import { parseOptions, type OptionSpec, type OptionValues } from '../core/options.ts';
import { useProcessMetrics } from '../load/metrics-sink.ts';
import type { MetricsAddress } from '../load/metrics-server.ts';

export const METRICS_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'metrics-port', kind: 'int', arg: 'N', help: 'serve live Prometheus metrics on port N of every interface at /metrics while the command runs (0: any free port, printed); see docs/metrics.md', min: 0, max: 65535 },
  { name: 'metrics', kind: 'string', arg: '[HOST]:PORT', help: 'the same on one address, e.g. 127.0.0.1:9464 (:9464 is every interface)' },
]);

const ADDRESS_RE = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/;

/** The address the options ask for, null for none; malformed ones add to `problems`. */
export function metricsAddress(v: OptionValues, problems: string[]): MetricsAddress | null {
  const port = v.metricsPort as number | undefined;
  const text = v.metrics as string | undefined;
  if (port !== undefined && text !== undefined) {
    problems.push('give --metrics-port or --metrics, not both');
    return null;
  }
  if (port !== undefined) return { host: '0.0.0.0', port };
  if (text === undefined) return null;
  const m = ADDRESS_RE.exec(text.trim());
  const p = m ? Number(m[3]) : NaN;
  if (!m || !(p >= 0 && p <= 65535)) {
    problems.push(`--metrics must be [HOST]:PORT with a port of 0-65535, e.g. :9464 or 127.0.0.1:9464 (got "${text}")`);
    return null;
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: p };
}

type Command = (argv: string[]) => Promise<number>;

/**
 * `command` with the metrics options: without them it runs as it is; with them, the endpoint is
 * open for as long as it runs. `specs` are the command's own (for the problems parseOptions finds).
 */
export function withMetrics(command: Command, specs: readonly OptionSpec[]): Command {
  return async (argv) => {
    const parsed = parseOptions(argv, specs);
    if (parsed.help) return command(argv);
    const problems: string[] = [];
    const addr = metricsAddress(parsed.values, problems);
    if (!addr && problems.length === 0) return command(argv);
    const { GeneratorMetrics } = await import('../load/metrics.ts');
    const { serveMetrics } = await import('../load/metrics-server.ts');
    const metrics = new GeneratorMetrics();
    const server = addr ? await serveMetrics(metrics.registry, addr) : null;
    if (typeof server === 'string') problems.push(server);
    if (problems.length > 0 || !server || typeof server === 'string') throw validationError([...parsed.problems, ...problems]);
    process.stdout.write(`metrics: ${server.url}\n`);
    useProcessMetrics(metrics);
    try {
      return await command(argv);
    } finally {
      useProcessMetrics(undefined);
      await server.close();
    }
  };
}
