/**
 * What a scale-out shard's record says about the shard (dist/): which part of which plan it ran,
 * on which host, how late it started; and on a merged record, that for every shard.
 */

/** One shard of a scale-out run, as its record carries it. */
export interface ShardFacts {
  /** 0-based, as Kubernetes' JOB_COMPLETION_INDEX is */
  index: number;
  /** the plan's shard count */
  count: number;
  /** the plan's id (dist/plan.ts): merge refuses records of another plan */
  planId: string;
  /** the machine's hostname (a Kubernetes pod's name) */
  host: string;
  /** how long after the plan's startAt the shard's workers had their tasks, ms (0: on time) */
  startLagMs: number;
  /** clients this shard ran */
  clients: number;
}

/** A merged scale-out record's account of its shards and what merge found. */
export interface ShardsFigures {
  planId: string;
  count: number;
  /** every shard merged, by index, with its own record's validity and headline figures (its p99 is its own, never merged from) */
  shards: (ShardFacts & { valid: boolean; invalidReasons: string[]; delivered: number; lost: number; p99Us: number })[];
  /** indexes of the plan that no record covered (only with --allow-partial) */
  missing: number[];
}
