/**
 * A run's schedule (load/run/schedule.ts) and how its clients are dealt to worker threads and
 * generator processes (load/run/workers.ts): window arithmetic on the µs clock, no run started.
 */
import { describe, expect, it } from 'vitest';
import type { MessagePort } from 'node:worker_threads';
import { JUDGE_MARGIN_MS, runSchedule } from '../../../load/run/schedule.ts';
import { settleRun, staircaseProblems, type RunSettings, type SettledRun } from '../../../load/run/settings.ts';
import { workerTask } from '../../../load/run/workers.ts';
import { SecondBuckets } from '../../../load/run/buckets.ts';
import { CLAIMED_ORDER, traitsOf } from '../../../load/drivers/index.ts';

const T0 = 7_000_000_000;

function settings(k: Partial<RunSettings> = {}): SettledRun {
  return settleRun({
    name: 'run', transport: 'ws', workload: 'broadcast', clients: 20, durationMs: 8000, warmupMs: 3000, ratePerS: 1, payloadBytes: 64,
    topics: 1, pollIntervalMs: 1000, longPollTimeoutMs: 30_000, arrivalRatePerS: 1000, network: 'loopback', target: null, serverDelayMs: 0,
    workers: 2, serverCpus: '0', loadCpus: '1', serverPid: null, ringSize: 1000, proxy: null, ...k,
  });
}

describe('runSchedule', () => {
  it('one window [t0 + warm-up, t0 + duration), closed after a drain of at least 0.5 s or two poll intervals', () => {
    const plan = runSchedule(settings({ pollIntervalMs: 100 }), T0);
    expect(plan.drainMs).toBe(500);
    expect(plan.windows).toEqual([{ name: 'run', clients: 20, startUs: T0, fromUs: T0 + 3e6, toUs: T0 + 8e6, closeUs: T0 + 8.5e6, warmupMs: 3000, durationMs: 8000 }]);
    expect(plan.closeAtUs).toBe(T0 + 8.5e6);
    // a 2 s poll interval: 4 s of drain; a stream silent 3 intervals is stalled
    const slow = runSchedule(settings({ pollIntervalMs: 2000 }), T0);
    expect(slow.drainMs).toBe(4000);
    expect(slow.silenceUs).toBe(6e6);
  });

  it('a held poll\'s drain lasts one message period, so the poll sent after the window\'s last message is answered and counted', () => {
    // 0.5 msg/s: the next message comes 2 s after the last one in the window
    const held = CLAIMED_ORDER.find((t) => traitsOf(t).longPollTimeout)!;
    expect(runSchedule(settings({ transport: held, ratePerS: 0.5, pollIntervalMs: 100 }), T0).drainMs).toBe(2000);
    // a stream is not held per message: its drain stays the 0.5 s floor
    expect(runSchedule(settings({ ratePerS: 0.5, pollIntervalMs: 100 }), T0).drainMs).toBe(500);
  });

  it('the drain and the silence grow with the server\'s delay and an emulated network', () => {
    const plan = runSchedule(settings({ pollIntervalMs: 100, serverDelayMs: 300, ratePerS: 0.5, proxy: { delayMs: 50, jitterMs: 10 } as RunSettings['proxy'] }), T0);
    // 0.5 s + 0.3 s + 4 × (50 + 10) ms
    expect(plan.drainMs).toBe(500 + 300 + 240);
    // 3 messages at 0.5/s is 6 s, + the delay
    expect(plan.silenceUs).toBe(6e6 + 300_000);
  });

  it('a staircase\'s steps follow each other: each starts a judging margin after the one before closed', () => {
    const s = settings({ clients: 40, pollIntervalMs: 100, steps: [{ name: 'a', clients: 10, warmupMs: 1000, measureMs: 2000 }, { name: 'b', clients: 40, warmupMs: 2000, measureMs: 3000 }] });
    const { windows, closeAtUs } = runSchedule(s, T0);
    expect(windows[0]).toEqual({ name: 'a', clients: 10, startUs: T0, fromUs: T0 + 1e6, toUs: T0 + 3e6, closeUs: T0 + 3.5e6, warmupMs: 1000, durationMs: 3000 });
    const start = T0 + 3.5e6 + JUDGE_MARGIN_MS * 1000;
    expect(windows[1]).toEqual({ name: 'b', clients: 40, startUs: start, fromUs: start + 2e6, toUs: start + 5e6, closeUs: start + 5.5e6, warmupMs: 2000, durationMs: 5000 });
    expect(closeAtUs).toBe(start + 5.5e6);
  });

  it('a staircase takes ascending steps ending at all the clients, and none of the run-wide extras', () => {
    const steps = [{ name: 'a', clients: 10, warmupMs: 1, measureMs: 1 }, { name: 'b', clients: 20, warmupMs: 1, measureMs: 1 }];
    expect(staircaseProblems(settings({ steps }))).toEqual([]);
    expect(staircaseProblems(settings({ steps: [...steps].reverse() }))).toEqual(['staircase steps need ascending client counts', 'the last staircase step must hold all the clients']);
    expect(staircaseProblems(settings({ steps, slowClients: { share: 0.1, readBytesPerS: 1 } }))).toEqual(['a live staircase takes no slow clients']);
  });
});

