/**
 * One record of a plan's shard records: each checked against the plan (same plan id, each index
 * once, none missing unless partial merges are allowed), then merged as the in-box processes'
 * records are (core/record-merge.ts: histograms add, never percentiles averaged; counters sum).
 *
 * Timelines align by absolute time by construction: every shard's t0 is the plan's startAt read
 * on its own clock (a late shard still ticks on that grid), so second k of every shard is the same
 * wall-clock second and merging them point by point adds what happened in that second.
 */
import { validationError } from '../core/errors.ts';
import { finishRecord, mergeRecords, type ResultRecord, type ShardFacts, type ShardsFigures } from '../core/record.ts';
import type { Plan } from './plan.ts';

/** One shard record and the file it came from (named in problems). */
export interface ShardInput {
  file: string;
  record: ResultRecord;
}

/** Every problem of `inputs` against `plan` (empty: mergeable), and the indexes no record covers. */
export function shardProblems(plan: Plan, inputs: readonly ShardInput[]): { problems: string[]; missing: number[] } {
  const problems: string[] = [];
  const byIndex = new Map<number, string[]>();
  for (const { file, record } of inputs) {
    const s = record.shard;
    if (!s) { problems.push(`${file}: not a shard record (no "shard" field; made by 'pushbench run --plan')`); continue; }
    if (s.planId !== plan.id) { problems.push(`${file}: a shard of plan ${s.planId}, not of this plan (${plan.id})`); continue; }
    if (!Number.isInteger(s.index) || s.index < 0 || s.index >= plan.shards) { problems.push(`${file}: shard index ${s.index} is outside the plan's 0…${plan.shards - 1}`); continue; }
    const steps = plan.staircase?.clients.length ?? 0;
    if ((record.steps?.length ?? 0) !== steps) problems.push(`${file}: ${record.steps?.length ?? 0} staircase step records, the plan has ${steps}${steps ? ' (a shard cut short cannot be merged step by step)' : ''}`);
    byIndex.set(s.index, [...(byIndex.get(s.index) ?? []), file]);
  }
  for (const [index, files] of [...byIndex].sort((a, b) => a[0] - b[0])) {
    if (files.length > 1) problems.push(`shard ${index} given ${files.length} times: ${files.join(', ')}`);
  }
  const missing = Array.from({ length: plan.shards }, (_, i) => i).filter((i) => !byIndex.has(i));
  return { problems, missing };
}

/**
 * What makes the merged run invalid about shard `s`: a start later than the plan's tolerance, or a
 * clock offset less certain than the plan's share of the run's p50 (`p50Us`). A shard whose target
 * had no clock to ask gets a note.
 */
function shardReasons(plan: Plan, s: ShardFacts, p50Us: number, notes: string[]): string[] {
  const out: string[] = [];
  if (s.startLagMs > plan.start.toleranceMs) out.push(`shard ${s.index} (${s.host}) started ${s.startLagMs} ms after the plan's start, beyond its tolerance of ${plan.start.toleranceMs} ms`);
  const bound = plan.clock.maxUncertaintyShare * p50Us;
  if (s.clock && s.clock.uncertaintyUs > bound) {
    out.push(`shard ${s.index} (${s.host}): its clock offset to the target is known to ± ${s.clock.uncertaintyUs} µs (round trip ${s.clock.rttUs} µs, drift ${s.clock.driftUs} µs), more than ${plan.clock.maxUncertaintyShare * 100} % of the run's p50 (${Math.round(bound)} µs)`);
  }
  if (!s.clock) notes.push(`shard ${s.index}: the target answers no /time, so its latencies are not corrected for the clocks' offset`);
  return out;
}

/**
 * The merged record of `inputs` for `plan`; throws PB_BAD_OPTION listing every problem (another
 * plan's record, an index twice or out of range, missing indexes unless `allowPartial`). A partial
 * merge is marked: invalid, its missing shards named. A shard that started later than the plan's
 * tolerance makes the merged run invalid, naming it; each shard's own reasons are kept, prefixed
 * with its index.
 */
export function mergeShards(plan: Plan, inputs: readonly ShardInput[], opts: { allowPartial?: boolean } = {}): ResultRecord {
  const { problems, missing } = shardProblems(plan, inputs);
  if (missing.length && !opts.allowPartial) problems.push(`missing shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of the plan's 0…${plan.shards - 1} (--allow-partial merges the others and marks the run)`);
  if (inputs.length === 0) problems.push('no shard records given');
  if (problems.length) throw validationError(problems, `cannot merge the shards of plan ${plan.id}`);
  const sorted = [...inputs].sort((a, b) => a.record.shard!.index - b.record.shard!.index).map((x) => x.record);
  const merged = mergeChecked(plan, sorted, missing, plan.name);
  // a staircase: step i of every shard covers the same absolute window (the plan's schedule), merged alike
  if (!plan.staircase) return merged;
  return { ...merged, steps: plan.staircase.clients.map((c, i) => mergeChecked(plan, sorted.map((r) => r.steps![i]), missing, `${plan.name}-${c}c`)) };
}

/** The merged record `name` of checked shard records `sorted` (by index), `missing` naming the absent indexes. */
function mergeChecked(plan: Plan, sorted: ResultRecord[], missing: number[], name: string): ResultRecord {
  const own = sorted.map((r) => ({ ...r, invalidReasons: r.invalidReasons.map((x) => `shard ${r.shard!.index}: ${x}`) }));
  const merged = mergeRecords(own);
  const reasons = [...merged.invalidReasons];
  const notes = [...(merged.notes ?? [])];
  for (const r of sorted) reasons.push(...shardReasons(plan, r.shard!, merged.summary.latencyUs.p50, notes));
  // every shard's second k is its start + k: shards that ran to different starts do not align
  const starts = new Set(sorted.map((r) => r.shard!.startAt ?? plan.start.at));
  if (starts.size > 1) reasons.push(`the shards ran to different starts (${sorted.map((r) => `shard ${r.shard!.index} ${r.shard!.startAt ?? plan.start.at}`).join(', ')}): their timelines do not align`);
  if (missing.length) reasons.push(`partial: shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${plan.shards} missing (merged with --allow-partial)`);
  const shards: ShardsFigures = {
    planId: plan.id, count: plan.shards, missing,
    shards: sorted.map((r) => ({
      ...(r.shard as ShardFacts), valid: r.valid, invalidReasons: r.invalidReasons,
      delivered: r.summary.delivered, lost: r.summary.lost, p99Us: r.summary.latencyUs.p99,
    })),
  };
  const { summary: _s, shard: _first, steps: _steps, ...rest } = merged;
  return finishRecord({
    ...rest, name, shards, ...(notes.length ? { notes } : {}),
    config: { ...rest.config, target: plan.run.target },
    complete: rest.complete && missing.length === 0,
    invalidReasons: reasons, valid: reasons.length === 0,
  });
}
