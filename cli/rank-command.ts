/**
 * `pushbench rank`: the main job. Runs every transport on the identical workload, repeated, on
 * each network profile, in a balanced order; re-runs an invalid run once; then ranks the
 * transports per metric with 95 % confidence intervals and gives a verdict on the claimed order
 * (WebSocket > SSE > long polling > short polling), and writes the report.
 */
import { join } from 'node:path';
import type { TransportName } from '../core/wire.ts';
import { CLAIMED_ORDER, TRANSPORTS } from '../load/drivers/index.ts';
import { writeJsonAtomic, type ResultRecord } from '../core/record.ts';
import { rankTransports, type RankingResult } from '../reports/ranking.ts';
import { formatRankingText, formatRankingMarkdown, formatRankingHtml } from '../reports/ranking-format.ts';
import { validationError } from '../core/errors.ts';
import { formatHelp, type OptionSpec } from '../core/options.ts';
import { progressPrinter, type ProgressPrinter } from './progress.ts';
import { rankPlan } from '../load/rank-plan.ts';
import { parseNetworks } from '../netem/network.ts';
import { LOAD_OPTION_SPECS, fileSafe, loadSettingsOnce, nameAndFolder } from './run-options.ts';
import { parseCommandArgs } from '../core/options.ts';
import { runOnce, type RunSettings } from '../load/runner.ts';
import { formatSummaryTable } from './summary.ts';
import { interruptible } from './interrupt.ts';
import { ASSERT_OPTION_SPEC, assertionsOption, checkAssertions, type Assertion } from '../gate/assert.ts';

/** `rank`'s defaults: about 4 minutes on a 2-core machine for loopback + wan, 3 repeats. */
const RANK_DEFAULTS: Record<string, OptionSpec['default']> = {
  duration: 6000,
  rate: 5,
};

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

/** The group a run is ranked in: its network, and `+tls` for the TLS variant (names its runs and its ranking). */
function groupOf(network: string, variant: Variant): string {
  return variant === 'tls' ? `${network}+tls` : network;
}

export const RANK_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'transports', kind: 'list', arg: 'LIST', help: 'transports to rank (default: the four the claim orders)', default: [...CLAIMED_ORDER], choices: TRANSPORTS },
  { name: 'repeats', kind: 'int', arg: 'N', help: 'runs per transport and network (confidence intervals need 2 or more)', default: 3, min: 1, max: 100 },
  ...LOAD_OPTION_SPECS.map((s) => {
    if (s.name === 'network') return { ...s, arg: 'LIST', help: 'network profiles to rank on, comma-separated: loopback, lan, wan, mobile, or a custom delay=40ms,jitter=5ms,bw=1MB', default: 'loopback,wan' };
    if (s.name === 'clients') return { ...s, default: undefined, help: `simulated clients (default ${RANK_CLIENTS.loopback} on loopback, ${RANK_CLIENTS.proxied} through the latency proxy)` };
    return s.name in RANK_DEFAULTS ? { ...s, default: RANK_DEFAULTS[s.name] } : s;
  }),
  { name: 'variants', kind: 'list', arg: 'LIST', help: 'rank on each network plain, over TLS, or both (plain,tls): one ranking per network and variant (default: tls with --tls, else plain)', choices: VARIANTS },
  { name: 'name', kind: 'string', arg: 'NAME', help: 'name of this rank (default rank-<time>)' },
  ASSERT_OPTION_SPEC,
]);

const RANK_USAGE = 'pushbench rank [--clients N] [--repeats N] [--network loopback,wan] [--workload broadcast] [options]';
const RANK_DESCRIPTION = `Reproduces the transport ranking: every transport on the identical workload, repeated, on each
network profile, in an order that spreads machine drift evenly. Prints, per metric, the ranking with
95 % confidence intervals (a tie where they overlap) and a verdict on the claim
"WebSocket > SSE > long polling > short polling". Writes every run's result and one report.`;

