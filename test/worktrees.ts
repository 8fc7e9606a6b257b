/**
 * The worktrees an A/B (pushbench ab, bench:ab) makes in the calling test file, apart from any
 * other file's: A/B tools make theirs under os.tmpdir(), and this points TMPDIR (read by
 * os.tmpdir() in this process and inherited by the children it spawns) at a folder of the file's
 * own until the file ends. So two A/B files can run side by side and each still checks that its
 * own worktree came and went.
 */
import { afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Call once at the top of a test file; returns the repository's worktree paths under the file's own TMPDIR ('' when none). */
export function ownWorktrees(): () => string {
  const dir = mkdtempSync(join(tmpdir(), 'pushbench-ab-test-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  afterAll(() => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(dir, { recursive: true, force: true });
  });
  return () => spawnSync('git', ['worktree', 'list', '--porcelain'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(`worktree ${dir}`)).sort().join('\n');
}
