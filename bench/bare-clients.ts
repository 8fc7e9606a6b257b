/**
 * Runs the bare client (bench/bare-worker.ts) in one worker thread of this process, so it shares
 * whatever CPU pinning this process has (the benchmark pins itself to the load CPU first).
 * Resolves with the thread's counts; the thread is terminated afterwards, whatever happened.
 */
import { Worker } from 'node:worker_threads';
import { TSX_EXEC_ARGV } from '../core/tsx.ts';
import type { BareResult, BareTask } from './bare-worker.ts';

export type { BareResult, BareTask, BareTransport } from './bare-worker.ts';

/** Run `task` in a fresh worker thread; rejects if the thread fails or takes over `timeoutMs`. */
export async function runBareClients(task: BareTask, timeoutMs = 20_000 + task.warmupMs + task.measureMs + 30_000): Promise<BareResult> {
  // A worker's `--import` loader is not reliably in place when its entry loads (Node 20), so the
  // entry is a one-line bootstrap that loads the TypeScript file through tsx's own API.
  const entry = JSON.stringify(new URL('./bare-worker.ts', import.meta.url).href);
  const boot = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${entry}, ${entry}));`;
  const worker = new Worker(boot, { eval: true, workerData: task, execArgv: [...TSX_EXEC_ARGV] });
  try {
    return await new Promise<BareResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bare ${task.transport} client gave no result within ${timeoutMs / 1000} s`)), timeoutMs);
      worker.once('message', (r: BareResult) => {
        clearTimeout(timer);
        resolve(r);
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`bare ${task.transport} client thread exited (code ${code}) before its result`));
      });
    });
  } finally {
    await worker.terminate();
  }
}