/** A validated rank: what to run, and where its files go. */
interface RankSetup {
  name: string;
  outDir: string;
  transports: TransportName[];
  /** what is ranked apart, in order: each network, with `+tls` for the TLS variant ({@link groupOf}) */
  networks: string[];
  repeats: number;
  assertions: Assertion[];
  noReport: boolean;
  /** the settings of every (group, transport), keyed `group|transport` */
  settingsFor: Map<string, RunSettings>;
}

/** Parse and validate argv, every (transport, network) combination up front; throws PB_BAD_OPTION with every problem. */
function parseRankArgs(argv: string[]): RankSetup | 'help' {
  const parsed = parseCommandArgs(argv, RANK_OPTION_SPECS);
  if (parsed === 'help') return 'help';
  const { values: v, problems } = parsed;
  const transports = v.transports as TransportName[];
  const parsedNetworks = parseNetworks(v.network as string);
  problems.push(...parsedNetworks.problems.map((p) => `--network: ${p}`));
  const assertions = assertionsOption(v.assert, problems);
  const settingsFor = new Map<string, RunSettings>();
  const seen = new Set<string>();
  if (v.variants !== undefined && v.tls) problems.push('--tls with --variants: say --variants tls (or plain,tls) alone');
  const https = String(v.target ?? '').startsWith('https:');
  const variants = (v.variants as Variant[] | undefined) ?? [v.tls || https ? 'tls' : 'plain'];
  if (https && variants.includes('plain')) problems.push('--variants plain: an https:// --target speaks TLS only');
  const groups: string[] = [];
  for (const profile of parsedNetworks.profiles) {
    const network = profile.name;
    const clients = (v.clients as number | undefined) ?? (profile.proxied ? RANK_CLIENTS.proxied : RANK_CLIENTS.loopback);
    for (const variant of variants) {
      const group = groupOf(network, variant);
      groups.push(group);
      for (const t of transports) settingsFor.set(`${group}|${t}`, loadSettingsOnce({ ...v, network, clients, tls: variant === 'tls' }, t, problems, seen));
    }
  }
  if (problems.length) throw validationError(problems);
  return {
    ...nameAndFolder(v, 'rank'),
    transports,
    networks: groups,
    repeats: v.repeats as number,
    assertions,
    noReport: Boolean(v.noReport),
    settingsFor,
  };
}

/** What the runs came to: their records, and whether they stopped early (by a signal or not). */
interface RankRuns {
  records: ResultRecord[];
  interrupted: boolean;
  signalled: boolean;
}

/**
 * Run the plan in order, writing each record as it comes; an invalid run is run once more, an
 * incomplete one (a signal, or a server that died) ends the rank.
 */
async function runPlan(setup: RankSetup, plan: ReturnType<typeof rankPlan>, out: ProgressPrinter): Promise<RankRuns> {
  const runs: RankRuns = { records: [], interrupted: false, signalled: false };
  await interruptible(async (signal) => {
    for (const [i, step] of plan.entries()) {
      if (signal.aborted) break;
      const base = setup.settingsFor.get(`${step.network}|${step.item}`)!;
      for (let attempt = 1; attempt <= 2; attempt++) {
        const name = `${step.item}-${step.network}-r${step.repeat + 1}${attempt > 1 ? '-retry' : ''}`;
        const s: RunSettings = { ...base, name };
        out.log(`[${i + 1}/${plan.length}] ${name}`);
        const r = await runOnce(s, { signal, onProgress: (p) => out.update({ ...p, name: `[${i + 1}/${plan.length}] ${name}` }) });
        out.done();
        writeJsonAtomic(join(setup.outDir, `${fileSafe(name)}.json`), r);
        if (!r.complete) { runs.interrupted = true; runs.signalled = signal.aborted; runs.records.push(r); break; }
        if (r.valid || attempt === 2) { runs.records.push(r); break; }
        out.log(`  invalid (${r.invalidReasons.join('; ')}): running it once more`);
      }
      if (runs.interrupted) break;
    }
  });
  return runs;
}

