/**
 * Two lanes for the test files (vitest.config.ts). Most files check counts and validity at small
 * loads and spend their time waiting out run windows: they run two at a time. A file whose claims
 * another file's load would move — a latency, CPU or memory bound, a timer's phase, a busy process
 * on purpose, thousands of clients — runs alone, after the paired files are done. Such a file says
 * so in its header comment, with its reason, on a line of its own:
 *
 *   * Runs alone: <why another file's load would move what it checks>
 *
 * A new file is paired unless it says this; say it whenever a bound depends on time or CPU.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const ALONE_MARK = /^\s*\*\s*Runs alone: (.*)$/m;

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
