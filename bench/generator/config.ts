/**
 * bench:generator's options: the option table (also its --help), the parts, and the Config the
 * parts run from, with `--quick`'s small-scale values for every option not given.
 */
import { validationError } from '../../core/errors.ts';
import { parseCommandArgs, type OptionSpec } from '../../core/options.ts';
import { TRANSPORTS } from '../../load/drivers/index.ts';
import type { TransportName } from '../../core/wire.ts';

export const PARTS = ['held', 'absorb', 'poll', 'poll-replay'] as const;
export type Part = (typeof PARTS)[number];

export const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'quick', kind: 'bool', help: 'small scale (smoke check, about 2 minutes); figures are not the acceptance figures' },
  { name: 'parts', kind: 'list', arg: 'LIST', help: 'which comparisons to run', choices: PARTS, default: [...PARTS] },
  { name: 'server-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the reference server (taskset list)', default: '0' },
  { name: 'load-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of every generator (pushbench, bare client, autocannon)', default: '1' },
  { name: 'held-transports', kind: 'list', arg: 'LIST', help: 'transports held (part 1); the acceptance is every transport', choices: TRANSPORTS, default: [...TRANSPORTS] },
  { name: 'held-clients', kind: 'int', arg: 'N', help: 'clients held per transport (part 1; --quick: 1000)', default: 10_000, min: 1 },
  { name: 'held-topics', kind: 'int', arg: 'N', help: 'topics the held clients spread over, each at 1 msg/s (part 1; 1 makes every second one burst of N deliveries)', default: 100, min: 1 },
  { name: 'held-window', kind: 'durationMs', arg: 'TIME', help: 'measured hold after the ramp and warm-up (part 1; --quick: 8s)', default: 30_000, min: 1000 },
  { name: 'held-settle', kind: 'durationMs', arg: 'TIME', help: 'warm-up after the ramp before the hold is measured (part 1)', default: 8000, min: 0 },
  { name: 'ladder-clients', kind: 'int', arg: 'N', help: 'subscribers on the one topic of each ladder step (part 2; --quick: 200)', default: 1000, min: 1 },
  { name: 'ladder-start', kind: 'number', arg: 'MSG/S', help: 'first rate of the search on the topic (part 2; --quick: 50)', default: 50, min: 1, max: 100_000 },
  { name: 'ladder-refine', kind: 'int', arg: 'N', help: 'bisections after the doubling (part 2; --quick: 0)', default: 4, min: 0, max: 6 },
  { name: 'ladder-repeat', kind: 'int', arg: 'N', help: 'rounds of the two interleaved searches per transport, each from scratch; the headline ratio is their median, printed with its range (part 2; --quick: 1)', default: 3, min: 1, max: 9 },
  { name: 'ladder-window', kind: 'durationMs', arg: 'TIME', help: 'measured window of each step (part 2; --quick: 4s)', default: 6000, min: 1000 },
  { name: 'ladder-settle', kind: 'durationMs', arg: 'TIME', help: 'warm-up of each step after its clients arrived (part 2)', default: 3000, min: 0 },
  { name: 'ladder-max', kind: 'number', arg: 'MSG/S', help: 'highest rate the searches try (part 2); a side that keeps up there is reported as a lower bound', default: 100_000, min: 1, max: 100_000 },
  { name: 'poll-connections', kind: 'int', arg: 'N', help: 'connections of both short-poll generators (parts poll and poll-replay; --quick: 20)', default: 100, min: 1 },
  { name: 'poll-repeat', kind: 'int', arg: 'N', help: 'rounds of one pushbench and one autocannon run, the first in turn; the headline ratio is their median (parts poll and poll-replay, each; --quick: 1)', default: 3, min: 1, max: 9 },
  { name: 'poll-warmup', kind: 'durationMs', arg: 'TIME', help: 'warm-up of each short-poll generator before its window (parts poll and poll-replay; default: pushbench 4 s, which also covers its connections\' ramp, autocannon 2 s, a discarded run)', min: 0 },
  { name: 'poll-window', kind: 'durationMs', arg: 'TIME', help: 'measured window of each short-poll run (parts poll and poll-replay; --quick: 4s)', default: 10_000, min: 1000 },
  { name: 'no-progress', kind: 'bool', help: 'diagnostic: run pushbench without a progress hook (the runner then skips its per-second percentiles); not how `pushbench run` runs' },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the pushbench result records of the bench are kept', default: '.tmp/bench-generator' },
]);

export interface Config {
  parts: Part[];
  quick: boolean;
  serverCpus: string;
  loadCpus: string;
  heldTransports: TransportName[];
  heldClients: number;
  heldWindowMs: number;
  heldSettleMs: number;
  heldTopics: number;
  ladderClients: number;
  ladderStartRate: number;
  ladderRefine: number;
  ladderRepeat: number;
  ladderWindowMs: number;
  ladderSettleMs: number;
  ladderMaxRate: number;
  pollConnections: number;
  pollWindowMs: number;
  /** pushbench's and autocannon's warm-up, or null for their defaults (4 s and 2 s) */
  pollWarmupMs: number | null;
  pollRepeat: number;
  out: string;
  progress: boolean;
}

export function parseConfig(argv: string[]): Config | 'help' {
  const p = parseCommandArgs(argv, SPECS);
  if (p === 'help') return 'help';
  const { values: v, problems } = p;
  const quick = Boolean(v.quick);
  const given = (name: string) => argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const pick = <T>(name: string, full: T, small: T): T => (quick && !given(name) ? small : full);
  const cfg: Config = {
    parts: v.parts as Part[],
    quick,
    serverCpus: v.serverCpus as string,
    loadCpus: v.loadCpus as string,
    heldTransports: v.heldTransports as TransportName[],
    heldClients: pick('held-clients', v.heldClients as number, 1000),
    heldWindowMs: pick('held-window', v.heldWindow as number, 8000),
    heldSettleMs: v.heldSettle as number,
    heldTopics: pick('held-topics', v.heldTopics as number, 10),
    ladderClients: pick('ladder-clients', v.ladderClients as number, 200),
    ladderStartRate: pick('ladder-start', v.ladderStart as number, 50),
    ladderRefine: pick('ladder-refine', v.ladderRefine as number, 0),
    ladderRepeat: pick('ladder-repeat', v.ladderRepeat as number, 1),
    ladderWindowMs: pick('ladder-window', v.ladderWindow as number, 4000),
    ladderSettleMs: v.ladderSettle as number,
    ladderMaxRate: v.ladderMax as number,
    pollConnections: pick('poll-connections', v.pollConnections as number, 20),
    pollWindowMs: pick('poll-window', v.pollWindow as number, 4000),
    pollWarmupMs: (v.pollWarmup as number | undefined) ?? null,
    pollRepeat: pick('poll-repeat', v.pollRepeat as number, 1),
    out: v.out as string,
    progress: !v.noProgress,
  };
  if (problems.length) throw validationError(problems, 'bench:generator: invalid options');
  return cfg;
}
