/**
 * Diagnostic: a CPU profile of one generator worker thread. `node --cpu-prof` does not reach
 * piscina's threads (the pool sets their execArgv and terminates them without the exit that
 * writes a profile), so with `PUSHBENCH_WORKER_CPU_PROF=<dir>` set each worker profiles itself
 * through the inspector and writes `<dir>/worker-<index>-<pid>.cpuprofile` when its slice ends.
 * Unset (the normal case), this costs nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

/** Starts profiling when the variable is set; the returned function stops and writes the profile. */
export function startWorkerProfile(workerIndex: number): () => Promise<void> {
  const dir = process.env.PUSHBENCH_WORKER_CPU_PROF;
  if (!dir) return async () => undefined;
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  const started = post('Profiler.enable').then(() => post('Profiler.setSamplingInterval', { interval: 200 })).then(() => post('Profiler.start'));
  return async () => {
    await started;
    const { profile } = (await post('Profiler.stop')) as { profile: object };
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `worker-${workerIndex}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  };
}
