/**
 * Where a run's live figures go (RunHooks.metrics): the interface the runner calls once a second
 * and at the end, and the process's own sink. Kept apart from the registry (load/metrics.ts) so a
 * run without metrics loads no metrics library.
 */
import type { Progress } from './progress.ts';
import type { WorkerResult, WorkerTick } from './worker-task.ts';

let processSink: MetricsSink | undefined;

/**
 * The sink of this process's generator command (`--metrics-port`, cli/metrics-option.ts), or none:
 * a run whose hooks name no sink of their own reports to it, so every run a command makes (rank's
 * series, capacity's steps and live growth, a multi-process generator's shards) is seen without
 * each command passing it along.
 */
export function useProcessMetrics(sink: MetricsSink | undefined): void {
  processSink = sink;
}

/** A run's sink: its hooks' own, else the process's (see {@link useProcessMetrics}). */
export function metricsSinkOf(hooks: { metrics?: MetricsSink }): MetricsSink | undefined {
  return hooks.metrics ?? processSink;
}

/** What every run series is labelled with. */
export interface RunLabels {
  run: string;
  transport: string;
  shard: string;
}

/** Where a run sends its live figures (RunHooks.metrics); a multi-process child forwards them. */
export interface MetricsSink {
  forRun(labels: RunLabels): RunMetrics;
}

/** One run's live figures, in the order the runner produces them. */
export interface RunMetrics {
  /** a worker's tick, as it arrives (about once a second per worker) */
  tick(t: WorkerTick): void;
  /** the sampler's second (after the workers' ticks of the second before it) */
  second(p: Progress): void;
  /** the workers' final counts (and deliveries no tick carried) and the record's validity, once the run has ended */
  end(results: readonly Pick<WorkerResult, 'totals' | 'latencyBuckets'>[], valid: boolean): void;
}
