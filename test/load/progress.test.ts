import { describe, expect, it } from 'vitest';
import { progressPercentiles } from '../../load/progress.ts';
import type { WorkerTick } from '../../load/worker.ts';

const tick = (workerIndex: number, deliveries: number, p50Us: number, p99Us: number): WorkerTick => ({
  type: 'tick', workerIndex, tUs: 0, interval: '', deliveries, p50Us, p99Us, wallUs: 1e6, started: 0, open: 0, elu: 0, loopDelayP99Ms: 0, cpuUs: 0,
});

describe('progressPercentiles (the live line, from the workers’ own percentiles)', () => {
  it('is the worker’s own figures with one worker', () => {
    expect(progressPercentiles([tick(0, 500, 1200, 9000)])).toEqual({ p50: 1200, p99: 9000 });
  });

  it('weights p50 by deliveries, takes the largest p99 and skips idle workers', () => {
    const p = progressPercentiles([tick(0, 300, 1000, 5000), tick(1, 100, 2000, 8000), tick(2, 0, 0, 0)]);
    expect(p).toEqual({ p50: 1250, p99: 8000 });
  });

  it('is zero for a second without deliveries', () => {
    expect(progressPercentiles([])).toEqual({ p50: 0, p99: 0 });
    expect(progressPercentiles([tick(0, 0, 0, 0)])).toEqual({ p50: 0, p99: 0 });
  });
});
