/**
 * Runs the real `pushbench` command line (or a bench script) in a child process, asynchronously.
 *
 * Never spawnSync here: a synchronous child blocks the vitest worker's event loop for the whole
 * run, and vitest's own RPC to its main process times out after 60 s ("Timeout calling
 * onTaskUpdate"), which fails the suite even when every test passed.
 */
import { spawn } from 'node:child_process';
import { GENERATOR_V8_FLAGS } from '../core/tsx.ts';

export const BIN = new URL('../bin/pushbench.js', import.meta.url).pathname;

export interface CliResult {
  /** exit code, null when killed by a signal */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `pushbench ...args`; killed with SIGKILL after `timeoutMs`. Node runs with `nodeFlags`: by
 * default the generator's, as `npm start` and the bin's shebang run it (core/tsx.ts).
 */
export function pushbench(args: string[], timeoutMs = 60_000, nodeFlags: readonly string[] = GENERATOR_V8_FLAGS): Promise<CliResult> {
  return node([...nodeFlags, BIN, ...args], timeoutMs);
}

/** A bench script (`bench/X.ts`) as its `npm run bench:*` runs it: the generator's flags and tsx. */
export function benchScript(script: string, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return node([...GENERATOR_V8_FLAGS, '--import', 'tsx', script, ...args], timeoutMs);
}

/** `node ...argv` in the repository's working directory; killed with SIGKILL after `timeoutMs`. */
function node(argv: string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}
