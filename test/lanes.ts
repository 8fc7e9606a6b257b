/**
 * Three lanes for the test files (vitest.config.ts, scripts/test.mjs). Most files check counts and
 * validity at small loads and spend their time waiting out run windows: the light ones run two at
 * a time, and beside them one heavy file at a time — a file whose runs or computations keep a CPU
 * busy, so that two of them beside a run would starve its generator. A file whose claims another file's load would
 * move — a latency, CPU or memory bound, a timer's phase, a busy process on purpose, thousands of
 * clients — runs alone, after the others are done. Such files say so in their header comment, with
 * the reason, on a line of their own:
 *
 *   * Runs alone: <why another file's load would move what it checks>
 *   * Heavy: <what keeps a CPU busy>
 *
 * A new file is light unless it says otherwise; say it whenever a bound depends on time or CPU, or
 * its runs keep a CPU busy for seconds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const ALONE_MARK = /^\s*\*\s*Runs alone: (.*)$/m;
export const HEAVY_MARK = /^\s*\*\s*Heavy: (.*)$/m;

/** Every test file under `root`/test, relative to `root`, sorted. */
export function testFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.test.ts')) out.push(relative(root, join(dir, e.name)));
    }
  };
  walk(join(root, 'test'));
  return out.sort();
}

/** The reason a file gives for running alone, or null when it may run beside another. */
export function aloneReason(path: string): string | null {
  const m = ALONE_MARK.exec(readFileSync(path, 'utf8'));
  return m ? m[1].trim() : null;
}

/** What a file says keeps a CPU busy, or null for a light file. */
export function heavyReason(path: string): string | null {
  const m = HEAVY_MARK.exec(readFileSync(path, 'utf8'));
  return m ? m[1].trim() : null;
}
