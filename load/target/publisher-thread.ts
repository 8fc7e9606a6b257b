/**
 * The profile publisher (publisher.ts) in a worker thread of its own: its schedule runs on a loop
 * nothing else uses, so its lateness measures CPU starvation, not the runner's own work. Threads
 * share the process's CLOCK_MONOTONIC, so its timestamps compare with the drivers'.
 */
import { Worker } from 'node:worker_threads';
import { TSX_EXEC_ARGV } from '../../core/tsx.ts';
import type { PublisherOptions, PublisherStats } from './publisher.ts';

export class PublisherThread {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private readonly result: Promise<PublisherStats>;
  private closing: Promise<PublisherStats> | undefined;

  /** Starts loading the thread at once (call early; {@link start} waits for it). */
  constructor() {
    // A worker's `--import` loader is not reliably in place when its entry loads (Node 20), so the
    // entry is a bootstrap that loads the TypeScript file through tsx's own API.
    const entry = JSON.stringify(new URL('./publisher-worker.ts', import.meta.url).href);
    const boot = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${entry}, ${entry}));`;
    this.worker = new Worker(boot, { eval: true, execArgv: [...TSX_EXEC_ARGV] });
    this.ready = new Promise((resolve) => this.worker.on('message', (m: { type: string }) => m.type === 'ready' && resolve()));
    this.result = new Promise((resolve) => {
      const lost = (why: string): void => resolve({ published: 0, failed: 1, errors: { [why]: 1 }, maxLateUs: 0, judged: 0, lateSends: 0, lateUs: { p50: 0, p99: 0 }, inFlight: 0 });
      this.worker.on('message', (m: { type: string; stats?: PublisherStats | null }) => {
        if (m.type === 'stats') resolve(m.stats ?? { published: 0, failed: 0, errors: {}, maxLateUs: 0, judged: 0, lateSends: 0, lateUs: { p50: 0, p99: 0 }, inFlight: 0 });
      });
      this.worker.once('error', (err) => lost(`PUBLISHER_THREAD_FAILED: ${err.message}`));
      this.worker.once('exit', () => lost('PUBLISHER_THREAD_EXITED'));
    });
  }

  /**
   * Resolves once the thread has loaded (or failed): await it before fixing the schedule, or a
   * slow start would send the first messages late and be judged for it.
   */
  async whenReady(): Promise<void> {
    await Promise.race([this.ready, this.result]);
  }

  /** Start the schedule (after {@link whenReady}). */
  async start(o: PublisherOptions): Promise<void> {
    await this.whenReady();
    this.worker.postMessage({ type: 'start', options: o });
  }

  /** Stop publishing and end the thread; resolves with what it did. Idempotent. */
  close(): Promise<PublisherStats> {
    this.closing ??= (async () => {
      this.worker.postMessage({ type: 'close' });
      const timer = setTimeout(() => void this.worker.terminate(), 10_000);
      const stats = await this.result;
      clearTimeout(timer);
      await this.worker.terminate();
      return stats;
    })();
    return this.closing;
  }
}
