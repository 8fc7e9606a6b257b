/**
 * How pushbench runs its own TypeScript in other threads and processes: worker threads and child
 * processes get `--import <tsx loader>` with the loader's absolute URL, so they work from any
 * working directory (pushbench installed elsewhere, run through npx or the bin link).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** file:// URL of tsx's ESM loader (the package's "." export). */
export const TSX_LOADER_URL = pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist/loader.mjs')).href;

/** execArgv for a thread or process that must load .ts files. */
export const TSX_EXEC_ARGV: readonly string[] = ['--import', TSX_LOADER_URL];

/**
 * V8 flags every load-generating process runs with.
 *
 * `--single-threaded-gc`: garbage collection on the thread whose heap it is, no helper threads. A
 * generator's CPUs belong to its worker threads; V8's concurrent-marking and parallel-scavenge
 * helpers competed with them for the same (pinned) core and stalled a worker's event loop for
 * 240–340 ms during a mark-compact. Single `pushbench run`s by hand, 10,000 long-poll clients on
 * one core, 2026-11-23: default GC invalid in 2 runs of 3, single-threaded valid in 4 of 5 (the
 * fifth at 111 ms against the 100 ms bar); ws and SSE at 120–130k deliveries/s unchanged.
 *
 * `--heap-growing-percent=100`: start the next mark-compact when the old generation has doubled,
 * not at V8's own factor (which reached ×3.3 here). With one GC thread, a mark-compact frees the
 * backing stores of every dead ArrayBuffer inside its final pause (finish.sweep_array_buffers in
 * --trace-gc-nvp). undici promotes each response's socket read (~1.8 KB of heap and one
 * ArrayBuffer per request when a client waits ~1 s between requests; bare undici does the same),
 * so 10,000 short-poll clients at Δ = 1 s piled up ~180,000 dead ArrayBuffers between
 * mark-compacts 18 s apart: pauses of 97–103 ms, 72–77 ms of them in that sweep. Doubling: every
 * ~6 s, pauses of 22–50 ms (single `pushbench run`s by hand, short poll and long poll, 10,000
 * clients, --trace-gc-nvp, 2026-11-23); generator CPU in those single runs 47 → 53 % (short poll)
 * and 44 → 43 % (long poll); bench:generator's held part then gave short poll 51–52 % (50 % before).
 *
 * Process-wide: they must be on the node command line (a worker's execArgv may not carry them;
 * setting them at run time crashed V8).
 */
export const GENERATOR_V8_FLAGS: readonly string[] = ['--single-threaded-gc', '--heap-growing-percent=100'];

/** Whether this process runs with {@link GENERATOR_V8_FLAGS} (recorded in each result's environment). */
export function generatorGcMode(): 'single-threaded' | 'default' {
  return GENERATOR_V8_FLAGS.every((f) => process.execArgv.includes(f)) ? 'single-threaded' : 'default';
}

/** Absolute path of a file in this repository, from a path relative to its root. */
export function repoPath(relative: string): string {
  return join(dirname(dirname(fileURLToPath(import.meta.url))), relative);
}
