/**
 * `rank`'s options: the grid (message rates × networks × client counts), the quick default that
 * `npm start` runs and the full grid one option away, and their validation: every problem of every
 * cell listed at once, before any run.
 */
import type { TransportName } from '../core/wire.ts';
import { CLAIMED_ORDER, TARGET_ONLY_TRANSPORTS, TRANSPORTS } from '../load/drivers/index.ts';
import { validationError } from '../core/errors.ts';
import { parseCommandArgs, type OptionSpec, type OptionValues } from '../core/options.ts';
import { parseNetworks } from '../netem/network.ts';
import { LOAD_OPTION_SPECS, loadSettingsOnce, nameAndFolder } from './run-options.ts';
import type { RunSettings } from '../load/runner.ts';
import { ASSERT_OPTION_SPEC, assertionsOption, type Assertion } from '../gate/assert.ts';
import { cellKey, type GridCell } from '../reports/rank-grid.ts';

/**
 * The two grids. Quick (`npm start`, about 4 minutes on 2 cores): rates 1 and 10 msg/s straddle
 * the polls' requests-per-message crossover at 1/Δ = 4 msg/s; a 2 s measured window holds a whole
 * number of message periods at both rates (2 and 20 messages), so per-run figures do not jump with
 * the publisher's phase. Full: more rates and the mobile network, a 6 s window (3 to 120 messages).
 */
export const GRIDS = {
  quick: { rates: '1,10', network: 'loopback,wan', repeats: 3, duration: 3000, warmup: 1000 },
  full: { rates: '0.5,2,5,20', network: 'loopback,wan,mobile', repeats: 3, duration: 8000, warmup: 2000 },
} as const;

/**
 * Clients when --clients is not given. Through the latency proxy fewer: a broadcast hands the proxy
 * one chunk per client at once and it writes them one by one (~20 µs each here, on the CPU it shares
 * with the generator), so 500 clients cost ~10 ms per message — close to its lateness limit (half
 * the wan delay) before any other process takes the CPU; 250 leave room for that.
 */
const RANK_CLIENTS = { loopback: 500, proxied: 250 };

/** How a rank's runs reach the server: plain HTTP/WS, or over TLS (docs/tls.md). */
const VARIANTS = ['plain', 'tls'] as const;
type Variant = (typeof VARIANTS)[number];

const quick = GRIDS.quick;
const withDefault = (s: OptionSpec, help: string): OptionSpec => ({ ...s, default: undefined, help });

export const RANK_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'transports', kind: 'list', arg: 'LIST', help: `transports to rank (default: the four the claim orders, ${CLAIMED_ORDER.join(',')}; with --socketio ${TARGET_ONLY_TRANSPORTS.join(',')})`, choices: [...TRANSPORTS, ...TARGET_ONLY_TRANSPORTS] },
  { name: 'repeats', kind: 'int', arg: 'N', help: `runs per transport and cell (confidence intervals need 2 or more; default ${quick.repeats})`, min: 1, max: 100 },
  { name: 'rates', kind: 'list', arg: 'LIST', help: `message rates per topic to rank at, msg/s, comma-separated (default ${quick.rates})` },
  { name: 'full', kind: 'bool', help: `the full grid: rates ${GRIDS.full.rates}, networks ${GRIDS.full.network}, ${GRIDS.full.duration / 1000} s runs (${GRIDS.full.warmup / 1000} s warm-up); any option given explicitly still wins` },
  ...LOAD_OPTION_SPECS.map((s) => {
    if (s.name === 'rate') return withDefault(s, 'one message rate per topic, msg/s: the same as --rates with one value');
    if (s.name === 'network') return withDefault({ ...s, arg: 'LIST' }, `network profiles to rank on, comma-separated: loopback, lan, wan, mobile, or a custom delay=40ms,jitter=5ms,bw=1MB (default ${quick.network})`);
    if (s.name === 'clients') return withDefault({ ...s, kind: 'list', arg: 'LIST' }, `simulated clients, comma-separated for a grid over client counts (default ${RANK_CLIENTS.loopback} on loopback, ${RANK_CLIENTS.proxied} through the latency proxy)`);
    if (s.name === 'duration') return withDefault(s, `run length from the first client's arrival, warm-up included (default ${quick.duration / 1000}s)`);
    if (s.name === 'warmup') return withDefault(s, `first part of the run not recorded (default ${quick.warmup / 1000}s)`);
    return s;
  }),
  { name: 'variants', kind: 'list', arg: 'LIST', help: 'rank each network plain, over TLS, or both (plain,tls): a TLS variant is a network of its own in the grid, named <network>+tls (default: tls with --tls, else plain)', choices: VARIANTS },
  { name: 'name', kind: 'string', arg: 'NAME', help: 'name of this rank (default rank-<time>)' },
  ASSERT_OPTION_SPEC,
]);

