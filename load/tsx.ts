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

/** Absolute path of a file in this repository, from a path relative to its root. */
export function repoPath(relative: string): string {
  return join(dirname(dirname(fileURLToPath(import.meta.url))), relative);
}
