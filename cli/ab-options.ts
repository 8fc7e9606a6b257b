/**
 * The gate's configuration, shared by `pushbench ab`, the workflow's measurement and bench:gate:
 * the reference servers at a small scale on loopback, each transport repeated. The repeats were
 * chosen with `npm run bench:gate` (docs/regression-gate.md has the figures). And the `pushbench
 * run` options `ab` hands each run: what the user gave, in the run's own syntax.
 */
import type { OptionSpec, OptionValues } from '../core/options.ts';
import { LOAD_OPTION_SPECS } from './run-options.ts';
import type { TurnStep } from './ab-turns.ts';

/** `rank --clients 200 --duration 6s --rate 5 --network loopback --repeats N`: the gate's runs. */
export const GATE_DEFAULTS = Object.freeze({ clients: 200, duration: 6000, rate: 5, network: 'loopback', repeats: 5 });

/** The gate's scale as `pushbench run`/`rank` options (the network apart). */
export function gateRunArgs(): string[] {
  return ['--clients', String(GATE_DEFAULTS.clients), '--duration', `${GATE_DEFAULTS.duration}ms`, '--rate', String(GATE_DEFAULTS.rate)];
}

/** A parsed option value back in the syntax its parser reads (ms for durations, a fraction for %). */
function optionText(spec: OptionSpec, v: OptionValues[string]): string[] {
  if (v === undefined || v === false) return [];
  if (spec.kind === 'bool') return [`--${spec.name}`];
  if (spec.kind === 'durationMs') return [`--${spec.name}=${v}ms`];
  if (Array.isArray(v)) return [`--${spec.name}=${v.join(',')}`];
  return [`--${spec.name}=${String(v)}`];
}

/** Options that are the command's own, not a run's: where records go, and the network (one per step). */
const NOT_FORWARDED = new Set(['out', 'no-report', 'network']);

/**
 * The `pushbench run` options of one step: its transport and network, then every load option the
 * user gave and the gate's defaults — each base and head run gets the same ones. Options left at
 * `run`'s own defaults are not passed, so an older base revision is not handed one it lacks.
 */
export function forwardedRunArgs(step: TurnStep, values: OptionValues, given: ReadonlySet<string>): string[] {
  const args = ['--transport', step.transport, '--network', step.network];
  for (const spec of LOAD_OPTION_SPECS) {
    if (NOT_FORWARDED.has(spec.name)) continue;
    if (given.has(spec.name) || spec.name in GATE_DEFAULTS) args.push(...optionText(spec, values[spec.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())]));
  }
  return args;
}
