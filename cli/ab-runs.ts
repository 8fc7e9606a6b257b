/**
 * Runs in turns, for `pushbench ab`, bench:ab and bench:gate: a git revision checked out in a
 * temporary worktree (this checkout's node_modules linked in), one `pushbench run` child per run
 * from a given checkout, the sides of each step taken in a rotating order (A B, B A, …) so the
 * machine's drift falls on every side alike, and Ctrl-C that stops the run in progress, removes
 * the worktree and leaves nothing running.
 *
 * Each run is a fresh `node <tree>/bin/pushbench.js run` with the generator's V8 flags, as the
 * `pushbench` command runs it, so each side runs its own code.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { ResultRecord } from '../core/record.ts';
import { parseOptions } from '../core/options.ts';
import { GENERATOR_V8_FLAGS, repoPath } from '../core/tsx.ts';
import type { TransportName } from '../core/wire.ts';
import { CPU_ENV, RUN_OPTION_SPECS, loadSettings } from './run-options.ts';

/** `git` in this repository: ok, stdout, stderr (trimmed). */
export function git(args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd: repoPath('.'), encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

/** The commit `rev` names in this repository, or null when it names none. */
export function resolveCommit(rev: string): string | null {
  const r = git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  return r.ok ? r.out : null;
}

export interface Worktree {
  path: string;
  /** package-lock.json differs from this checkout's: the revision runs with other modules than its own */
  lockDiffers: boolean;
  /** Remove it (idempotent; `git worktree remove --force`). */
  remove(): void;
}

/** Check `commit` out, detached, in a new temporary worktree with this checkout's node_modules. */
export function addWorktree(commit: string): Worktree {
  const path = mkdtempSync(join(os.tmpdir(), 'pushbench-ab-'));
  rmSync(path, { recursive: true });
  const added = git(['worktree', 'add', '--detach', path, commit]);
  if (!added.ok) throw new Error(`git worktree add failed: ${added.err}`);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    git(['worktree', 'remove', '--force', path]);
    rmSync(path, { recursive: true, force: true });
    git(['worktree', 'prune']);
  };
  try {
    symlinkSync(repoPath('node_modules'), join(path, 'node_modules'));
  } catch (err) {
    remove();
    throw err;
  }
  return { path, lockDiffers: git(['diff', '--quiet', commit, '--', 'package-lock.json']).ok === false, remove };
}

let child: ChildProcess | undefined;

/**
 * Until the returned function is called: on SIGINT or SIGTERM the `pushbench run` in progress, if
 * any, stops as on Ctrl-C (its partial record written, its server stopped; SIGKILL after 15 s),
 * then `cleanup` runs and this process exits 130.
 */
