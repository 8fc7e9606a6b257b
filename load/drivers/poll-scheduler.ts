/**
 * One timer per thread for every client that waits for a planned time (the short polls' grid):
 * a binary min-heap of the waiting clients by due time, and one Node timer for the earliest.
 *
 * Why not a `setTimeout` per poll: at 10,000 short-poll clients with Δ = 1 s, that is 10,000
 * Timeout objects a second (plus a timer list per distinct millisecond) that each live about Δ —
 * long enough to survive two scavenges, so each was promoted to the old generation as garbage for
 * the next mark-compact to find. Here a poll's wait allocates nothing: the heap holds the clients
 * themselves (each at most once, its index kept on it), and the one timer object lives no longer
 * than the gap to the earliest due.
 *
 * Timing: a client fires on the first timer tick at or after its due time, never before (Node's
 * timers tick in whole milliseconds; a lateness is charged to its request from the planned time),
 * earliest first. Threading: one scheduler per
 * thread ({@link pollScheduler}); clients on a thread share it.
 */
import { nowUs } from '../../core/wire.ts';

/** Something the scheduler can hold: where it sits in the heap (-1: not waiting) and what to run. */
export interface Waiting {
  /** the time it is due at, µs on the {@link nowUs} clock; set by {@link PollScheduler.at} */
  dueUs: number;
  /** its index in the heap, -1 while not waiting; owned by the scheduler */
  heapIndex: number;
  /** called once when due (after it left the heap: it may wait again from inside) */
  due(): void;
}

export class PollScheduler {
  private readonly heap: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** when the armed timer fires (µs), Infinity when none is armed */
  private timerAtUs = Infinity;

  /** How many are waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** Whether its timer is set (it is exactly while something waits: an idle thread can exit). */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** `w` waits until `dueUs` (moved there if it was already waiting). */
  at(w: Waiting, dueUs: number): void {
    if (w.heapIndex >= 0) this.cancel(w);
    w.dueUs = dueUs;
    w.heapIndex = this.heap.length;
    this.heap.push(w);
    this.up(w.heapIndex);
    if (dueUs < this.timerAtUs) this.arm();
  }

  /** `w` no longer waits (nothing happens if it was not waiting). */
  cancel(w: Waiting): void {
    const i = w.heapIndex;
    if (i < 0) return;
    const heap = this.heap;
    const last = heap.pop()!;
    w.heapIndex = -1;
    if (last !== w) {
      heap[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
    if (heap.length === 0) this.disarm();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.timerAtUs = Infinity;
    const heap = this.heap;
    const now = nowUs();
    // Everything due by now, earliest first. A client that waits again from its due() joins with a
    // later due time, so this loop ends.
    while (heap.length > 0 && heap[0].dueUs <= now) {
      const w = heap[0];
      this.cancel(w);
      w.due();
    }
    if (heap.length > 0 && this.timer === undefined) this.arm();
  };

  /** (Re)arms the one timer for the earliest due time. */
  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    const dueUs = this.heap[0].dueUs;
    this.timerAtUs = dueUs;
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil((dueUs - nowUs()) / 1000)));
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtUs = Infinity;
  }

  private up(i: number): void {
    const heap = this.heap;
    const w = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (parent.dueUs <= w.dueUs) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = w;
    w.heapIndex = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const w = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r].dueUs < heap[l].dueUs ? r : l;
      const child = heap[c];
      if (child.dueUs >= w.dueUs) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = w;
    w.heapIndex = i;
  }
}

/** This thread's scheduler (a module is loaded once per thread). */
export const pollScheduler = new PollScheduler();
