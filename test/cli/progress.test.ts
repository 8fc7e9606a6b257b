import { describe, expect, it } from 'vitest';
import { formatProgress } from '../../cli/progress.ts';
import { progressPercentiles } from '../../load/progress.ts';
import type { WorkerTick } from '../../load/worker.ts';

const tick = (workerIndex: number, deliveries: number, p50Us: number, p99Us: number): WorkerTick => ({
  type: 'tick', workerIndex, tUs: 0, interval: '', deliveries, p50Us, p99Us, wallUs: 1e6, started: 0, open: 0, elu: 0, loopDelayP99Ms: 0, cpuUs: 0, gcMs: 0, gcMaxMs: 0,
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

describe('formatProgress (the live line)', () => {
  it('shows the generator\'s margin: its loop utilization and loop delay beside the server\'s CPU', () => {
    const line = formatProgress({
      name: 'ws-test', transport: 'ws', elapsedS: 12.4, totalS: 30, phase: 'measure', started: 1000, clients: 1000, open: 998,
      deliveriesPerS: 80_123, p50Us: 4200, p99Us: 18_300, generatorElu: 0.874, generatorLoopDelayP99Ms: 23.4, serverCpuPct: 41.6,
    });
    expect(line).toBe('[ 12s/30s] ws-test measure clients 1000/1000 open 998  80,123 msg/s  p50 4.20ms p99 18.3ms  gen elu 87% loop 23ms srv cpu 42%');
  });
});