export function stopRunOnSignal(script: string, cleanup: () => void = () => {}): () => void {
  const onSignal = () => {
    process.stderr.write(`${script}: interrupted; stopping the run in progress\n`);
    const finish = () => {
      cleanup();
      process.exit(130);
    };
    const c = child;
    if (c === undefined) return finish();
    c.once('exit', finish);
    c.kill('SIGINT');
    setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/**
 * One `pushbench run` of the checkout at `tree` (as the `pushbench` command runs it, with the
 * generator's V8 flags), its record written to `outDir` and returned; `env` is added to this
 * process's environment for the run.
 */
export function runOne(tree: string, argv: string[], outDir: string, env: Record<string, string> = {}): Promise<ResultRecord> {
  mkdirSync(outDir, { recursive: true });
  const before = new Set(existsSync(outDir) ? readdirSync(outDir) : []);
  const command = [process.execPath, ...GENERATOR_V8_FLAGS, join(tree, 'bin/pushbench.js'), 'run', ...argv, '--out', outDir, '--no-report'];
  return new Promise((resolve, reject) => {
    const c = spawn(command[0], command.slice(1), { cwd: tree, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    child = c;
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    c.once('exit', (code, sig) => {
      child = undefined;
      const file = existsSync(outDir) ? readdirSync(outDir).find((f) => f.endsWith('.json') && !before.has(f)) : undefined;
      if (file === undefined) reject(new Error(`pushbench run in ${tree} wrote no record (${sig ?? `exit ${code}`}): ${stderr.split('\n').filter(Boolean).slice(-3).join(' / ')}`));
      else resolve(JSON.parse(readFileSync(join(outDir, file), 'utf8')) as ResultRecord);
    });
  });
}

/** Stop the run in progress as Ctrl-C would (its partial record written); SIGKILL after 15 s. Resolves when it is gone. */
export function stopCurrentRun(): Promise<void> {
  const c = child;
  if (c === undefined || c.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGINT');
    setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
  });
}

/**
 * Hold `flock FILE` (the machine's shared load lock) until the returned function is called: a
 * `flock FILE sh` child that says when it has the lock and keeps it until its stdin closes, so the
 * lock goes with this process too, however it ends. Rejects when flock cannot run.
 */
export function holdLock(file: string): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const c = spawn('flock', [file, 'sh', '-c', 'echo held; cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    c.once('error', reject);
    c.once('exit', (code) => reject(new Error(`flock ${file} ended before holding the lock (exit ${code})`)));
    c.stdout!.once('data', () => {
      c.removeAllListeners('exit');
      resolve(() => new Promise((done) => {
        if (c.exitCode !== null) return done();
        c.once('exit', () => done());
        c.stdin!.end();
      }));
    });
  });
}

/** The order of `pairs` pairs of two sides taken in turns: base first in the odd pairs, head first in the even. */
export function abOrder(pairs: number): ('base' | 'head')[] {
  return Array.from({ length: pairs }, (_, i) => (i % 2 === 0 ? ['base', 'head'] as const : ['head', 'base'] as const)).flat();
}

/**
 * The order of `k` sides in step `step`: rotated by the step and reversed every other round of k
 * steps, so over 2k steps every side takes every place, and runs before and after each other side,
 * equally often. k = 2 is A B, B A, A B, …
 */
export function turnOrder(k: number, step: number): number[] {
  const rotated = Array.from({ length: k }, (_, i) => (i + step) % k);
  return Math.floor(step / k) % 2 === 0 ? rotated : rotated.reverse();
}

/** A script's own options, and the `pushbench run` options after `--` (none without one). */
export function splitRunArgv(argv: string[]): { own: string[]; runArgv: string[] } {
  const split = argv.indexOf('--');
  return { own: split < 0 ? argv : argv.slice(0, split), runArgv: split < 0 ? [] : argv.slice(split + 1) };
}

/**
 * The `pushbench run` options given after `--`, validated as `pushbench run` validates them (before
 * anything starts; problems appended to `problems`), with the pinning added unless given (their
 * environment defaults, else server CPU 0 and load CPU 1), so every run of both sides has the same.
 * `--out` and `--name` belong to the script (`script` names it).
 */
export function checkRunArgv(runArgv: string[], script: string, problems: string[]): { withPins: string[]; transport: TransportName | undefined } {
  if (runArgv.length === 0) problems.push('give the run after "--", e.g. -- --transport ws --clients 1000 --rate 80 --topics 1 --duration 17s --warmup 5s');
  const withPins = [...runArgv];
  if (!runArgv.some((a) => a.startsWith('--server-cpus'))) withPins.push('--server-cpus', process.env[CPU_ENV.serverCpus] || '0');
  if (!runArgv.some((a) => a.startsWith('--load-cpus'))) withPins.push('--load-cpus', process.env[CPU_ENV.loadCpus] || '1');
  for (const a of ['--out', '--name']) if (runArgv.some((x) => x === a || x.startsWith(`${a}=`))) problems.push(`${a} is set by ${script} for each run; leave it out of the run's options`);
  const runParsed = parseOptions(withPins, RUN_OPTION_SPECS);
  problems.push(...runParsed.problems.map((p) => `run options: ${p}`));
  const transport = runParsed.values.transport as TransportName | undefined;
  if (runArgv.length > 0 && transport === undefined) problems.push('run options: --transport is required');
  if (transport !== undefined && runParsed.problems.length === 0) {
    const runProblems: string[] = [];
    loadSettings(runParsed.values, transport, runProblems);
    problems.push(...runProblems.map((p) => `run options: ${p}`));
  }
  return { withPins, transport };
}
