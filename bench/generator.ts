/**
 * `npm run bench:generator`: the generator's own figures (issue 3, "Acceptance"), each against a
 * peer measured in the same run with the same pinning (server on one CPU, load on another):
 *
 * 1. held clients: N clients of every transport (or `--held-transports`) held for the measured
 *    window (broadcast, 1 msg/s; short polls every Δ = 1 s): valid, lost, latency, generator ELU,
 *    server CPU, RSS/connection;
 * 2. deliveries/s one generator core absorbs (WebSocket, SSE) while the run stays valid and keeps
 *    up, against a bare client (bench/bare-worker.ts) on the same server configuration — the two
 *    searches interleaved, repeated in `--ladder-repeat` rounds, the median ratio the headline
 *    (bench/ladder.ts);
 * 3. short-poll requests/s at `--poll-interval 0` against autocannon (bench/autocannon.ts) on the
 *    same `/poll?topic=t0` URL with the same connection count, in `--poll-repeat` rounds taken in
 *    turns, the median ratio the headline (`--parts poll`); and the same against a replay server
 *    (bench/replay-server.ts) serving the reference server's answer to that URL byte for byte, so
 *    the generators, not the server's core, set the pace (`--parts poll-replay`).
 *
 * The parts live in bench/generator/ (config, common, held, absorb, poll); this entry runs the
 * parts asked for, then prints their tables, the ratios and the conditions.
 *
 * Tables go to stdout as Markdown, progress to stderr. Every figure is measured, none is assumed:
 * when the server, not the generator, is what stops a ladder, the output says so.
 *
 * Usage: `npm run bench:generator [-- --quick] [--parts held,absorb,poll] [--out DIR] …` (--help).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { PushbenchError } from '../core/errors.ts';
import { formatHelp, settingsOrExit } from '../core/options.ts';
import { pinSelf } from '../core/spawn.ts';
import { repoPath } from '../core/tsx.ts';
import { cpuModel, openFilesLimit } from '../load/resources.ts';
import type { RunSettings } from '../load/runner.ts';
import { spread } from './ladder.ts';
import { int, log, out, pinning, rangeText, ratio } from './generator/common.ts';
import { SPECS, parseConfig, type Config } from './generator/config.ts';
import { heldClients, heldPlan, printHeld } from './generator/held.ts';
import { absorb, absorbTemplate, printAbsorb } from './generator/absorb.ts';
import { pollPeak, pollPlan, printPoll, type PollFigures, type PollPlan, type PollRatios } from './generator/poll.ts';
import { runBenchMain } from './main.ts';

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

function conditions(cfg: Config, startedAt: Date, endedAt: Date, loadAtStart: string): string[] {
  const git = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: repoPath('.'), encoding: 'utf8' }).stdout.trim() || 'unknown';
  const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  const limit = openFilesLimit();
  const seen = (set: Set<string>, asked: string) => (set.size ? [...set].join(', ') : `${asked} (asked)`);
  return [
    `- date: ${startedAt.toISOString()} – ${endedAt.toISOString()} (${((endedAt.getTime() - startedAt.getTime()) / 60000).toFixed(1)} min)${cfg.quick ? ' — **--quick: smoke scale, not the acceptance figures**' : ''}`,
    `- CPU: ${cpuModel()}, ${os.cpus().length} cores; Linux ${kernel}; open files ${limit ? `${limit.soft}/${limit.hard}` : 'unknown'} (soft/hard)`,
    `- pinning (from /proc Cpus_allowed_list): server CPU ${seen(pinning.server, cfg.serverCpus)}; pushbench and bare client CPU ${seen(pinning.generator, cfg.loadCpus)}; autocannon CPU ${seen(pinning.autocannon, cfg.loadCpus)}`,
    `- machine load average (1/5/15 min) before the bench: ${loadAtStart}; after: ${loadAverage()}`,
    `- Node ${process.version}; ws, undici, autocannon as locked in package-lock.json; pushbench ${git}`,
    ...(cfg.progress ? [] : ['- **--no-progress (diagnostic)**: pushbench ran without its live progress hook, unlike `pushbench run`']),
    `- loopback only (127.0.0.1, sources spread over 127.0.0.x); every server a fresh \`pushbench serve\` child with the same arguments for pushbench and its peer${cfg.parts.includes('poll-replay') ? ' (part 3b: a fresh replay server, bench/replay-server.ts, pinned as the reference server)' : ''}`,
  ];
}

async function main(argv: string[]): Promise<number> {
  const parsed = settingsOrExit(() => parseConfig(argv), () => formatHelp('npm run bench:generator -- [options]', 'The generator\'s acceptance figures (issue 3), each against a peer in the same run and pinning.', SPECS));
  if ('exitCode' in parsed) return parsed.exitCode;
  const cfg = parsed.settings;
  mkdirSync(cfg.out, { recursive: true });
  // Every run's settings are built and validated before anything runs (and before this process
  // pins itself, which narrows what load/resources.ts cpuCount() sees to the load CPUs).
  let plans: { held?: RunSettings[]; absorb?: RunSettings[]; poll?: PollPlan };
  try {
    plans = {
      held: cfg.parts.includes('held') ? heldPlan(cfg) : undefined,
      absorb: cfg.parts.includes('absorb') ? (['ws', 'sse'] as const).map((t) => absorbTemplate(cfg, t)) : undefined,
      poll: cfg.parts.includes('poll') || cfg.parts.includes('poll-replay') ? pollPlan(cfg) : undefined,
    };
  } catch (err) {
    if (err instanceof PushbenchError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (!pinSelf(cfg.loadCpus)) log(`warning: could not pin this process to CPU ${cfg.loadCpus} (taskset missing?); figures are unpinned`);
  const startedAt = new Date();
  const loadAtStart = loadAverage();
  log(`bench:generator${cfg.quick ? ' --quick' : ''}: parts ${cfg.parts.join(', ')}; server CPU ${cfg.serverCpus}, load CPU ${cfg.loadCpus}`);

  const held = plans.held ? await heldClients(cfg, plans.held) : undefined;
  const absorbed = plans.absorb ? await absorb(cfg, plans.absorb) : undefined;
  const poll = plans.poll && cfg.parts.includes('poll') ? await pollPeak(cfg, plans.poll, 'reference') : undefined;
  const replay = plans.poll && cfg.parts.includes('poll-replay') ? await pollPeak(cfg, plans.poll, 'replay') : undefined;
  const endedAt = new Date();

  out();
  out(`## pushbench generator benchmark${cfg.quick ? ' (--quick smoke scale)' : ''}`);
  out();
  if (held) printHeld(cfg, held);
  const abs = absorbed ? printAbsorb(cfg, absorbed) : [];
  const pollRatio = poll ? printPoll(cfg, poll, 'reference') : undefined;
  const replayRatio = replay ? printPoll(cfg, replay, 'replay') : undefined;
  if (abs.length || poll || replay) {
    out('### Ratios (same run, same pinning)');
    out();
    out('| comparison | pushbench | peer | ratio | goal |');
    out('|---|---:|---:|---:|---:|');
    for (const a of abs) {
      out(`| ${a.transport} deliveries/s one core absorbs while keeping up, vs bare client under the same rule${a.ratio.n > 1 ? ' (median of rounds)' : ''} | ${int(a.pb)} | ${int(a.bare)} | ${a.ratio.median === null ? 'n/a' : a.ratio.median.toFixed(2)}${rangeText(a.ratio)} | ≥ 0.85 |`);
      if (a.cost.median !== null) out(`| (context) ${a.transport} work per delivery, bare ÷ pushbench, median over the offers both kept up at | – | – | ${a.cost.median.toFixed(2)} (${a.cost.min!.toFixed(2)}–${a.cost.max!.toFixed(2)}) | – |`);
      out(`| (context) ${a.transport} vs bare client, rule dropped (throughput alone, loop full) | ${int(a.pb)} | ${int(a.bareFull)} | ${ratio(a.pb, a.bareFull)} | – |`);
    }
    const med = (xs: number[]) => spread(xs).median ?? 0;
    const pollRows = (rounds: PollFigures[], r: PollRatios, what: string) => {
      out(`| ${what}${rounds.length > 1 ? ' (medians of rounds)' : ''} | ${int(med(rounds.map((f) => f.pbPerS)))} | ${int(med(rounds.map((f) => f.ac.requestsPerS)))} | ${r.rate.median === null ? 'n/a' : r.rate.median.toFixed(2)}${rangeText(r.rate)} | ≥ 1.0 |`);
      if (r.cpu.median !== null) out(`| (context) ${what.replace(/requests\/s/, 'CPU per request')}, autocannon ÷ pushbench | – | – | ${r.cpu.median.toFixed(2)}${rangeText(r.cpu)} | – |`);
    };
    if (poll && pollRatio) pollRows(poll, pollRatio, 'short-poll requests/s (Δ = 0) vs autocannon, reference server');
    if (replay && replayRatio) pollRows(replay, replayRatio, 'short-poll requests/s (Δ = 0) vs autocannon, replayed answer (generator-bound)');
    out();
  }
  out('### Conditions');
  out();
  for (const line of conditions(cfg, startedAt, endedAt, loadAtStart)) out(line);
  out();
  return 0;
}

await runBenchMain('bench:generator', main);
