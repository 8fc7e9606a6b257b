/**
 * The run's seconds on the shared grid from t0 (load/seconds.ts): each holds the workers' ticks
 * of that second and what the sampler read of the machine in it.
 */
import type { WorkerTick } from '../worker-task.ts';

export interface SecondBucket {
  ticks: WorkerTick[];
  serverCpuPct: number | null;
  serverRssBytes: number | null;
  generatorCpuPct: number;
  /** the load CPUs: busy with anything, and taken by the hypervisor (% of one CPU, summed); null unknown */
  loadCpusBusyPct: number | null;
  loadCpusStealPct: number | null;
}

export function emptyBucket(): SecondBucket {
  return { ticks: [], serverCpuPct: null, serverRssBytes: null, generatorCpuPct: 0, loadCpusBusyPct: null, loadCpusStealPct: null };
}

/** The second of the run `tUs` falls in: the one whose grid point t0 + k s is nearest. */
export function secondOf(t0Us: number, tUs: number): number {
  return Math.round((tUs - t0Us) / 1e6);
}

/**
 * Second k of the run is the one whose grid point is nearest (t − t0 rounded to whole seconds).
 * `bySec` keeps the order seconds were first written in (what the validity rules read them in).
 */
export class SecondBuckets {
  readonly bySec = new Map<number, SecondBucket>();

  constructor(readonly t0Us: number) {}

  secOf(tUs: number): number {
    return secondOf(this.t0Us, tUs);
  }

  /** Second `sec`'s bucket, created empty the first time. */
  at(sec: number): SecondBucket {
    let b = this.bySec.get(sec);
    if (!b) this.bySec.set(sec, (b = emptyBucket()));
    return b;
  }

  /** File a worker's tick under its second. */
  file(tick: WorkerTick): void {
    this.at(this.secOf(tick.tUs)).ticks.push(tick);
  }
}
