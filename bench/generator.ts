/**
 * `npm run bench:generator`: the generator's own figures (issue 3, "Acceptance"), each against a
 * peer measured in the same run with the same pinning (server on one CPU, load on another):
 *
 * 1. held clients: N clients of every transport held for the measured window (broadcast, 1 msg/s;
 *    short polls every Δ = 1 s): valid, lost, latency, generator ELU, server CPU, RSS/connection;
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
 * Tables go to stdout as Markdown, progress to stderr. Every figure is measured, none is assumed:
 * when the server, not the generator, is what stops a ladder, the output says so.
 *
 * Usage: `npm run bench:generator [-- --quick] [--parts held,absorb,poll] [--out DIR] …` (--help).
 */
import { TRANSPORTS } from '../load/drivers/index.ts';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { measuredTimeline, writeJsonAtomic, type ResultRecord } from '../core/record.ts';
import { decodeHistogram, percentiles } from '../core/histogram.ts';
import { Cursor } from '../load/drivers/cursor.ts';
import { PushbenchError, validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, settingsOrExit, type OptionSpec } from '../core/options.ts';
import { formatProgress } from '../cli/progress.ts';
import { RUN_OPTION_SPECS, fileSafe, loadSettings } from '../cli/run-options.ts';
import { cpuModel, openFilesLimit } from '../load/resources.ts';
import { runOnce, sourceAddresses, type Progress, type RunSettings } from '../load/runner.ts';
import { SATURATED_ELU, judgeLoop } from '../load/starvation.ts';
import { pinSelf, spawnTs, type Spawned } from '../core/spawn.ts';
import { repoPath } from '../core/tsx.ts';
import { formatBytes, formatUs } from '../core/units.ts';
import { publisherTopics } from '../load/workload.ts';
import type { TransportName } from '../core/wire.ts';
import { runAutocannon, type AutocannonFigures } from './autocannon.ts';
import { runBareClients, type BareResult, type BareTransport } from './bare-clients.ts';
import { captureAnswer } from './replay-server.ts';
import { best, costRatios, memo, oneAtATime, overRounds, search, spread, type Measured, type Spread } from './ladder.ts';

const PARTS = ['held', 'absorb', 'poll', 'poll-replay'] as const;
type Part = (typeof PARTS)[number];

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'quick', kind: 'bool', help: 'small scale (smoke check, about 2 minutes); figures are not the acceptance figures' },
  { name: 'parts', kind: 'list', arg: 'LIST', help: 'which comparisons to run', choices: PARTS, default: [...PARTS] },
  { name: 'server-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of the reference server (taskset list)', default: '0' },
  { name: 'load-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of every generator (pushbench, bare client, autocannon)', default: '1' },
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
  { name: 'poll-window', kind: 'durationMs', arg: 'TIME', help: 'measured window of each short-poll run (parts poll and poll-replay; --quick: 4s)', default: 10_000, min: 1000 },
  { name: 'no-progress', kind: 'bool', help: 'diagnostic: run pushbench without a progress hook (the runner then skips its per-second percentiles); not how `pushbench run` runs' },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'where the pushbench result records of the bench are kept', default: '.tmp/bench-generator' },
]);

/** A delivery rate "keeps up" when it reaches this share of what the server offered. */
const KEEP_UP = 0.95;
/** A server above this share of its core is what limits the step, not the client. */
const SERVER_BOUND_PCT = 90;

interface Config {
  parts: Part[];
  quick: boolean;
  serverCpus: string;
  loadCpus: string;
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
  pollRepeat: number;
  out: string;
  progress: boolean;
}

function parseConfig(argv: string[]): Config | 'help' {
  const p = parseOptions(argv, SPECS);
  if (p.help) return 'help';
  const problems = [...p.problems];
  if (p.positionals.length) problems.push(`unexpected argument(s): ${p.positionals.join(' ')}`);
  const v = p.values;
  const quick = Boolean(v.quick);
  const given = (name: string) => argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const pick = <T>(name: string, full: T, small: T): T => (quick && !given(name) ? small : full);
  const cfg: Config = {
    parts: v.parts as Part[],
    quick,
    serverCpus: v.serverCpus as string,
    loadCpus: v.loadCpus as string,
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
    pollRepeat: pick('poll-repeat', v.pollRepeat as number, 1),
    out: v.out as string,
    progress: !v.noProgress,
  };
  if (problems.length) throw validationError(problems, 'bench:generator: invalid options');
  return cfg;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number | null) => (n === null ? 'unknown' : `${n.toFixed(0)} %`);
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');

/**
 * RunSettings for one pushbench run, built exactly as `pushbench run` builds them (same option
 * table, same validator), so the bench measures what users run.
 */
function runSettings(cfg: Config, transport: TransportName, name: string, flags: Record<string, string>): RunSettings {
  const argv = [
    '--transport', transport, '--server-cpus', cfg.serverCpus, '--load-cpus', cfg.loadCpus, '--workers', '1', '--out', cfg.out,
    ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]),
  ];
  const parsed = parseOptions(argv, RUN_OPTION_SPECS);
  const problems = [...parsed.problems];
  const s = loadSettings(parsed.values, transport, problems);
  if (problems.length) throw validationError(problems, `bench:generator: settings of ${name}`);
  s.name = name;
  // Each connection is one open file in the server too: let the cap admit every client.
  s.serverArgs = ['--max-connections', String(s.clients + 1000)];
  return s;
}

