#!/usr/bin/env -S node --single-threaded-gc
// The `pushbench` command. TypeScript runs through tsx's loader, so a fresh clone needs no build;
// worker threads and child processes get the same loader through execArgv (see load/tsx.ts).
// `--single-threaded-gc` keeps V8's GC helper threads off the generator's CPUs (GENERATOR_V8_FLAGS
// in load/tsx.ts); `node bin/pushbench.js` without it still works, recorded as generatorGc 'default'.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../load/cli.ts');
process.exitCode = await main(process.argv.slice(2));