describe('workerTask', () => {
  it('deals every client to exactly one worker of one generator process', () => {
    const port = {} as MessagePort;
    const s = settings({ clients: 23 });
    const plan = runSchedule(s, T0);
    const ids: number[] = [];
    for (let index = 0; index < 3; index++) {
      const share = settings({ clients: 23, share: { index, of: 3, t0Us: T0 } });
      for (let w = 0; w < 2; w++) ids.push(...workerTask(share, plan, w, 2, 'http://127.0.0.1:1', [], port).clientIds);
    }
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    // process 1's worker 0 takes 1, 7, 13, 19 (every 3 × 2th from 1)
    expect(workerTask(settings({ clients: 23, share: { index: 1, of: 3, t0Us: T0 } }), plan, 0, 2, 'x', [], port).clientIds).toEqual([1, 7, 13, 19]);
  });

  it('gives a staircase\'s workers its steps, and faults their times on the run\'s clock', () => {
    const port = {} as MessagePort;
    const s = settings({ clients: 20, pollIntervalMs: 100, steps: [{ name: 'a', clients: 10, warmupMs: 1000, measureMs: 1000 }, { name: 'b', clients: 20, warmupMs: 1000, measureMs: 1000 }] });
    const task = workerTask(s, runSchedule(s, T0), 0, 1, 'x', [], port);
    expect(task.steps?.map((x) => x.clients)).toEqual([10, 20]);
    expect(task.steps?.[1].startUs).toBe(T0 + 2.5e6 + JUDGE_MARGIN_MS * 1000);
    const f = settings({ faults: [{ kind: 'stall-server', atMs: 4000, durationMs: 1000, text: 'stall-server@4s:1s' }] });
    const t2 = workerTask(f, runSchedule(f, T0), 0, 1, 'x', [], port);
    expect(t2.faultsAtUs).toEqual([T0 + 4e6]);
    expect(t2.steps).toBeUndefined();
  });
});

describe('SecondBuckets', () => {
  it('files a tick under the second whose grid point is nearest, and keeps the order seconds were first written', () => {
    const b = new SecondBuckets(T0);
    expect(b.secOf(T0 + 2.49e6)).toBe(2);
    expect(b.secOf(T0 + 2.51e6)).toBe(3);
    b.at(5);
    b.file({ tUs: T0 + 3.9e6 } as Parameters<SecondBuckets['file']>[0]);
    expect([...b.bySec.keys()]).toEqual([5, 4]);
    expect(b.at(4).ticks).toHaveLength(1);
  });
});
