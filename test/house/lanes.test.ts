/**
 * The three lanes (test/lanes.ts, vitest.config.ts): a file runs alone or heavy only with a reason,
 * a mark that is nearly right is an error (it would silently make the file light), a file has at
 * most one mark, and every lane has files.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALONE_MARK, HEAVY_MARK, aloneReason, heavyReason, testFiles } from '../lanes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('test lanes', () => {
  const files = testFiles(ROOT);

  it('every file that runs alone says why in a sentence; no file has a mark the lane rule misses', () => {
    const problems: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      const reason = aloneReason(join(ROOT, f));
      if (reason !== null && reason.split(/\s+/).length < 4) problems.push(`${f}: "Runs alone:" needs a reason, got "${reason}"`);
      if (reason === null && /^\s*\*\s*runs?\s+alone/im.test(text)) problems.push(`${f}: a "runs alone" line that does not match ${ALONE_MARK}`);
      const heavy = heavyReason(join(ROOT, f));
      if (heavy !== null && heavy.split(/\s+/).length < 4) problems.push(`${f}: "Heavy:" needs a reason, got "${heavy}"`);
      if (heavy === null && /^\s*\*\s*heavy\b/im.test(text)) problems.push(`${f}: a "heavy" line that does not match ${HEAVY_MARK}`);
      if (heavy !== null && reason !== null) problems.push(`${f}: both "Runs alone:" and "Heavy:"; a file that runs alone has the CPUs to itself`);
    }
    expect(problems).toEqual([]);
  });

  it('every lane holds files', () => {
    const alone = files.filter((f) => aloneReason(join(ROOT, f)) !== null);
    const heavy = files.filter((f) => heavyReason(join(ROOT, f)) !== null);
    expect(alone.length).toBeGreaterThan(0);
    expect(heavy.length).toBeGreaterThan(0);
    expect(alone.length + heavy.length).toBeLessThan(files.length);
    expect(files).toContain('test/house/lanes.test.ts');
  });
});
