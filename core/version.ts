/** pushbench's version, from its package.json (one source of truth for `--version` and records). */
import { readFileSync } from 'node:fs';

export const PUSHBENCH_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
