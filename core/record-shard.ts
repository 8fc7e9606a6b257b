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
  /** the start it ran to (ISO 8601 UTC): the plan's, or the one its start barrier announced; absent in records before the barrier */
  startAt?: string;
  /** how long after its startAt the shard's workers had their tasks, ms (0: on time) */
  startLagMs: number;
  /** clients this shard ran */
  clients: number;
  /** its clock against the target's (dist/clock.ts); null when the target answers no /time */
  clock: ClockFacts | null;
}

/** A shard's clock against its target's, µs: the server clock minus the shard's. */
export interface ClockFacts {
  /** estimated before the run (the minimum-RTT probe's); the run's latencies are corrected by it */
  offsetUs: number;
  rttUs: number;
  /** the same after the run; absent when that probe failed */
  afterOffsetUs?: number;
  afterRttUs?: number;
  /** after − before */
  driftUs: number;
  /** how far the true offset may lie from `offsetUs` during the run: the larger RTT / 2 plus |drift| */
  uncertaintyUs: number;
  /** a test's emulated skew of this machine's clock (`--clock-skew`), already inside `offsetUs` */
  emulatedSkewUs?: number;
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

/** A merged staircase's verdicts, as `pushbench capacity` judges its steps (capacity/search.ts). */
export interface StaircaseFigures {
  slo: string;
  /** the most clients of the steps that held the SLO up to the first that did not (null: not even the first) */
  capacity: number | null;
  /** the staircase ended before the SLO broke: the capacity is at least this */
  lowerBound: boolean;
  stop: { kind: string; atClients: number; message: string };
  steps: { clients: number; verdict: string; reasons: string[] }[];
}

// The record's shard fields live here, next to their types: core/record-schema.ts's ResultRecord
// gains them by declaration merging (that file is at the house's size limit).
declare module './record-schema.ts' {
  interface ResultRecord {
    /** one shard of a scale-out run (dist/), or a merged one's shards */
    shard?: ShardFacts;
    shards?: ShardsFigures;
    /** a staircase plan's shard or merged run: every step's own record (this record is the last step's) */
    steps?: ResultRecord[];
    /** a merged staircase: each step judged against the plan's SLO, and the capacity */
    staircase?: StaircaseFigures;
  }
}