/** The `serve` arguments runOnce gives its child server for `s` (load/runner.ts, step 1). */
function serveArgs(s: RunSettings): string[] {
  return [
    '--port', '0', '--host', '127.0.0.1',
    '--rate', String(s.workload === 'chat' ? 0 : s.ratePerS),
    '--payload', String(s.payloadBytes),
    '--topics', String(Math.max(1, publisherTopics(s.workload, s.clients, s.topics))),
    '--ring', String(s.ringSize),
    '--delay', String(s.serverDelayMs),
    ...(s.serverArgs ?? []),
  ];
}

/** The reference server for a peer generator: same arguments and pinning as runOnce's child. */
function startPeerServer(s: RunSettings): Promise<Spawned> {
  return spawnTs(repoPath('servers/serve.ts'), serveArgs(s), {
    cpus: s.serverCpus,
    ready: /^pushbench listening on (http:\/\/\S+)/,
    what: 'the reference server',
  });
}

function cpusAllowed(pid: number | 'self'): string {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Pinning seen from /proc, per role (what taskset actually did, not what was asked). */
const pinning = { server: new Set<string>(), generator: new Set<string>(), autocannon: new Set<string>() };

let lastProgressS = -1;
async function pushbench(cfg: Config, s: RunSettings): Promise<ResultRecord> {
  log(`· pushbench ${s.name}: ${s.clients} ${s.transport} clients, ${s.ratePerS} msg/s per topic, ${(s.durationMs / 1000).toFixed(0)} s (warm-up ${(s.warmupMs / 1000).toFixed(0)} s)`);
  lastProgressS = -1;
  const record = await runOnce(s, {
    log: (line) => {
      const pid = /server: pid (\d+)/.exec(line)?.[1];
      if (pid) pinning.server.add(cpusAllowed(Number(pid)));
      pinning.generator.add(cpusAllowed('self'));
    },
    onProgress: !cfg.progress ? undefined : (p: Progress) => {
      const sec = Math.floor(p.elapsedS);
      if (sec % 5 === 0 && sec !== lastProgressS) {
        lastProgressS = sec;
        log(`  ${formatProgress(p)}`);
      }
    },
  });
  writeJsonAtomic(join(cfg.out, `${fileSafe(s.name)}.json`), record);
  if (!record.valid) for (const r of record.invalidReasons) log(`  INVALID: ${r}`);
  return record;
}

/** Seconds of the measured window. */
const measuredS = (r: ResultRecord) => (r.config.durationMs - r.config.warmupMs) / 1000;
/** Server CPU over the measured window, % of one core. */
const serverCpuPct = (r: ResultRecord) => (r.server ? (100 * r.server.cpuUs) / 1e6 / measuredS(r) : null);
/** Mean CPU of the generator process over the measured seconds, % of one core (timeline). */
function generatorCpuPct(r: ResultRecord): number | null {
  const pts = measuredTimeline(r);
  return pts.length ? pts.reduce((a, p) => a + p.generatorCpuPct, 0) / pts.length : null;
}
const eluMean = (r: ResultRecord) => r.generator.workers.reduce((a, w) => a + w.eluMean, 0) / Math.max(1, r.generator.workers.length);
const errorsText = (r: ResultRecord) => Object.entries(r.counters.errors).map(([k, n]) => `${k}×${n}`).join(' ') || '0';

// ───────────────────────────── 1. held clients ─────────────────────────────

interface HeldRow { transport: TransportName; record: ResultRecord }

function heldPlan(cfg: Config): RunSettings[] {
  const arrival = 2000;
  const rampMs = (cfg.heldClients / arrival) * 1000;
  // Connecting thousands of clients is the generator's heaviest moment: give it time to settle.
  const warmupMs = Math.ceil((rampMs + cfg.heldSettleMs) / 1000) * 1000;
  return TRANSPORTS.map((transport) =>
    runSettings(cfg, transport, `held-${transport}-${cfg.heldClients}`, {
      clients: String(cfg.heldClients), workload: 'broadcast', topics: String(cfg.heldTopics), rate: '1', payload: '64',
      'poll-interval': '1000ms', 'arrival-rate': `${arrival}/s`,
      warmup: `${warmupMs}ms`, duration: `${warmupMs + cfg.heldWindowMs}ms`,
    }));
}

async function heldClients(cfg: Config, plan: RunSettings[]): Promise<HeldRow[]> {
  const rows: HeldRow[] = [];
  for (const s of plan) rows.push({ transport: s.transport, record: await pushbench(cfg, s) });
  return rows;
}

function printHeld(cfg: Config, rows: HeldRow[]): void {
  out(`### 1. ${int(cfg.heldClients)} clients of each transport held for ${(cfg.heldWindowMs / 1000).toFixed(0)} s`);
  out();
  const perTopic = Math.round(cfg.heldClients / cfg.heldTopics);
  out(`broadcast over ${cfg.heldTopics} topic${cfg.heldTopics > 1 ? 's' : ''} (${int(perTopic)} clients each), 1 msg/s per topic, 64 B payload: ${int(cfg.heldClients)} deliveries/s${cfg.heldTopics > 1 ? ', published in ' + cfg.heldTopics + ' staggered bursts of ' + int(perTopic) + ' rather than one burst of ' + int(cfg.heldClients) : ' in one burst a second'}; short poll Δ = 1 s; clients arrive at 2,000/s; the ramp and ${(cfg.heldSettleMs / 1000).toFixed(1)} s after it (rounded up to a whole second) are warm-up, not measured; one generator worker thread on one core.`);
  out();
  out('| transport | valid | open (max) | delivered | lost | dup | p50 | p99 | gen ELU mean / max | gen loop delay p99, worst second | gen longest GC pause | gen CPU | server CPU | server RSS/conn | errors |');
  out('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const { transport, record: r } of rows) {
    const s = r.summary;
    out(`| ${transport} | ${s.valid ? 'yes' : 'NO'} | ${int(r.server?.openConnectionsMax ?? 0)} | ${int(s.delivered)} | ${s.lost} | ${s.duplicates} | ${formatUs(s.latencyUs.p50)} | ${formatUs(s.latencyUs.p99)} | ${(eluMean(r) * 100).toFixed(0)} % / ${(r.generator.eluMax * 100).toFixed(0)} % | ${r.generator.loopDelayP99MaxMs === undefined ? 'unknown' : `${r.generator.loopDelayP99MaxMs.toFixed(0)} ms`} | ${r.generator.gcMaxMs === undefined ? 'unknown' : `${r.generator.gcMaxMs.toFixed(1)} ms`} | ${pct(generatorCpuPct(r))} | ${pct(serverCpuPct(r))} | ${s.serverRssBytesPerConnection === null ? 'unknown' : formatBytes(s.serverRssBytesPerConnection)} | ${errorsText(r)} |`);
  }
  for (const { record: r } of rows) for (const reason of r.invalidReasons) out(`\nINVALID ${r.name}: ${reason}`);
  const ok = rows.every(({ record: r }) => r.valid && r.summary.lost === 0 && r.summary.delivered > 0);
  out();
  out(`Held-clients acceptance (valid, 0 lost, every transport): **${ok ? 'met' : 'NOT met'}**`);
  out();
}

// ─────────────────────── 2. deliveries/s one core absorbs ───────────────────────

/** One measurement of one side at one offered rate. */
interface Step extends Measured {
  /**
   * Delivered ≥ KEEP_UP of the offer, lost and dropped nothing, and the generator thread passed
   * the keep-up rule of load/starvation.ts (pushbench: its run is valid). The headline figure.
   */
  keepsUp: boolean;
  /** Only the throughput part: ≥ KEEP_UP of the offer with nothing lost or dropped, the loop possibly full. */
  keepsPace: boolean;
  /** generator process and server process CPU over the window, % of one core */
  genCpuPct: number | null;
  serverPct: number | null;
  /** the generator thread's event-loop utilization: worst second, and mean over the window */
  elu: number;
  eluMean: number;
  lost: number;
  dropped: number;
  p99Us: number | null;
  valid: boolean;
  invalidReasons: string[];
}

/** One transport's searches: the rounds of the headline, and the bare client's steps with the rule dropped. */
interface Absorbed { transport: BareTransport; rounds: Step[][]; context: Step[] }

/**
 * The settings every step of one transport shares (validated once, before this process pins
 * itself); a step only changes the publisher's rate and the ring (see {@link atRate}).
 */
function absorbTemplate(cfg: Config, transport: BareTransport): RunSettings {
  const arrival = 2000;
  const warmupMs = Math.ceil(((cfg.ladderClients / arrival) * 1000 + cfg.ladderSettleMs) / 1000) * 1000;
  return runSettings(cfg, transport, `absorb-${transport}`, {
    clients: String(cfg.ladderClients), workload: 'broadcast', topics: '1', rate: String(cfg.ladderStartRate), payload: '64',
    'arrival-rate': `${arrival}/s`, warmup: `${warmupMs}ms`, duration: `${warmupMs + cfg.ladderWindowMs}ms`,
  });
}

/** `t` at `ratePerS`; `round` (from 1) names the record of a round after the first, so none is overwritten. */
function atRate(t: RunSettings, ratePerS: number, round = 1): RunSettings {
  // A ring holding two seconds of the topic, so a resume after a hiccup can catch up.
  const name = `${t.name}-${t.clients}x${ratePerS}${round > 1 ? `-r${round}` : ''}`;
  return { ...t, name, ratePerS, ringSize: Math.max(t.ringSize, Math.ceil(2 * ratePerS)) };
}

async function bareStep(cfg: Config, s: RunSettings): Promise<Step> {
  const server = await startPeerServer(s);
  try {
    pinning.server.add(cpusAllowed(server.pid));
    pinning.generator.add(cpusAllowed('self'));
    log(`· bare ${s.transport}: ${s.clients} clients × ${s.ratePerS} msg/s, server pid ${server.pid}`);
    let r: BareResult;
    try {
      r = await runBareClients({
      transport: s.transport as BareTransport,
      baseUrl: server.url,
      clients: s.clients,
      topics: s.topics,
      localAddresses: sourceAddresses('127.0.0.1', s.clients),
      connectConcurrency: 200,
      warmupMs: cfg.ladderSettleMs,
      measureMs: cfg.ladderWindowMs,
      serverPid: server.pid,
      });
    } catch (err) {
      // A bare client that never reports (its thread starved) did not keep up; say so, go on.
      log(`  bare ${s.transport}: ${(err as Error).message}`);
      return {
        side: 'bare', ratePerS: s.ratePerS, offeredPerS: s.clients * s.ratePerS, achievedPerS: 0, keepsUp: false, keepsPace: false,
        genCpuPct: null, serverPct: null, elu: 1, eluMean: 1, lost: 0, dropped: s.clients, p99Us: null, valid: false,
        invalidReasons: [`bare client gave no result (${(err as Error).message})`],
      };
    }
    const offeredPerS = s.clients * s.ratePerS;
    const achievedPerS = r.count / r.measuredS;
    // The bare client is held to pushbench's own keep-up rule, judged from the same per-second
    // measures (event-loop utilization and delay p99 at 10 ms resolution) of its one thread.
    const loop = judgeLoop(r.eluPerSecond, r.loopDelayP99MsPerSecond);
    const eluMax = Math.max(0, ...r.eluPerSecond);
    const invalidReasons: string[] = [];
    if (loop.saturated) invalidReasons.push(`event-loop utilization above ${SATURATED_ELU * 100} % for ${loop.saturatedSecs} s`);
    if (loop.stalled) invalidReasons.push(`event-loop delay p99 reached ${loop.worstDelayMs.toFixed(0)} ms`);
    const keepsPace = achievedPerS >= KEEP_UP * offeredPerS && r.failed === 0 && r.dropped === 0;
    log(`  bare ${s.transport}: ${int(achievedPerS)} deliveries/s of ${int(offeredPerS)} offered, ELU ${(r.elu * 100).toFixed(0)} % (max ${(eluMax * 100).toFixed(0)} %), loop delay p99 ≤ ${loop.worstDelayMs.toFixed(0)} ms, ${r.dropped} dropped, ${r.failed} failed`);
    return {
      side: 'bare', ratePerS: s.ratePerS, offeredPerS, achievedPerS,
      keepsUp: keepsPace && invalidReasons.length === 0, keepsPace,
      genCpuPct: r.generatorCpuUs === null ? null : (100 * r.generatorCpuUs) / 1e6 / r.measuredS,
      serverPct: r.serverCpuUs === null ? null : (100 * r.serverCpuUs) / 1e6 / r.measuredS,
      elu: eluMax, eluMean: r.elu, lost: 0, dropped: r.dropped + r.failed, p99Us: null, valid: invalidReasons.length === 0, invalidReasons,
    };
  } finally {
    await server.stop();
  }
}

async function pushbenchStep(cfg: Config, s: RunSettings): Promise<Step> {
  const record = await pushbench(cfg, s);
  const offeredPerS = s.clients * s.ratePerS;
  const achievedPerS = record.summary.deliveriesPerS;
  log(`  pushbench ${s.transport}: ${int(achievedPerS)} deliveries/s of ${int(offeredPerS)} offered, valid ${record.valid}, lost ${record.summary.lost}, ELU max ${(record.generator.eluMax * 100).toFixed(0)} %`);
  const keepsPace = record.complete && record.summary.lost === 0 && achievedPerS >= KEEP_UP * offeredPerS;
  return {
    side: 'pushbench', ratePerS: s.ratePerS, offeredPerS, achievedPerS,
    keepsUp: keepsPace && record.valid, keepsPace,
    genCpuPct: generatorCpuPct(record), serverPct: serverCpuPct(record), elu: record.generator.eluMax, eluMean: eluMean(record),
    lost: record.summary.lost, dropped: record.counters.reconnects, p99Us: record.summary.latencyUs.p99,
    valid: record.valid, invalidReasons: record.invalidReasons,
  };
}

async function absorb(cfg: Config, templates: RunSettings[]): Promise<Absorbed[]> {
  const results: Absorbed[] = [];
  for (const t of templates) {
    const transport = t.transport as BareTransport;
    const rounds: Step[][] = [];
    const keepsUp = (x: Step) => x.keepsUp;
    for (let round = 1; round <= cfg.ladderRepeat; round++) {
      if (cfg.ladderRepeat > 1) log(`${transport}: round ${round} of ${cfg.ladderRepeat}`);
      // Headline: both held to the keep-up rule, their searches interleaved (pushbench, bare,
      // pushbench, …); each round starts afresh, so the rounds are independent measurements.
      const steps: Step[] = [];
      const turn = oneAtATime();
      const pushbenchAt = memo(steps, (r) => turn(() => pushbenchStep(cfg, atRate(t, r, round))));
      const bare = memo(steps, (r) => turn(() => bareStep(cfg, atRate(t, r, round))));
      await Promise.all([
        search(cfg.ladderStartRate, cfg.ladderMaxRate, cfg.ladderRefine, pushbenchAt, keepsUp),
        search(cfg.ladderStartRate, cfg.ladderMaxRate, cfg.ladderRefine, bare, keepsUp),
      ]);
      rounds.push(steps);
    }
    // Context, once: the bare client's throughput alone, its loop allowed to run full, continuing
    // from the first round's bare steps (a rate already measured there is not run again).
    const context = rounds[0]!.filter((x) => x.side === 'bare');
    const bareRule = context.filter((x) => !x.keepsUp).map((x) => x.ratePerS);
    const bareAt = memo(context, (r) => bareStep(cfg, atRate(t, r)));
    await search(bareRule.length ? Math.min(...bareRule) : cfg.ladderStartRate, cfg.ladderMaxRate, cfg.ladderRefine, bareAt, (x) => x.keepsPace);
    results.push({ transport, rounds, context });
  }
  return results;
}

/** Why a side failed to keep up at a step: the server's core was full, or the client fell behind. */
const limitOf = (x: Step): 'server' | 'client' => (x.serverPct !== null && x.serverPct >= SERVER_BOUND_PCT ? 'server' : 'client');

/** CPU µs per delivery or request: a CPU share (% of one core) over a rate (per second). */
const usPer = (cpuPct: number | null, perS: number, digits = 2) => (cpuPct === null || perS <= 0 ? 'unknown' : `${(((cpuPct / 100) * 1e6) / perS).toFixed(digits)} µs`);

interface AbsorbSummary {
  transport: string;
  /** medians over the rounds */
  pb: number;
  bare: number;
  ratio: Spread;
  bareFull: number;
  cost: Spread;
}

const rangeText = (x: Spread, digits = 2) => (x.n > 1 ? ` (${x.min!.toFixed(digits)}–${x.max!.toFixed(digits)}, ${x.n} rounds)` : '');

function printSteps(steps: Step[]): void {
  out('| generator | offered/s | delivered/s | keeps up | keeps pace | lost | reconnects | p99 | ELU mean / max | gen CPU | CPU/delivery | server CPU |');
  out('|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|');
  const sorted = [...steps].sort((a, b) => (a.side === b.side ? a.offeredPerS - b.offeredPerS : a.side === 'pushbench' ? -1 : 1));
  for (const x of sorted) {
    out(`| ${x.side} | ${int(x.offeredPerS)} | ${int(x.achievedPerS)} | ${x.keepsUp ? 'yes' : `no (${x.valid ? limitOf(x) : 'rule'})`} | ${x.keepsPace ? 'yes' : 'no'} | ${x.side === 'bare' ? '–' : x.lost} | ${x.dropped} | ${x.p99Us === null ? '–' : formatUs(x.p99Us)} | ${(x.eluMean * 100).toFixed(0)} % / ${(x.elu * 100).toFixed(0)} % | ${pct(x.genCpuPct)} | ${usPer(x.genCpuPct, x.achievedPerS)} | ${pct(x.serverPct)} |`);
  }
  out();
  for (const x of sorted) for (const r of x.invalidReasons) out(`- ${x.side} at ${int(x.offeredPerS)}/s: ${r}`);
}

/** Why a side's figure in a round is a lower bound, if it is (it never failed, or the server failed it). */
function boundNotes(cfg: Config, steps: Step[]): string[] {
  const notes: string[] = [];
  for (const [name, side] of [['pushbench', 'pushbench'], ['the bare client', 'bare']] as const) {
    const b = best(steps, side);
    if (!b.failedAt) notes.push(`${name} kept up at every rate tried (up to the ${int(cfg.ladderMaxRate)} msg/s limit): its figure is a lower bound`);
    else if (limitOf(b.failedAt) === 'server') notes.push(`${name} stopped keeping up at ${int(b.failedAt.offeredPerS)}/s with the server's core at ${pct(b.failedAt.serverPct)}: the server, not the client, ended that climb, so the figure is a lower bound of the client`);
  }
  return notes;
}

function printAbsorb(cfg: Config, results: Absorbed[]): AbsorbSummary[] {
  out(`### 2. Deliveries per second one generator core absorbs`);
  out();
  out(`${int(cfg.ladderClients)} subscribers of one topic, 64 B payload; a step offers subscribers × rate deliveries/s. Each side's rate is doubled until it stops keeping up, then bisected ${cfg.ladderRefine} times; the two searches take turns step by step (pushbench, bare, pushbench, …), so a drift in the machine's speed falls on both. ${cfg.ladderRepeat > 1 ? `The pair of searches is run ${cfg.ladderRepeat} times from scratch (rounds); the headline is the median of the rounds' ratios, with their range — one round's ratio moves with the machine's speed near the rule's threshold.` : 'One round (--ladder-repeat 1): the ratio of a single pair of searches, which moves with the machine\'s speed near the rule\'s threshold.'} **Keeping up** is one rule for both sides: deliver ≥ ${KEEP_UP * 100} % of the offer, lose and drop nothing, and the generator thread passes pushbench's validity rule (load/starvation.ts: event-loop utilization not above ${SATURATED_ELU * 100} % for 2 s in a row, event-loop delay p99 ≤ 100 ms in every second — past that, what a client timestamps includes its own queueing). **pushbench**: one worker thread (runOnce, the code path of \`pushbench run\`), judged by its run's validity. **bare**: one worker thread that only counts (ws: frames of \`ws\` clients; SSE: \`\\n\\n\` boundaries on raw undici streams), judged by the same per-second measures of its thread. For context the bare client's rate is then pushed on with the rule dropped (throughput alone, its loop allowed to run full: "keeps pace"). Each step: a fresh server, ${(cfg.ladderWindowMs / 1000).toFixed(0)} s measured after the warm-up. gen CPU is the generator process (all threads), server CPU the server process, over the window; "CPU/delivery" = gen CPU ÷ deliveries/s.`);
  const summary: AbsorbSummary[] = [];
  for (const { transport, rounds, context } of results) {
    const o = overRounds(rounds);
    const notes = new Set<string>();
    rounds.forEach((steps, i) => {
      out();
      out(`**${transport}${rounds.length > 1 ? `, round ${i + 1} of ${rounds.length}` : ''}**`);
      out();
      printSteps(steps);
      const f = o.figures[i]!;
      const roundNotes = boundNotes(cfg, steps);
      for (const n of roundNotes) notes.add(n);
      out(`${transport}${rounds.length > 1 ? ` round ${i + 1}` : ''}: pushbench **${int(f.pb)}**, bare **${int(f.bare)}** deliveries/s keeping up: ratio **${f.ratio === null ? 'n/a' : f.ratio.toFixed(2)}**.${roundNotes.length ? ` Note: ${roundNotes.join('; ')}.` : ''}`);
      const cost = costRatios(steps);
      if (cost.length) out(`Work per delivery where both kept up (bare CPU/delivery ÷ pushbench CPU/delivery, steps back to back): ${cost.map((c) => `${c.ratio.toFixed(2)} at ${int(c.offeredPerS)}/s`).join(', ')}.`);
    });
    const added = context.filter((x) => !rounds[0]!.includes(x));
    if (added.length) {
      out();
      out(`**${transport}, the bare client with the rule dropped** (context; continues round 1's bare steps)`);
      out();
      printSteps(added);
    }
    const bareFull = best(context, 'bare', (x) => x.keepsPace).perS;
    const pb = o.pb.median ?? 0;
    const bare = o.bare.median ?? 0;
    out();
    out(`${transport}: pushbench absorbs **${int(pb)}** deliveries/s on one core, the bare client **${int(bare)}**, both keeping up under the same rule${rounds.length > 1 ? ' (medians over the rounds)' : ''}: ratio **${o.ratio.median === null ? 'n/a' : o.ratio.median.toFixed(2)}**${rangeText(o.ratio)}${rounds.length > 1 ? ', the median of the rounds\' ratios' : ''} (goal ≥ 0.85).${notes.size ? ` Note: ${[...notes].join('; ')}.` : ''}`);
    // Context, not the goal: with its loop full, several frames wait in each socket and one read
    // takes them together, so the bare client's cost per delivery falls — and so does the meaning
    // of any timestamp it would take. pushbench refuses to publish numbers from that state.
    out(`${transport}, for context: the bare client with the rule dropped (throughput alone, loop allowed to run full) kept pace up to **${int(bareFull)}**/s: pushbench / that = **${ratio(pb, bareFull)}**.`);
    if (o.cost.median !== null) {
      out(`${transport}, work per delivery at the same offer where both kept up (steps run back to back, so the machine's drift mostly cancels), over all rounds: bare ÷ pushbench median **${o.cost.median.toFixed(2)}** (${o.cost.min!.toFixed(2)}–${o.cost.max!.toFixed(2)}, ${o.cost.n} offers).`);
    }
    summary.push({ transport, pb, bare, ratio: o.ratio, bareFull, cost: o.cost });
  }
  out();
  return summary;
}

// ─────────────────────── 3. short-poll requests/s vs autocannon ───────────────────────

/**
 * Where the polls go: `reference` — a fresh reference server per run (the acceptance setting, which
 * the server's core limits: it spends per `/poll` about what a client does); `replay` — a fresh
 * replay server per run (bench/replay-server.ts) answering every request with the reference
 * server's answer to the same URL, byte for byte, at a fraction of the cost: the generators' own
 * cost per request sets the pace.
 */
type PollServer = 'reference' | 'replay';

interface PollFigures { record: ResultRecord; ac: AutocannonFigures; pbPerS: number }

/**
 * The URL a pushbench short-poll client on topic t0 polls once it holds the server's first answer,
 * built by the client's own Cursor: `/poll?topic=t0&since=N&epoch=E`. With no messages published
 * it never moves, so autocannon given this URL asks exactly what pushbench asks.
 */
async function pollUrl(base: string): Promise<string> {
  const res = await fetch(`${base}/poll?topic=t0`);
  const body = await res.text();
  const ignore = () => {};
  const cursor = new Cursor({ connected: ignore, message: ignore, messageView: ignore, request: ignore, gap: ignore, error: ignore, reconnecting: ignore });
  if (res.status !== 200 || cursor.answer(body, 0) === undefined) throw new Error(`GET ${base}/poll?topic=t0 answered ${res.status} ${body.slice(0, 200)}`);
  return `${base}/poll?topic=t0${cursor.query()}`;
}

interface PollPlan {
  /** pushbench against its own reference server (runOnce starts it) */
  reference: RunSettings;
  /** the same run against a --target (the replay server's URL and PID are filled in per run) */
  replay: RunSettings;
}

function pollPlan(cfg: Config): PollPlan {
  const warmupMs = 4000;
  const flags = {
    // No messages: every answer is empty and pushbench's cursor stays on the server's first answer,
    // so both generators poll one URL and the server does the same work for each (pollUrl).
    clients: String(cfg.pollConnections), workload: 'broadcast', topics: '1', rate: '0', payload: '64',
    'poll-interval': '0', 'arrival-rate': '1000/s', warmup: `${warmupMs}ms`, duration: `${warmupMs + cfg.pollWindowMs}ms`,
  };
  return {
    reference: runSettings(cfg, 'short-poll', `poll0-${cfg.pollConnections}c`, flags),
    // validated now with a stand-in target; each run gets the replay server's own
    replay: runSettings(cfg, 'short-poll', `poll0-replay-${cfg.pollConnections}c`, { ...flags, target: 'http://127.0.0.1:1', 'server-pid': '1' }),
  };
}

/** The raw answer a fresh reference server gives the polled URL, kept in a file for the replay servers. */
async function captureReplayAnswer(cfg: Config, s: RunSettings): Promise<string> {
  const server = await startPeerServer(s);
  try {
    const url = new URL(await pollUrl(server.url));
    const answer = await captureAnswer(server.url, url.pathname + url.search);
    const file = join(cfg.out, 'replay-answer.http');
    writeFileSync(file, answer);
    log(`· replay: the reference server's answer to ${url.pathname}${url.search} (${answer.length} bytes) kept in ${file}`);
    return file;
  } finally {
    await server.stop();
  }
}

function startReplayServer(s: RunSettings, answerFile: string): Promise<Spawned> {
  return spawnTs(repoPath('bench/replay-server.ts'), [answerFile], {
    cpus: s.serverCpus ?? undefined,
    ready: /^replay listening on (http:\/\/\S+)/,
    what: 'the replay server',
  });
}

/** One pushbench run at Δ = 0, on its own server of `kind` (its record named for the round). */
async function pollPushbench(cfg: Config, plan: PollPlan, kind: PollServer, answerFile: string | null, round: number): Promise<{ record: ResultRecord; pbPerS: number }> {
  const base = kind === 'reference' ? plan.reference : plan.replay;
  const name = round > 1 ? `${base.name}-r${round}` : base.name;
  let record: ResultRecord;
  if (kind === 'reference') record = await pushbench(cfg, { ...base, name });
  else {
    const server = await startReplayServer(plan.reference, answerFile!);
    try {
      pinning.server.add(cpusAllowed(server.pid));
      record = await pushbench(cfg, { ...base, name, target: server.url, serverPid: server.pid });
    } finally {
      await server.stop();
    }
  }
  const pbPerS = record.counters.requests / measuredS(record);
  log(`  pushbench short-poll Δ=0 (${kind}): ${int(pbPerS)} requests/s`);
  return { record, pbPerS };
}

/** autocannon on the URL pushbench polls, against a fresh server of `kind` with the same arguments. */
async function pollAutocannon(cfg: Config, plan: PollPlan, kind: PollServer, answerFile: string | null): Promise<AutocannonFigures> {
  const server = kind === 'reference' ? await startPeerServer(plan.reference) : await startReplayServer(plan.reference, answerFile!);
  try {
    pinning.server.add(cpusAllowed(server.pid));
    const url = await pollUrl(server.url);
    log(`· autocannon (${kind}): ${cfg.pollConnections} connections on ${url}, pinned to CPU ${cfg.loadCpus}`);
    const ac = await runAutocannon(url, cfg.pollConnections, Math.round(cfg.pollWindowMs / 1000), 2, server.pid, cfg.loadCpus);
    pinning.autocannon.add(ac.cpusAllowed);
    log(`  autocannon (${kind}): ${int(ac.requestsPerS)} requests/s`);
    return ac;
  } finally {
    await server.stop();
  }
}

/**
 * `--poll-repeat` rounds of one pushbench run and one autocannon run on servers of `kind`, back to
 * back, the first in turn (A B, B A, A B, …): each round's ratio is paired, and a drift of the
 * machine's speed falls on both generators alike over the rounds.
 */
async function pollPeak(cfg: Config, plan: PollPlan, kind: PollServer): Promise<PollFigures[]> {
  const answerFile = kind === 'replay' ? await captureReplayAnswer(cfg, plan.reference) : null;
  const rounds: PollFigures[] = [];
  for (let round = 1; round <= cfg.pollRepeat; round++) {
    if (cfg.pollRepeat > 1) log(`short poll (${kind}): round ${round} of ${cfg.pollRepeat}`);
    if (round % 2 === 1) {
      const pb = await pollPushbench(cfg, plan, kind, answerFile, round);
      rounds.push({ ...pb, ac: await pollAutocannon(cfg, plan, kind, answerFile) });
    } else {
      const ac = await pollAutocannon(cfg, plan, kind, answerFile);
      rounds.push({ ...(await pollPushbench(cfg, plan, kind, answerFile, round)), ac });
    }
  }
  return rounds;
}

/** Median, range and count of the rounds' ratios of requests/s and of generator CPU per request (autocannon ÷ pushbench). */
interface PollRatios { rate: Spread; cpu: Spread }

function printPoll(cfg: Config, rounds: PollFigures[], kind: PollServer): PollRatios {
  if (kind === 'reference') {
    out(`### 3. Short-poll requests per second at --poll-interval 0 vs autocannon`);
    out();
    out(`${cfg.pollConnections} keep-alive connections, closed loop (pipelining 1), one URL for both: \`GET /poll?topic=t0&since=N&epoch=E\`, where pushbench's resume cursor stands after the server's first answer (autocannon is given it; no messages are published in this part, so it never moves and every answer is the same empty one); measured ${(cfg.pollWindowMs / 1000).toFixed(0)} s each after a warm-up; both generators pinned to CPU ${cfg.loadCpus}, each run on a fresh reference server.${rounds.length > 1 ? ` ${rounds.length} rounds of one run each, back to back, the first in turn (pushbench first in odd rounds); the headline is the median of the rounds' ratios.` : ''}`);
  } else {
    out(`### 3b. The same, generator-bound: the reference server's answer replayed`);
    out();
    out(`As part 3, but each run on a fresh replay server (bench/replay-server.ts, pinned like the reference server) that answers every request with the bytes the reference server sent for that URL — status line, headers and body — and does nothing else. The reference server spends per \`/poll\` about what a client spends, so in part 3 its core fills first and both generators get what it gives; here the server has CPU to spare and the generators' own cost per request sets the pace.${rounds.length > 1 ? ` ${rounds.length} rounds, the first in turn.` : ''}`);
  }
  out();
  out('| round | generator | requests/s | request p50 | request p99 | errors / non-2xx | gen CPU | gen CPU per request | server CPU |');
  out('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  const notes: string[] = [];
  const cpuRatios: number[] = [];
  rounds.forEach((f, i) => {
    const r = f.record;
    const req = percentiles(decodeHistogram(r.histograms.requestRawUs));
    const pbServer = serverCpuPct(r);
    const acS = f.ac.durationS;
    const acServer = f.ac.serverCpuUs === null ? null : (100 * f.ac.serverCpuUs) / 1e6 / acS;
    const acGen = f.ac.generatorCpuUs === null ? null : (100 * f.ac.generatorCpuUs) / 1e6 / acS;
    const pbGen = generatorCpuPct(r);
    if (pbGen !== null && acGen !== null && f.pbPerS > 0 && f.ac.requestsPerS > 0) cpuRatios.push((acGen / f.ac.requestsPerS) / (pbGen / f.pbPerS));
    out(`| ${i + 1} | pushbench (valid: ${r.valid ? 'yes' : 'NO'}${r.closedLoop ? ', closed loop' : ''}) | ${int(f.pbPerS)} | ${formatUs(req.p50)} | ${formatUs(req.p99)} | ${errorsText(r)} | ${pct(pbGen)} | ${usPer(pbGen, f.pbPerS, 1)} | ${pct(pbServer)} |`);
    out(`| ${i + 1} | autocannon 9 | ${int(f.ac.requestsPerS)} | ${f.ac.latencyP50Ms} ms | ${f.ac.latencyP99Ms} ms | ${f.ac.errors} / ${f.ac.non2xx} | ${pct(acGen)} | ${usPer(acGen, f.ac.requestsPerS, 1)} | ${pct(acServer)} |`);
    for (const reason of r.invalidReasons) notes.push(`INVALID ${r.name}: ${reason}`);
    for (const note of r.notes ?? []) notes.push(`NOTE ${r.name}: ${note}`);
    if ((pbServer ?? 0) >= SERVER_BOUND_PCT && (acServer ?? 0) >= SERVER_BOUND_PCT) notes.push(`round ${i + 1}: the server's core was saturated in both runs (${pct(pbServer)}, ${pct(acServer)}), so its ratio compares the server's answers to two clients, not the generators' peaks; the CPU each generator spends per request is the generator figure`);
  });
  out();
  out('(autocannon reports latency in whole milliseconds.)');
  for (const n of notes) out(`\n${n}`);
  const ratios: PollRatios = {
    rate: spread(rounds.map((f) => (f.ac.requestsPerS > 0 ? f.pbPerS / f.ac.requestsPerS : NaN))),
    cpu: spread(cpuRatios),
  };
  const what = kind === 'reference' ? 'short poll' : 'short poll, generator-bound (replay)';
  out();
  out(`${what}: pushbench / autocannon = **${ratios.rate.median === null ? 'n/a' : ratios.rate.median.toFixed(2)}**${rangeText(ratios.rate)} (goal ≥ 1.0); generator CPU per request, autocannon ÷ pushbench: ${ratios.cpu.median === null ? 'n/a' : ratios.cpu.median.toFixed(2)}${rangeText(ratios.cpu)}.`);
  out();
  return ratios;
}

// ───────────────────────────── conditions and main ─────────────────────────────

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

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof PushbenchError)) throw err;
  process.stderr.write(`bench:generator: ${err.message}\n`);
  process.exitCode = 1;
}
