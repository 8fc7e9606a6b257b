/**
 * The per-thread poll scheduler: every waiting client fires once, not before its due time and
 * soon after it, earliest first; a cancelled one never fires; and no timer is left once nothing
 * waits (a worker must be able to exit).
 */
import { describe, expect, it } from 'vitest';
import { nowUs } from '../../../core/wire.ts';
import { PollScheduler, type Waiting } from '../../../load/drivers/poll-scheduler.ts';

class Poll implements Waiting {
  dueUs = 0;
  heapIndex = -1;
  firedUs: number[] = [];
  constructor(private readonly order: number[], readonly id: number, private readonly onDue?: (p: Poll) => void) {}
  due(): void {
    this.firedUs.push(nowUs());
    this.order.push(this.id);
    this.onDue?.(this);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PollScheduler', () => {
  it('fires each waiting client once, at or after its due time and in due order; cancelled ones never', async () => {
    const s = new PollScheduler();
    const order: number[] = [];
    const t0 = nowUs();
    // 200 clients due over 0–100 ms in a shuffled order, every tenth cancelled
    const polls = Array.from({ length: 200 }, (_, i) => new Poll(order, i));
    const dues = polls.map((_, i) => t0 + 5000 + ((i * 7919) % 200) * 500);
    polls.forEach((p, i) => s.at(p, dues[i]));
    // moving one: it fires at its new time only
    s.at(polls[1], t0 + 2000);
    dues[1] = t0 + 2000;
    for (let i = 0; i < 200; i += 10) s.cancel(polls[i]);
    expect(s.size).toBe(180);
    while (s.size > 0) await sleep(10);
    for (const [i, p] of polls.entries()) {
      if (i % 10 === 0) {
        expect(p.firedUs).toEqual([]);
        continue;
      }
      expect(p.firedUs).toHaveLength(1);
      expect(p.firedUs[0]).toBeGreaterThanOrEqual(dues[i]);
      expect(p.heapIndex).toBe(-1);
    }
    // in due order (ties in any order)
    const firedDues = order.map((id) => dues[id]);
    expect(firedDues).toEqual([...firedDues].sort((a, b) => a - b));
    // soon after: the median client within a few ms of its due time on a shared machine
    const late = polls.filter((_, i) => i % 10 !== 0).map((p) => p.firedUs[0] - p.dueUs).sort((a, b) => a - b);
    expect(late[Math.floor(late.length / 2)]).toBeLessThan(20_000);
    expect(s.armed).toBe(false);
  });

  it('takes a client that waits again from inside its due(), on a fixed grid, and disarms when the last one is cancelled', async () => {
    const s = new PollScheduler();
    const order: number[] = [];
    const t0 = nowUs();
    const every = 5000;
    const grid = new Poll(order, 1, (p) => {
      if (p.firedUs.length < 10) s.at(p, t0 + every * (p.firedUs.length + 1));
    });
    s.at(grid, t0 + every);
    const idle = new Poll(order, 2);
    s.at(idle, t0 + 60_000_000);
    while (grid.firedUs.length < 10) await sleep(5);
    grid.firedUs.forEach((f, k) => expect(f).toBeGreaterThanOrEqual(t0 + every * (k + 1)));
    expect(s.size).toBe(1);
    expect(s.armed).toBe(true);
    s.cancel(idle);
    s.cancel(idle);
    expect(s.size).toBe(0);
    expect(s.armed).toBe(false);
    expect(idle.firedUs).toEqual([]);
  });
});
