/**
 * A worker's measured windows: the run's only one, or a live staircase's steps. The bytes on the
 * slice's sockets are read at each window's edges; a staircase posts each step's figures (a
 * {@link WorkerStep}) when its window and the drain after it have closed, and records the next
 * step's window meanwhile. Nothing is closed once the run is stopped.
 *
 * Threading: runs on the worker thread's event loop.
 */
import { nowUs } from '../core/wire.ts';
import type { Counters } from '../core/record.ts';
import type { Client } from './drivers/types.ts';
import type { Recorder } from './recorder.ts';
import type { WorkerStep, WorkerTask } from './worker-task.ts';

type Bytes = { read: number; written: number };

export class SliceWindows {
  /** the window being recorded (a staircase moves on at each step's closeUs) */
  open = 0;
  private readonly windows: readonly { fromUs: number; toUs: number }[];
  private readonly bytesAtFrom: Bytes[];
  private readonly bytesAtTo: Bytes[];
  private readonly startedAtFrom: number[];

  /** Arm the edge readings and a staircase's step closings on `timers` (cleared by the caller). */
  constructor(
    private readonly task: WorkerTask,
    private readonly recorder: Recorder,
    private readonly clients: readonly Client[],
    private readonly signal: { stopped: boolean },
    private readonly timers: Set<NodeJS.Timeout>,
  ) {
    this.windows = task.steps ?? [{ fromUs: task.fromUs, toUs: task.toUs }];
    this.bytesAtFrom = this.windows.map(() => ({ read: 0, written: 0 }));
    this.bytesAtTo = this.windows.map(() => ({ read: 0, written: 0 }));
    this.startedAtFrom = this.windows.map(() => 0);
    this.windows.forEach((w, i) => {
      this.later(w.fromUs, () => {
        this.bytesAtFrom[i] = this.sumBytes();
        this.startedAtFrom[i] = clients.length;
      });
      this.later(w.toUs, () => (this.bytesAtTo[i] = this.sumBytes()));
    });
    for (const [i, step] of (task.steps ?? []).entries()) this.later(step.closeUs, () => this.closeDueSteps(i));
  }

  get count(): number {
    return this.windows.length;
  }

  /** When the open window's books close: its step's close, or the run's (the drain after the window over). */
  closeUs(): number {
    return this.task.steps?.[this.open]?.closeUs ?? this.task.closeAtUs;
  }

  /**
   * Post the staircase steps whose windows have closed. `through`: the step whose timer fired (a
   * timer may fire a little before its time on this clock).
   */
  closeDueSteps(through = -1): void {
    const steps = this.task.steps;
    while (steps && this.open < steps.length && !this.signal.stopped && (this.open <= through || nowUs() >= steps[this.open].closeUs)) {
      const next = steps[this.open + 1] ?? { fromUs: Infinity, toUs: Infinity };
      const { histograms, counters, backlogAgeMs } = this.recorder.nextWindow(this.task.silenceUs, next, Math.min(nowUs(), steps[this.open].closeUs));
      this.bytesOf(counters, this.open);
      const step: WorkerStep = {
        type: 'step', workerIndex: this.task.workerIndex, index: this.open, clients: this.clients.length, startedByFromUs: this.startedAtFrom[this.open], histograms, counters,
        ...(backlogAgeMs !== undefined ? { backlogAgeMs } : {}),
        ...(this.task.tls ? { tls: this.recorder.tls.tally() } : {}),
      };
      this.task.port.postMessage(step);
      this.open++;
    }
  }

  /** A stopped run's open window ends now: its bytes up to here. */
  cutShort(): void {
    if (this.signal.stopped && this.open < this.windows.length && nowUs() < this.windows[this.open].toUs) this.bytesAtTo[this.open] = this.sumBytes();
  }

  /** The window still open (a staircase stopped mid-step, or the run's only one) gets its bytes. */
  finishOpen(counters: Counters): void {
    if (this.open < this.windows.length) this.bytesOf(counters, this.open);
  }

  private bytesOf(c: Counters, i: number): void {
    c.bytesRead = Math.max(0, this.bytesAtTo[i].read - this.bytesAtFrom[i].read);
    c.bytesWritten = Math.max(0, this.bytesAtTo[i].written - this.bytesAtFrom[i].written);
  }

  private sumBytes(): Bytes {
    let read = 0;
    let written = 0;
    for (const c of this.clients) {
      const b = c.bytes();
      read += b.read;
      written += b.written;
    }
    return { read, written };
  }

  private later(atUs: number, fn: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, Math.max(0, (atUs - nowUs()) / 1000));
    this.timers.add(t);
  }
}
