/**
 * Child processes pushbench starts (the reference server, the latency proxy): a TypeScript entry
 * run through tsx, optionally pinned with taskset, considered ready when its first stdout line
 * announces its URL. Every child is killed when this process exits, however it exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { childEnv } from './parent-watch.ts';
import { createInterface } from 'node:readline';
import { PushbenchError } from './errors.ts';
import { TSX_EXEC_ARGV } from './tsx.ts';
import { entryBundle } from './entry-bundle.mjs';

export interface Spawned {
  pid: number;
  url: string;
  child: ChildProcess;
  /** Lines the child wrote to stderr (last 50), for error messages. */
  stderrTail(): string;
  /** Lines the child wrote to stdout after its ready line (last 50). */
  stdoutTail(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`. Async, idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

let tasksetAvailable: boolean | undefined;
export function hasTaskset(): boolean {
  tasksetAvailable ??= spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  return tasksetAvailable;
}

/** Pin every thread of this process to `cpus` (taskset list syntax, e.g. `1` or `0-1`). */
export function pinSelf(cpus: string): boolean {
  if (!hasTaskset()) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/**
 * Start `node --import tsx <script> …args`, pinned to `cpus` when given, and wait until it prints
 * a line matching `ready` (whose first capture group is the URL). Throws PB_SERVER_START with the
 * child's stderr when it exits or stays silent for `timeoutMs`. With `bundle`, node runs the
 * script's cached bundle instead (core/entry-bundle.mjs), when there can be one. `onSpawn` gets the
 * child's pid synchronously once it is spawned, long before the script is loaded and could fork.
 */
export async function spawnTs(
  script: string,
  args: string[],
  opts: { cpus?: string | null; ready: RegExp; timeoutMs?: number; what: string; env?: NodeJS.ProcessEnv; ipc?: boolean; nodeFlags?: readonly string[]; bundle?: boolean; onSpawn?: (pid: number) => void },
): Promise<Spawned> {
  installExitHook();
  const bundled = opts.bundle ? await entryBundle(script) : null;
  const nodeArgs = [...(opts.nodeFlags ?? []), ...(bundled ? [bundled] : [...TSX_EXEC_ARGV, script]), ...args];
  const pinned = opts.cpus && hasTaskset();
  const cmd = pinned ? 'taskset' : process.execPath;
  const argv = pinned ? ['-c', opts.cpus!, process.execPath, ...nodeArgs] : nodeArgs;
  const child = spawn(cmd, argv, { stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'], env: childEnv(opts.env ?? process.env) });
  live.add(child);
  if (opts.onSpawn && child.pid !== undefined) {
    try {
      opts.onSpawn(child.pid);
    } catch (err) {
      child.kill('SIGKILL');
      throw new PushbenchError('PB_SERVER_START', `${opts.what}: ${(err as Error).message}`);
    }
  }
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => {
    stderr.push(l);
    if (stderr.length > 50) stderr.shift();
  });
  const lines = createInterface({ input: child.stdout! });
  const stdout: string[] = [];
  lines.on('line', (l) => {
    stdout.push(l);
    if (stdout.length > 50) stdout.shift();
  });
  const exited = once(child, 'exit').then(() => live.delete(child));
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 3000): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(500);
      reject(new PushbenchError('PB_SERVER_START', `${opts.what} printed nothing within ${opts.timeoutMs ?? 15000} ms\n${stderr.join('\n')}`));
    }, opts.timeoutMs ?? 15_000);
    lines.on('line', (line) => {
      const m = opts.ready.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new PushbenchError('PB_SERVER_START', `${opts.what} exited (${signal ?? `code ${code}`}) before it was ready:\n${stderr.join('\n')}`));
    });
  });
  return { pid: child.pid!, url, child, stderrTail: () => stderr.join('\n'), stdoutTail: () => stdout.slice(1), stop };
}
