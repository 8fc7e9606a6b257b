/**
 * A worker thread's tick: once a second, on the shared clock's boundaries from t0 (the runner
 * samples /proc on the same grid, just after: load/seconds.ts), the thread posts what its second
 * was — deliveries and their latency, clients started and open, event-loop utilization and delay,
 * CPU, GC pauses — as a {@link WorkerTick}.
 *
 * Threading: runs on the worker thread's event loop.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { nowUs } from '../core/wire.ts';
import type { Client } from './drivers/types.ts';
import { gcMeter, type GcMeter } from './gc-meter.ts';
import type { Recorder } from './recorder.ts';
import { everySecond, type SecondTimer } from './seconds.ts';
import type { WorkerTask, WorkerTick } from './worker-task.ts';

const CLK_TCK_US = 10_000; // USER_HZ is 100 on Linux

/** This thread's CPU time (µs) from /proc/thread-self (Node 20 has no per-thread cpuUsage). */
export function threadCpuUs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLK_TCK_US;
  } catch {
    return 0;
  }
}

export class ThreadTicks {
  /** each second's event-loop utilization (0..1), for the worker's result */
  readonly eluSamples: number[] = [];
  private readonly cpuStartUs = threadCpuUs();
  private lastCpuUs = this.cpuStartUs;
  private lastTickUs = nowUs();
  private eluPrev: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly gc: GcMeter;
  private readonly timer: SecondTimer;

  /** Start measuring now and ticking on the grid of `task.t0Us`; `clients` are the slice's so far. */
  constructor(private readonly task: WorkerTask, private readonly recorder: Recorder, private readonly clients: readonly Client[]) {
    this.loopDelay.enable();
    this.gc = gcMeter();
    this.timer = everySecond(task.t0Us, 0, () => this.tick());
  }

  /** No more ticks. */
  stop(): void {
    this.timer.stop();
  }

  /** Stop the loop-delay and GC monitors (after {@link stop}). */
  close(): void {
    this.loopDelay.disable();
    this.gc.stop();
  }

  /** This thread's CPU since the start, µs. */
  cpuUs(): number {
    return threadCpuUs() - this.cpuStartUs;
  }

  private tick(): void {
    const elu = performance.eventLoopUtilization(this.eluPrev);
    this.eluPrev = performance.eventLoopUtilization();
    this.eluSamples.push(elu.utilization);
    const cpu = threadCpuUs();
    const { encoded, deliveries, p50Us, p99Us, buckets } = this.recorder.takeInterval();
    const { gcMs, gcMaxMs } = this.gc.take();
    let open = 0;
    for (const c of this.clients) if (c.open) open++;
    const tUs = nowUs();
    const tick: WorkerTick = {
      type: 'tick',
      workerIndex: this.task.workerIndex,
      tUs,
      interval: encoded,
      deliveries,
      p50Us,
      p99Us,
      wallUs: tUs - this.lastTickUs,
      started: this.clients.length,
      open,
      elu: elu.utilization,
      loopDelayP99Ms: this.loopDelay.percentile(99) / 1e6,
      cpuUs: cpu - this.lastCpuUs,
      gcMs,
      gcMaxMs,
      totals: this.recorder.runTotals(),
      latencyBuckets: buckets,
    };
    this.lastCpuUs = cpu;
    this.lastTickUs = tUs;
    this.loopDelay.reset();
    this.task.port.postMessage(tick);
  }
}
