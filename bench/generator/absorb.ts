/**
 * Part 2 of bench:generator: the deliveries/s one generator core absorbs (WebSocket, SSE) while
 * keeping up, pushbench against the bare client under one rule, the searches interleaved in rounds
 * (bench/ladder.ts); then the bare client's throughput with the rule dropped, for context.
 */
import { SATURATED_ELU, judgeLoop } from '../../load/starvation.ts';
import { sourceAddresses, type RunSettings } from '../../load/runner.ts';
import { formatUs } from '../../core/units.ts';
import { runBareClients, type BareResult, type BareTransport } from '../bare-clients.ts';
import { best, costRatios, memo, oneAtATime, overRounds, search, type Measured, type Spread } from '../ladder.ts';
import {
  SERVER_BOUND_PCT, cpusAllowed, eluMean, generatorCpuPct, int, log, out, pct, pinning, pushbench, rangeText, ratio, runSettings,
  serverCpuPct, startPeerServer, usPer,
} from './common.ts';
import type { Config } from './config.ts';

/** A delivery rate "keeps up" when it reaches this share of what the server offered. */
const KEEP_UP = 0.95;

/** One measurement of one side at one offered rate. */
export interface Step extends Measured {
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
export interface Absorbed { transport: BareTransport; rounds: Step[][]; context: Step[] }

/**
 * The settings every step of one transport shares (validated once, before this process pins
 * itself); a step only changes the publisher's rate and the ring (see {@link atRate}).
 */
export function absorbTemplate(cfg: Config, transport: BareTransport): RunSettings {
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

export async function absorb(cfg: Config, templates: RunSettings[]): Promise<Absorbed[]> {
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

export interface AbsorbSummary {
  transport: string;
  /** medians over the rounds */
  pb: number;
  bare: number;
  ratio: Spread;
  bareFull: number;
  cost: Spread;
}

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

export function printAbsorb(cfg: Config, results: Absorbed[]): AbsorbSummary[] {
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
