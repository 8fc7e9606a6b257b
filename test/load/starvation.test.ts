import { describe, expect, it } from 'vitest';
import { STARVED_CPU_SHARE, cpuShareWhileBusy, judgeLoop } from '../../load/starvation.ts';
import type { WorkerTick } from '../../load/worker.ts';

const tick = (elu: number, cpuUs: number, wallUs = 1e6): WorkerTick => ({
  type: 'tick', workerIndex: 0, tUs: 0, interval: '', deliveries: 0, p50Us: 0, p99Us: 0, wallUs, started: 0, open: 0, elu, loopDelayP99Ms: 0, cpuUs, gcMs: 0, gcMaxMs: 0,
});

describe('cpuShareWhileBusy', () => {
  it('is about 1 for a thread that had its CPU whenever its loop was busy', () => {
    expect(cpuShareWhileBusy([tick(0.95, 940_000), tick(1, 1_000_000)])).toBeCloseTo(0.995, 3);
  });

  it('is low for a thread whose busy loop waited for a CPU (a 2 s tick, 30 % of it on a CPU)', () => {
    const share = cpuShareWhileBusy([tick(1, 600_000, 2e6)])!;
    expect(share).toBeCloseTo(0.3, 3);
    expect(share).toBeLessThan(STARVED_CPU_SHARE);
  });

  it('is null without busy time', () => {
    expect(cpuShareWhileBusy([])).toBeNull();
    expect(cpuShareWhileBusy([tick(0, 0)])).toBeNull();
  });
});

describe('judgeLoop: the one keep-up rule for generator threads (pushbench and the bare bench peer)', () => {
  it('saturated only after two seconds in a row above the bar; stalled on one bad second of delay', () => {
    expect(judgeLoop([0.95, 0.5, 0.95, 0.5], [5, 5, 5, 5])).toEqual({ saturatedSecs: 1, worstDelayMs: 5, saturated: false, stalled: false });
    expect(judgeLoop([0.5, 0.95, 0.91, 0.2], [5, 5, 5, 5])).toMatchObject({ saturatedSecs: 2, saturated: true, stalled: false });
    // exactly at the bar is not above it
    expect(judgeLoop([0.9, 0.9, 0.9], [100, 100, 100])).toMatchObject({ saturated: false, stalled: false });
    expect(judgeLoop([0.1, 0.1], [3, 101])).toMatchObject({ worstDelayMs: 101, saturated: false, stalled: true });
    expect(judgeLoop([], [])).toEqual({ saturatedSecs: 0, worstDelayMs: 0, saturated: false, stalled: false });
  });

  it('a late tick counts the seconds it covers: one tick after a 3 s block is 3 saturated seconds', () => {
    expect(judgeLoop([0.95, 0.5], [5, 5], [3, 1])).toMatchObject({ saturatedSecs: 3, saturated: true });
    expect(judgeLoop([0.5, 0.95, 0.95], [5, 5, 5], [4, 1, 1])).toMatchObject({ saturatedSecs: 2 });
    // a tick shorter than a second (the last, partial one) still counts as one
    expect(judgeLoop([0.95, 0.95], [5, 5], [1, 0.3])).toMatchObject({ saturatedSecs: 2, saturated: true });
  });
});
