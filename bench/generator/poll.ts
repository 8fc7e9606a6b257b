/**
 * Parts 3 and 3b of bench:generator: short-poll requests/s at `--poll-interval 0`, pushbench
 * against autocannon on the same URL and connections, in rounds taken in turns, on fresh reference
 * servers (`poll`) or on replay servers serving the reference server's answer (`poll-replay`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultRecord } from '../../core/record.ts';
import { decodeHistogram, percentiles } from '../../core/histogram.ts';
import { spawnTs, type Spawned } from '../../core/spawn.ts';
import { repoPath } from '../../core/tsx.ts';
import { formatUs } from '../../core/units.ts';
import { Cursor } from '../../load/drivers/cursor.ts';
import type { RunSettings } from '../../load/runner.ts';
import { runAutocannon, type AutocannonFigures } from '../autocannon.ts';
import { captureAnswer } from '../replay-server.ts';
import { spread, type Spread } from '../ladder.ts';
import {
  SERVER_BOUND_PCT, cpusAllowed, errorsText, generatorCpuPct, int, log, measuredS, out, pct, pinning, pushbench, rangeText, runSettings,
  serverCpuPct, startPeerServer, usPer,
} from './common.ts';
import type { Config } from './config.ts';

/**
 * Where the polls go: `reference` — a fresh reference server per run (the acceptance setting, which
 * the server's core limits: it spends per `/poll` about what a client does); `replay` — a fresh
 * replay server per run (bench/replay-server.ts) answering every request with the reference
 * server's answer to the same URL, byte for byte, at a fraction of the cost: the generators' own
 * cost per request sets the pace.
 */
export type PollServer = 'reference' | 'replay';

export interface PollFigures { record: ResultRecord; ac: AutocannonFigures; pbPerS: number }

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

export interface PollPlan {
  /** pushbench against its own reference server (runOnce starts it) */
  reference: RunSettings;
  /** the same run against a --target (the replay server's URL and PID are filled in per run) */
  replay: RunSettings;
}

export function pollPlan(cfg: Config): PollPlan {
  const warmupMs = cfg.pollWarmupMs ?? 4000;
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
    const ac = await runAutocannon(url, cfg.pollConnections, Math.round(cfg.pollWindowMs / 1000), (cfg.pollWarmupMs ?? 2000) / 1000, server.pid, cfg.loadCpus);
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
export async function pollPeak(cfg: Config, plan: PollPlan, kind: PollServer): Promise<PollFigures[]> {
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
export interface PollRatios { rate: Spread; cpu: Spread }

export function printPoll(cfg: Config, rounds: PollFigures[], kind: PollServer): PollRatios {
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
  out(`Warm-up before each measured window: ${cfg.pollWarmupMs === null ? 'pushbench 4 s (its connections\' ramp included), autocannon 2 s (a discarded run)' : `${cfg.pollWarmupMs} ms for each generator`}.`);
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