/** The variants asked for (`--variants`, else what --tls or an https:// target implies); problems collected. */
function variantsOf(v: OptionValues, problems: string[]): Variant[] {
  if (v.variants !== undefined && v.tls) problems.push('--tls with --variants: say --variants tls (or plain,tls) alone');
  const https = String(v.target ?? '').startsWith('https:');
  const variants = (v.variants as Variant[] | undefined) ?? [v.tls || https ? 'tls' : 'plain'];
  if (https && variants.includes('plain')) problems.push('--variants plain: an https:// --target speaks TLS only');
  return variants;
}

/** A validated rank: what to run, and where its files go. */
export interface RankSetup {
  name: string;
  outDir: string;
  transports: TransportName[];
  cells: GridCell[];
  repeats: number;
  assertions: Assertion[];
  noReport: boolean;
  /** the settings of every (cell, transport), keyed `cellKey|transport` */
  settingsFor: Map<string, RunSettings>;
}

/** Positive numbers from a comma list, each bad item a problem naming the option. */
function positiveList(option: string, items: readonly string[], integer: boolean, max: number, problems: string[]): number[] {
  const out: number[] = [];
  for (const item of items) {
    const v = Number(item);
    if (item.trim() === '' || !Number.isFinite(v)) problems.push(`--${option}: "${item}" is not a number`);
    else if (!(v > 0)) problems.push(`--${option}: ${item} is not above 0 (a rank needs ${option === 'rates' ? 'messages to deliver' : 'clients'})`);
    else if (integer && !Number.isInteger(v)) problems.push(`--${option}: ${item} is not a whole number`);
    else if (v > max) problems.push(`--${option}: ${item} is above the most allowed, ${max}`);
    else if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** Every cell of the grid with its settings per transport; problems collected, none thrown. */
function gridSettings(v: OptionValues, grid: (typeof GRIDS)[keyof typeof GRIDS], problems: string[]) {
  if (v.rates !== undefined && v.rate !== undefined) problems.push('--rate and --rates: give one (--rate N is --rates N)');
  const rates = positiveList('rates', (v.rates as string[] | undefined) ?? (v.rate !== undefined ? [String(v.rate)] : grid.rates.split(',')), false, 100_000, problems);
  const clientList = v.clients === undefined ? null : positiveList('clients', v.clients as string[], true, 1_000_000, problems);
  const parsedNetworks = parseNetworks((v.network as string | undefined) ?? grid.network);
  problems.push(...parsedNetworks.problems.map((p) => `--network: ${p}`));
  const transports = (v.transports as TransportName[] | undefined) ?? [...(v.socketio ? TARGET_ONLY_TRANSPORTS : CLAIMED_ORDER)];
  const timing = { duration: v.duration ?? grid.duration, warmup: v.warmup ?? grid.warmup };
  const cells: GridCell[] = [];
  const settingsFor = new Map<string, RunSettings>();
  const seen = new Set<string>();
  const variants = variantsOf(v, problems);
  for (const profile of parsedNetworks.profiles) {
    for (const variant of variants) {
      const tls = variant === 'tls';
      for (const clients of clientList ?? [profile.proxied ? RANK_CLIENTS.proxied : RANK_CLIENTS.loopback]) {
        for (const rate of rates) {
          const cell: GridCell = { network: tls ? `${profile.name}+tls` : profile.name, ratePerS: rate, clients, rttMs: 2 * profile.delayMs };
          cells.push(cell);
          // a TLS record size is the TLS variant's: a plain cell of `--variants plain,tls` runs without it
          const recordSize = tls || variants.length === 1 ? {} : { tlsRecordSize: undefined };
          for (const t of transports) settingsFor.set(`${cellKey(cell)}|${t}`, loadSettingsOnce({ ...v, ...timing, network: profile.name, clients, rate, tls, ...recordSize }, t, problems, seen));
        }
      }
    }
  }
  return { cells, settingsFor, transports };
}

/** Parse and validate argv, every cell and transport up front; throws PB_BAD_OPTION with every problem. */
export function parseRankArgs(argv: string[]): RankSetup | 'help' {
  const parsed = parseCommandArgs(argv, RANK_OPTION_SPECS);
  if (parsed === 'help') return 'help';
  const { values: v, problems } = parsed;
  const grid = v.full ? GRIDS.full : GRIDS.quick;
  const assertions = assertionsOption(v.assert, problems);
  const { cells, settingsFor, transports } = gridSettings(v, grid, problems);
  if (problems.length) throw validationError(problems);
  return {
    ...nameAndFolder(v, 'rank'),
    transports,
    cells,
    repeats: (v.repeats as number | undefined) ?? grid.repeats,
    assertions,
    noReport: Boolean(v.noReport),
    settingsFor,
  };
}