/** Print the summary table and each network's ranking; write ranking.json and the report. */
async function writeRankings(setup: RankSetup, records: ResultRecord[], first: RunSettings): Promise<void> {
  process.stdout.write(`\n${formatSummaryTable(records)}\n`);
  const sections = [];
  const rankings: RankingResult[] = [];
  for (const network of setup.networks) {
    const subset = records.filter((r) => groupOf(r.config.network, r.config.tls ? 'tls' : 'plain') === network);
    if (subset.length === 0) continue;
    const ranking = rankTransports(subset);
    rankings.push(ranking);
    process.stdout.write(`\nRanking on ${network} (${first.workload}, ${setup.settingsFor.get(`${network}|${setup.transports[0]}`)!.clients} clients, ${setup.repeats} repeats; mean [95 % CI]):\n${formatRankingText(ranking)}\n`);
    sections.push({ id: `ranking-${fileSafe(network)}`, title: `Ranking — ${network}`, markdown: formatRankingMarkdown(ranking), html: formatRankingHtml(ranking) });
  }
  if (rankings.length > 0) writeJsonAtomic(join(setup.outDir, 'ranking.json'), { name: setup.name, rankings });
  if (records.length > 0 && setup.noReport) {
    process.stdout.write(`\nwrote ${records.length} result files and ranking.json to ${setup.outDir} (--no-report: no report)\n`);
  } else if (records.length > 0) {
    const { writeReport } = await import('../reports/report.ts');
    const { files } = await writeReport(records, setup.outDir, { title: `pushbench rank: ${setup.name}`, sections });
    process.stdout.write(`\nwrote ${records.length} result files and the report: ${files[0]}\n`);
  }
}

export async function rankCommand(argv: string[]): Promise<number> {
  const setup = parseRankArgs(argv);
  if (setup === 'help') {
    process.stdout.write(formatHelp(RANK_USAGE, RANK_DESCRIPTION, RANK_OPTION_SPECS));
    return 0;
  }
  const { name, transports, networks, repeats, settingsFor } = setup;
  const plan = rankPlan(transports, repeats, networks);
  const out = progressPrinter();
  const first = settingsFor.values().next().value as RunSettings;
  out.log(`pushbench rank ${name}: ${transports.join(', ')} × ${repeats} repeats × ${networks.join(', ')} = ${plan.length} runs; ${first.workload}, ${networks.map((n) => `${settingsFor.get(`${n}|${transports[0]}`)!.clients} clients on ${n}`).join(', ')}, ${first.durationMs / 1000} s each (warm-up ${first.warmupMs / 1000} s), ${first.ratePerS} msg/s, ${first.payloadBytes} B`);
  out.log(`pinning: server CPU ${first.serverCpus ?? 'any'}, generator${networks.some((n) => n !== 'loopback') ? ' and proxy' : ''} CPU ${first.loadCpus ?? 'any'}`);

  const { records, interrupted, signalled } = await runPlan(setup, plan, out);
  out.done();
  await writeRankings(setup, records, first);
  if (interrupted) {
    const last = records.at(-1)!;
    if (!signalled) {
      // Not a signal: the run could not go on (its server died); the rank stops there.
      process.stderr.write(`rank ended early (${last.invalidReasons[0] ?? 'unknown reason'}): the runs so far are written; the last one is marked complete: false\n`);
      return 1;
    }
    process.stderr.write('rank interrupted: the runs so far are written; the last one is marked complete: false\n');
    return 130;
  }
  const gate = checkAssertions(setup.assertions, records);
  for (const line of gate.lines) (gate.passed ? process.stdout : process.stderr).write(`${line}\n`);
  return gate.passed ? 0 : 1;
}
