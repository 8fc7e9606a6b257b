/**
 * A live staircase's protocol on the runner's side (settings.steps): each worker posts a step's
 * figures when the step's window closes; once every worker has, the step's record is made and
 * handed to RunHooks.onStep, in step order, while the run goes on. onStep returning false ends the
 * growth there; otherwise the workers are told to go on to the next step. The step an
 * interruption cut short gets a partial record (complete: false) after the run.
 */
import { nowUs } from '../../core/wire.ts';
import type { ResultRecord } from '../../core/record.ts';
import type { WorkerResult, WorkerStep } from '../worker-task.ts';
import type { WindowPart } from './assemble.ts';
import type { RunSampler } from './sampler.ts';
import type { MeasureWindow } from './schedule.ts';
import type { RunHooks } from './settings.ts';
import type { RunStop, ToWorker } from './workers.ts';

export interface StaircaseParts {
  windows: readonly MeasureWindow[];
  workers: number;
  stop: RunStop;
  sampler: RunSampler;
  tell(message: ToWorker): void;
  /** step `index`'s finished record from its parts */
  record(index: number, parts: readonly WindowPart[], cut: boolean, endedUs: number): ResultRecord;
  hooks: Pick<RunHooks, 'onStep'>;
}

export class Staircase {
  /** each step's figures as the workers posted them */
  private readonly posted: WorkerStep[][];
  private readonly records: ResultRecord[] = [];
  /** steps are judged one after the other, in step order */
  private judging = Promise.resolve();

  constructor(private readonly p: StaircaseParts) {
    this.posted = p.windows.map(() => []);
  }

  /** A worker closed a step: once every worker has, the step is judged. */
  onWorkerStep(m: WorkerStep): void {
    this.posted[m.index].push(m);
    if (this.posted[m.index].length < this.p.workers) return;
    this.judging = this.judging.then(() => this.judge(m.index));
  }

  /**
   * After the workers' results: wait (up to 2 s) for the steps they posted, which travel on the
   * ports while results travel on piscina's channel, and for their judging.
   */
  async settle(results: readonly WorkerResult[]): Promise<void> {
    const posted = results.reduce((n, r) => n + (r.stepsPosted ?? 0), 0);
    const until = nowUs() + 2e6;
    while (this.posted.reduce((n, p) => n + p.length, 0) < posted && nowUs() < until) await new Promise((r) => setTimeout(r, 10));
    await this.judging;
  }

  /** The staircase's last record, after a partial one for the step an interruption cut short. */
  async finish(results: readonly WorkerResult[], endedUs: number): Promise<ResultRecord> {
    const { windows, stop, sampler } = this.p;
    const cutIndex = this.records.length;
    if (cutIndex < windows.length && !stop.growthStopped) {
      await Promise.all(sampler.meters[cutIndex].fetches);
      if (endedUs < windows[cutIndex].toUs) await sampler.readCut(cutIndex);
      const parts = results.map((r) => ({ clients: r.clients, counters: r.counters, histograms: r.histograms, backlogAgeMs: r.backlogAgeMs, tls: r.tls }));
      const record = this.p.record(cutIndex, parts, stop.aborted, endedUs);
      this.records.push(record);
      this.p.hooks.onStep?.(record, cutIndex);
    }
    return this.records[this.records.length - 1];
  }

  private async judge(index: number): Promise<void> {
    const { stop, windows } = this.p;
    if (stop.aborted || stop.growthStopped) return;
    await Promise.all(this.p.sampler.meters[index].fetches);
    const parts = [...this.posted[index]].sort((a, b) => a.workerIndex - b.workerIndex);
    const record = this.p.record(index, parts, false, nowUs());
    this.records.push(record);
    const more = this.p.hooks.onStep?.(record, index) !== false;
    if (index >= windows.length - 1 || stop.aborted) return;
    if (more) this.p.tell({ type: 'go', index: index + 1 });
    else stop.endGrowth();
  }
}
