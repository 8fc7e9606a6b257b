#!/usr/bin/env -S node --single-threaded-gc --heap-growing-percent=100
// The `pushbench` command. A fresh clone needs no build: the command runs its cached bundle
// (core/entry-bundle.mjs: rebuilt when a source changed, each lazily loaded command a chunk of its
// own), else the TypeScript through tsx's loader. Worker threads and child processes run their own
// bundles or tsx (see core/tsx.ts). The V8 flags keep GC helper threads off the generator's CPUs
// and bound its mark-compact pauses (GENERATOR_V8_FLAGS in core/tsx.ts); `node bin/pushbench.js`
// without them still works, recorded as generatorGc 'default'.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { entryBundle } from '../core/entry-bundle.mjs';

/** The command from its TypeScript sources, through tsx's loader. */
async function fromSources() {
  const { register } = await import('tsx/esm/api');
  register();
  return import('../cli/cli.ts');
}

const bundle = await entryBundle(fileURLToPath(new URL('../cli/cli.ts', import.meta.url)), { split: true });
// a bundle that does not load (a chunk removed by hand) is no reason to fail: the sources run
const cli = (bundle && (await import(pathToFileURL(bundle).href).catch(() => null))) || (await fromSources());

process.exitCode = await cli.main(process.argv.slice(2));
