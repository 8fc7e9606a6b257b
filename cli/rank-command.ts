/**
 * `pushbench rank`: the main job. Runs every transport on the identical workload, repeated, in
 * every cell of a grid (network × message rate × clients), in a balanced order; re-runs an invalid
 * run once; then ranks the transports per cell and metric with 95 % confidence intervals, maps
 * every claimed step (WebSocket > SSE > long polling > short polling) over the grid, and writes
 * ranking.json and the report.
 */
import { join } from 'node:path';
import { writeJsonAtomic, type ResultRecord } from '../core/record.ts';
import { formatHelp } from '../core/options.ts';
import { progressPrinter, type ProgressPrinter } from './progress.ts';
import { rankPlan } from '../load/rank-plan.ts';
import { fileSafe } from './run-options.ts';
import { runOnce, type RunSettings } from '../load/runner.ts';
import { interruptible } from './interrupt.ts';
import { checkAssertions } from '../gate/assert.ts';
import { cellKey, type GridCell } from '../reports/rank-grid.ts';
import { RANK_OPTION_SPECS, parseRankArgs, type RankSetup } from './rank-options.ts';

export { RANK_OPTION_SPECS };
import { writeRankOutputs } from './rank-output.ts';

const RANK_USAGE = 'pushbench rank [--rates 1,10] [--network loopback,wan] [--clients N,…] [--repeats N] [--full] [options]';
const RANK_DESCRIPTION = `Ranks the transports over a grid: every transport on the identical workload, repeated, in every
cell (network × message rate × clients), in an order that spreads machine drift evenly over
transports and cells. Prints, per cell and metric, the ranking with 95 % confidence intervals (a tie
where they overlap) and a verdict on the claim "WebSocket > SSE > long polling > short polling";
then the map: per metric and claimed step, where it holds, ties or flips, with the ratio and its
interval, and requests per message against the formulas. Writes every run, ranking.json and a report.`;

/** What the runs came to: their records, and whether they stopped early (by a signal or not). */
interface RankRuns {
  records: ResultRecord[];
  interrupted: boolean;
  signalled: boolean;
}

/** `ws-wan-10mps-250c-r2`: transport, cell and repeat. */
const runName = (t: string, c: GridCell, repeat: number) => `${t}-${c.network}-${c.ratePerS}mps-${c.clients}c-r${repeat + 1}`;

/**
 * Run the plan in order, writing each record as it comes; an invalid run is run once more, an
 * incomplete one (a signal, or a server that died) ends the rank.
 */
async function runPlan(setup: RankSetup, plan: ReturnType<typeof rankPlan<string, GridCell>>, out: ProgressPrinter): Promise<RankRuns> {
  const runs: RankRuns = { records: [], interrupted: false, signalled: false };
  await interruptible(async (signal) => {
    for (const [i, step] of plan.entries()) {
      if (signal.aborted) break;
      const base = setup.settingsFor.get(`${cellKey(step.cell)}|${step.item}`)!;
      for (let attempt = 1; attempt <= 2; attempt++) {
        const name = `${runName(step.item, step.cell, step.repeat)}${attempt > 1 ? '-retry' : ''}`;
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

function announce(setup: RankSetup, planLength: number, out: ProgressPrinter): void {
  const { name, transports, repeats, cells } = setup;
  const first = setup.settingsFor.values().next().value as RunSettings;
  const grid = cells.map((c) => `${c.network}/${c.ratePerS} msg/s/${c.clients} clients`).join(', ');
  out.log(`pushbench rank ${name}: ${transports.join(', ')} × ${repeats} repeats × ${cells.length} cells = ${planLength} runs; ${first.workload}, ${first.durationMs / 1000} s each (warm-up ${first.warmupMs / 1000} s), ${first.payloadBytes} B; cells: ${grid}`);
  out.log(`pinning: server CPU ${first.serverCpus ?? 'any'}, generator${cells.some((c) => c.network !== 'loopback') ? ' and proxy' : ''} CPU ${first.loadCpus ?? 'any'}`);
}

export async function rankCommand(argv: string[]): Promise<number> {
  const setup = parseRankArgs(argv);
  if (setup === 'help') {
    process.stdout.write(formatHelp(RANK_USAGE, RANK_DESCRIPTION, RANK_OPTION_SPECS));
    return 0;
  }
  const plan = rankPlan<string, GridCell>(setup.transports, setup.repeats, setup.cells);
  const out = progressPrinter();
  announce(setup, plan.length, out);
  const started = Date.now();
  const { records, interrupted, signalled } = await runPlan(setup, plan, out);
  out.done();
  await writeRankOutputs(setup, records, { startedMs: started, endedMs: Date.now() });
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
