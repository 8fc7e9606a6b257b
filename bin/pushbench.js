#!/usr/bin/env node
// The `pushbench` command. TypeScript runs through tsx's loader, so a fresh clone needs no build;
// worker threads and child processes get the same loader through execArgv (see load/tsx.ts).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../load/cli.ts');
process.exitCode = await main(process.argv.slice(2));
