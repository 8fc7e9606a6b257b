/**
 * core/entry-bundle.mjs: an entry's bundle runs on bare node, keeps each imported module's source
 * URL and the entry's own (its main check), and is rebuilt when a source changes; split, a lazily
 * imported module is a chunk of its own with its packages, and an older build stays runnable.
 *
 * Heavy: esbuild bundles the sources several times, split and whole.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { entryBundle } from '../../core/entry-bundle.mjs';

mkdirSync('.tmp', { recursive: true });
const dir = resolve(mkdtempSync(join('.tmp', 'entry-bundle-test-')));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  // this test's bundles in the cache (named after the entry's path)
  for (const f of readdirSync(join('.tmp', 'bundles'))) if (f.includes(basename(dir))) rmSync(join('.tmp', 'bundles', f), { recursive: true, force: true });
});

const entry = join(dir, 'main.ts');
const dep = join(dir, 'dep.ts');
writeFileSync(entry, [
  "import { depUrl, word } from './dep.ts';",
  'const n: number = 2;',
  'console.log(JSON.stringify({ word, depUrl, self: import.meta.url, main: import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1]).href, n }));',
].join('\n'));
const writeDep = (word: string) => writeFileSync(dep, `export const word: string = '${word}';\nexport const depUrl = import.meta.url;\n`);

function run(file: string): { word: string; depUrl: string; self: string; main: boolean; n: number } {
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

describe('entryBundle', () => {
  it('runs on bare node; an imported module keeps its source URL, the entry its own (the bundle)', async () => {
    writeDep('first');
    const bundle = await entryBundle(entry);
    expect(bundle).not.toBeNull();
    const out = run(bundle!);
    expect(out).toEqual({ word: 'first', depUrl: pathToFileURL(dep).href, self: pathToFileURL(bundle!).href, main: true, n: 2 });
  });

  it('is rebuilt when a source changes, and reused while none does', async () => {
    writeDep('first');
    const a = await entryBundle(entry);
    expect(run(a!).word).toBe('first');
    writeDep('second');
    // a new mtime even within the file system's timestamp grain
    utimesSync(dep, new Date(), new Date(Date.now() + 2000));
    const b = await entryBundle(entry);
    expect(b).toBe(a);
    expect(run(b!).word).toBe('second');
  });

  it('split: a dynamic import is a chunk of its own, its package imports with it; a rebuild leaves the older build runnable', async () => {
    const lazy = join(dir, 'lazy.ts');
    const writeLazy = (word: string) => writeFileSync(lazy, `import { parse } from 'yaml';\nexport const word: string = parse('w: ${word}').w;\n`);
    const main = join(dir, 'split.ts');
    writeFileSync(main, "const m = await import('./lazy.ts');\nconsole.log(JSON.stringify({ word: m.word }));\n");
    writeLazy('one');
    const a = await entryBundle(main, { split: true });
    expect(a).not.toBeNull();
    // the entry does not load yaml; the chunk it imports when it runs does
    expect(readFileSync(a!, 'utf8')).not.toContain('yaml');
    const chunks = readdirSync(dirname(a!)).filter((f) => f !== basename(a!));
    expect(chunks.some((f) => readFileSync(join(dirname(a!), f), 'utf8').includes('from "yaml"'))).toBe(true);
    expect(run(a!).word).toBe('one');
    writeLazy('two');
    utimesSync(lazy, new Date(), new Date(Date.now() + 2000));
    const b = await entryBundle(main, { split: true });
    expect(b).not.toBe(a);
    expect(run(b!).word).toBe('two');
    // a process started on the first build still finds its chunks (files are named by content)
    expect(run(a!).word).toBe('one');
  });

  it('is not made with PUSHBENCH_NO_BUNDLE set (the caller runs the source through tsx)', async () => {
    process.env.PUSHBENCH_NO_BUNDLE = '1';
    try {
      expect(await entryBundle(entry)).toBeNull();
    } finally {
      delete process.env.PUSHBENCH_NO_BUNDLE;
    }
  });
});
