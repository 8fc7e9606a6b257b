/**
 * What a comparison comes to (gate/compare.ts makes it; gate/compare-format.ts and
 * gate/explain.ts write it out): per group and metric, both sides' figures, the change with its
 * interval and test, the detectable change and the verdict. Types only.
 */
import type { TestName } from './change-stats.ts';
import type { Machines, RunGroup } from './match.ts';
import type { CompareMetric } from './metrics.ts';

/** One side's figure for one metric: the per-run values, their mean and its 95 % t interval. */
export interface SideEstimate {
  n: number;
  values: number[];
  /** the geometric mean for a relative metric with every value above 0, else the mean; null when no run measured it */
  mean: number | null;
  /** null when n < 2 */
  lo: number | null;
  hi: number | null;
}

export type CompareStatus = 'regression' | 'improvement' | 'unclear' | 'ok' | 'info' | 'unknown' | 'ungated';

export interface MetricComparison {
  metric: CompareMetric;
  /** null: not gated */
  threshold: number | null;
  baseline: SideEstimate;
  current: SideEstimate;
  /** relative: fraction (+0.1 = 10 % higher); absolute: difference of the rates; null when unknown */
  change: number | null;
  /** the 95 % interval of the change; null without a test */
  lo: number | null;
  hi: number | null;
  /** the test behind the interval; null when there is none (a side with fewer than 2 runs or pairs) */
  test: TestName | null;
  /** runs (pairs, when paired) the test used on each side */
  n: { baseline: number; current: number };
  paired: boolean;
  /** one-sided p of "worse than the threshold", Benjamini–Hochberg adjusted; null when not gated or no test */
  p: number | null;
  /** the smallest regression (same unit as change) this spread could have caught on this figure alone; null without a test or threshold */
  detectable: number | null;
  /** `unclear` for want of runs: the runs (pairs) a side needs for a test */
  needsRuns?: number;
  status: CompareStatus;
  /** `ungated`: the verdict the change would have against a baseline from this machine */
  sameMachineStatus?: CompareStatus;
  /** one sentence with the numbers */
  explanation: string;
}

export interface GroupComparison {
  group: RunGroup;
  metrics: MetricComparison[];
}

export interface ComparisonResult {
  level: number;
  /** the one-sided level of each verdict, (1 − level)/2 */
  alpha: number;
  /** gated figures in the largest Benjamini–Hochberg family (those with something to test) */
  family: number;
  /** what a family is: every gated figure of the comparison, or each metric's across the groups */
  familyBy: 'comparison' | 'metric';
  groups: GroupComparison[];
  warnings: string[];
  regressions: number;
  improvements: number;
  /** changes beyond their threshold that the runs cannot confirm */
  unclear: number;
  /** the machines of each side; machine-dependent metrics are gated only when they are the same */
  machines: Machines;
  /** machine-dependent changes that would be regressions on one machine, not gated across two */
  ungatedRegressions: number;
}

