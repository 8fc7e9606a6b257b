#!/usr/bin/env -S node --single-threaded-gc --heap-growing-percent=100
// The `pushbench` command. TypeScript runs through tsx's loader, so a fresh clone needs no build;
// worker threads and child processes get the same loader through execArgv (see core/tsx.ts).
// The V8 flags keep GC helper threads off the generator's CPUs and bound its mark-compact pauses
// (GENERATOR_V8_FLAGS in core/tsx.ts); `node bin/pushbench.js` without them still works, recorded
// as generatorGc 'default'.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/cli.ts');
process.exitCode = await main(process.argv.slice(2));
