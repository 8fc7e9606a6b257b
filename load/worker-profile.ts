/**
 * Diagnostic: a CPU profile of one generator worker thread. `node --cpu-prof` does not reach
 * piscina's threads (the pool sets their execArgv and terminates them without the exit that
 * writes a profile), so with `PUSHBENCH_WORKER_CPU_PROF=<dir>` set each worker profiles itself
 * through the inspector and writes `<dir>/worker-<index>-<pid>.cpuprofile` when its slice ends.
 * `PUSHBENCH_WORKER_HEAP_PROF=<dir>` does the same with V8's sampling heap profiler, counting what
 * was allocated where — garbage included, which is what drives the GC pauses a run's stall rule
 * sees — into `<dir>/worker-<index>-<pid>.heapprofile` (open it in Chrome DevTools' Memory tab).
 * With `PUSHBENCH_WORKER_HEAP_PROF_OLD=1` too it leaves out what a scavenge collected: what remains
 * was promoted to the old generation (or is still live), the garbage that makes mark-compacts.
 * Unset (the normal case), this costs nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

/** Starts profiling when a variable is set; the returned function stops and writes the profile(s). */
export function startWorkerProfile(workerIndex: number): () => Promise<void> {
  const cpuDir = process.env.PUSHBENCH_WORKER_CPU_PROF;
  const heapDir = process.env.PUSHBENCH_WORKER_HEAP_PROF;
  if (!cpuDir && !heapDir) return async () => undefined;
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  const write = (dir: string, ext: string, profile: object) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `worker-${workerIndex}-${process.pid}.${ext}`), JSON.stringify(profile));
  };
  const started = Promise.all([
    cpuDir ? post('Profiler.enable').then(() => post('Profiler.setSamplingInterval', { interval: 200 })).then(() => post('Profiler.start')) : null,
    heapDir ? post('HeapProfiler.enable').then(() => post('HeapProfiler.startSampling', {
      samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.PUSHBENCH_WORKER_HEAP_PROF_OLD !== '1',
    })) : null,
  ]);
  return async () => {
    await started;
    if (cpuDir) write(cpuDir, 'cpuprofile', ((await post('Profiler.stop')) as { profile: object }).profile);
    if (heapDir) write(heapDir, 'heapprofile', ((await post('HeapProfiler.stopSampling')) as { profile: object }).profile);
    session.disconnect();
  };
}
