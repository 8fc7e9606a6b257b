/**
 * The one slicing rule (load/slice.ts): slices partition the clients, a slice of a slice is the
 * flat slice it names, and the worker threads' and processes' tasks are that rule (no second one).
 */
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { WHOLE_RUN, nestSlice, sliceArrivalsUs, sliceCount, sliceIds } from '../../load/slice.ts';
import { shareClients } from '../../load/runner.ts';
import { workerTask } from '../../load/run/workers.ts';
import { runSchedule } from '../../load/run/schedule.ts';
import { settleRun } from '../../load/run/settings.ts';
import { runSettings } from './settings.ts';

describe('slices', () => {
  it('partition the clients: every id once, counts as the ids', () => {
    for (const clients of [1, 7, 100, 101]) {
      for (const of of [1, 2, 3, 10, 150]) {
        const parts = Array.from({ length: of }, (_, index) => sliceIds(clients, { index, of }));
        expect(parts.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: clients }, (_, i) => i));
        parts.forEach((ids, index) => expect(sliceCount(clients, { index, of })).toBe(ids.length));
        // sizes differ by at most one: no slice is starved
        const sizes = parts.map((p) => p.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('nest: shard × process × thread is the flat slice it names, and nesting partitions the outer slice', () => {
    const clients = 1000;
    const shard = { index: 2, of: 5 };
    const inShard: number[] = [];
    for (let p = 0; p < 3; p++) {
      const proc = nestSlice(shard, { index: p, of: 3 });
      for (let w = 0; w < 2; w++) {
        const thread = nestSlice(proc, { index: w, of: 2 });
        expect(thread).toEqual({ index: 2 + 5 * p + 15 * w, of: 30 });
        inShard.push(...sliceIds(clients, thread));
      }
    }
    expect(inShard.sort((a, b) => a - b)).toEqual(sliceIds(clients, shard));
    expect(nestSlice(WHOLE_RUN, shard)).toEqual(shard);
    expect(nestSlice(shard, WHOLE_RUN)).toEqual(shard);
  });

  it('arrivals: a slice follows the run\'s one schedule (id k at k / rate)', () => {
    expect(sliceArrivalsUs(10, { index: 1, of: 3 }, 100)).toEqual({ firstUs: 10_000, lastUs: 70_000 });
    expect(sliceArrivalsUs(2, { index: 2, of: 3 }, 100)).toBeNull();
  });

  it('the runner\'s share count and the worker threads\' ids are this rule', () => {
    const s = settleRun({ ...runSettings('ws', ['--clients', '50', '--duration', '2s', '--warmup', '1s']), share: { index: 1, of: 3, t0Us: 0, onHost: 1 } });
    expect(shareClients(50, s.share)).toBe(sliceCount(50, s.share!));
    const plan = runSchedule(s, 0);
    const ids = [0, 1].map((w) => {
      const { port1, port2 } = new MessageChannel();
      const task = workerTask(s, plan, w, 2, 'http://127.0.0.1:1', [], port2);
      port1.close();
      return task.clientIds;
    });
    expect(ids[0]).toEqual(sliceIds(50, nestSlice(s.share!, { index: 0, of: 2 })));
    expect(ids.flat().sort((a, b) => a - b)).toEqual(sliceIds(50, s.share!));
  });
});
