/**
 * A staircase fixed beforehand (a scale-out plan's `--staircase`), judged after the run: each
 * step's merged record against the SLO as `pushbench capacity` judges a step ({@link judgeRecord}),
 * the capacity read from the verdicts in step order ({@link staircaseCapacity}), and the same
 * table and planning line capacity prints. Pure: records in, figures and text out.
 */
import type { ResultRecord, StaircaseFigures } from '../core/record.ts';
import type { TransportName } from '../core/wire.ts';
import { judgeRecord, staircaseCapacity, type Slo } from './search.ts';
import type { CapacityOutcome } from './table.ts';

/**
 * `steps` (ascending clients, one record each, every shard merged) judged against `slo`: the
 * outcome capacity's table takes, and the figures a merged record keeps. `generatorProcs`: the
 * machines (shards) the clients ran on; the target is one server as far as pushbench knows.
 */
export function judgeStaircase(steps: readonly ResultRecord[], slo: Slo, generatorProcs: number): { outcome: CapacityOutcome; figures: StaircaseFigures } {
  const judged = steps.map((r) => ({ clients: r.config.clients, verdict: judgeRecord(r, slo) }));
  const result = staircaseCapacity(judged);
  const outcome: CapacityOutcome = {
    transport: steps[0].config.transport as TransportName, result,
    atCapacity: steps.find((r) => r.config.clients === result.capacity) ?? null,
    serverProcs: 1, generatorProcs,
  };
  const figures: StaircaseFigures = {
    slo: slo.text, capacity: result.capacity, lowerBound: result.lowerBound, stop: result.stop,
    steps: judged.map(({ clients, verdict }) => ({ clients, verdict: verdict.kind, reasons: 'reasons' in verdict ? verdict.reasons : [] })),
  };
  return { outcome, figures };
}
