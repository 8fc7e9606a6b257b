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
 * V8 flags every load-generating process runs with (docs/running.md, "The generator's GC flags").
 * `--single-threaded-gc` keeps V8's GC helper threads off the workers' pinned CPUs;
 * `--heap-growing-percent=100` starts a mark-compact when the old generation has doubled, which
 * bounds how many dead ArrayBuffers one pause must sweep. Process-wide: they must be on the node
 * command line (a worker's execArgv may not carry them).
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
