/**
 * Nothing is left behind after a run that FAILED (issue 8): the server child crashing mid-run, an
 * unreachable --target, bad options, SIGTERM/SIGINT of `run` and of `rank` mid-way. After each:
 * no process of the command's process group alive, every port it listened on (server, proxy)
 * bindable again, no worker thread left in an in-process runOnce, and a partial result marked
 * `complete: false` where a run had started.
 *
 * Heavy: commands started and stopped mid-run, each with its server, workers and proxy starting at once.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOnce } from '../../load/runner.ts';
import { PushbenchError } from '../../core/errors.ts';
import type { ResultRecord } from '../../core/record.ts';
import { runSettings } from '../load/settings.ts';
import { alive, canBind, eventually, leftAfter, threadCount, watchedPushbench } from './leftovers.ts';

const outDir = () => mkdtempSync(join(tmpdir(), 'pushbench-cleanup-'));
const NOTHING = { processes: [], boundPorts: [] };

/**
 * Wait until the run `w` is inside its measured window: its first progress line comes once its
 * clock has started (at t0 or after), and 1 s past that is past a 0.5 s warm-up however long the
 * setup before it took on a loaded machine.
 */
async function inWindow(w: ReturnType<typeof watchedPushbench>): Promise<void> {
  await w.waitFor(/^\[\s*\d+s\/\d+s\]/m);
  await new Promise((r) => setTimeout(r, 1000));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** The direct children of this process (the vitest worker), zombies included. */
function ownChildren(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}

/** Each child not in `before`, by its command line: test files share this process, so an
 *  earlier file's child is not this run's to answer for. */
function newChildren(before: Set<number>): string[] {
  return ownChildren().filter((pid) => !before.has(pid)).map((pid) => {
    const cmd = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() : '';
    return `${pid} ${cmd}`;
  });
}

/** Warm libuv's thread pool (started on first use, then kept), so thread counts compare fairly. */
async function threadBaseline(): Promise<number> {
  await Promise.all(Array.from({ length: 8 }, () => stat('/')));
  return threadCount();
}

describe('nothing left after a failed command', () => {
  it('bad options: exit 2, nothing started, nothing written', async () => {
    const out = outDir();
    const w = watchedPushbench(['run', '--transport', 'carrier-pigeon', '--clients', '-3', '--out', out]);
    const { code } = await w.exited;
    expect(code).toBe(2);
    expect(w.seen.ports.size).toBe(0);
    expect(await leftAfter(w)).toEqual(NOTHING);
    expect(readdirSync(out)).toEqual([]);
  });

  it('unreachable --target: exit 2 quickly, nothing left', async () => {
    const port = await freePort();
    const out = outDir();
    const w = watchedPushbench(['run', '--transport', 'ws', '--target', `http://127.0.0.1:${port}`, '--clients', '10', '--duration', '5s', '--out', out]);
    const { code } = await w.exited;
    expect(code).toBe(2);
    expect(w.stderr()).toMatch(/cannot reach the target/);
    expect(await leftAfter(w)).toEqual(NOTHING);
  });

  it('the server child crashing mid-run ends the run early: partial result, exit 1, no process or port left (server and proxy)', async () => {
    const out = outDir();
    const w = watchedPushbench(['run', '--transport', 'ws', '--clients', '30', '--duration', '30s', '--warmup', '500ms', '--rate', '10', '--network', 'lan', '--out', out, '--name', 'crashed', '--no-report']);
    const [, pid] = await w.waitFor(/server: pid (\d+)/);
    await w.waitFor(/proxy: pid \d+/);
    await inWindow(w);
    expect(w.seen.ports.size).toBeGreaterThanOrEqual(2); // the server's and the proxy's
    expect(w.seen.pids.size).toBeGreaterThanOrEqual(3); // pushbench, the server, the proxy
    process.kill(Number(pid), 'SIGKILL');
    const { code } = await w.exited;
    expect(code).toBe(1);
    expect(w.stderr()).toMatch(new RegExp(`run ended early \\(the reference server \\(pid ${pid}\\) exited during the run \\(SIGKILL\\)`));
    const record = JSON.parse(readFileSync(join(out, 'crashed.json'), 'utf8')) as ResultRecord;
    expect(record.complete).toBe(false);
    expect(record.valid).toBe(false);
    expect(record.invalidReasons[0]).toMatch(/reference server .* exited during the run/);
    expect(await leftAfter(w)).toEqual(NOTHING);
  }, 45_000);

  it('SIGTERM of `pushbench run` (with the proxy): exit 130, partial result, no process or port left', async () => {
    const out = outDir();
    const w = watchedPushbench(['run', '--transport', 'sse', '--clients', '30', '--duration', '30s', '--warmup', '500ms', '--rate', '10', '--network', 'lan', '--out', out, '--name', 'termed', '--no-report']);
    await w.waitFor(/proxy: pid \d+/);
    await inWindow(w);
    w.signal('SIGTERM');
    const { code } = await w.exited;
    expect(code).toBe(130);
    const record = JSON.parse(readFileSync(join(out, 'termed.json'), 'utf8')) as ResultRecord;
    expect(record.complete).toBe(false);
    expect(record.summary.delivered).toBeGreaterThan(0);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(w.seen.ports.size).toBeGreaterThanOrEqual(2);
    expect(await leftAfter(w)).toEqual(NOTHING);
  }, 45_000);

  it('SIGKILL of `pushbench run` (no cleanup of its own possible): its server and proxy stop by themselves, ports freed', async () => {
    const out = outDir();
    const w = watchedPushbench(['run', '--transport', 'ws', '--clients', '20', '--duration', '30s', '--warmup', '500ms', '--rate', '10', '--network', 'lan', '--out', out, '--name', 'killed', '--no-report']);
    await w.waitFor(/proxy: pid \d+/);
    // under way: its first progress line comes once its clock has started (nothing here reads the
    // record, so the measured window need not have begun)
    await w.waitFor(/^\[\s*\d+s\/\d+s\]/m);
    const children = [...w.seen.pids].filter((p) => p !== w.pgid && alive(p));
    expect(children.length).toBeGreaterThanOrEqual(2); // the server and the proxy, at least
    w.signal('SIGKILL');
    const { signal } = await w.exited;
    expect(signal).toBe('SIGKILL');
    // orphaned, each notices its parent is gone (checked every 0.5 s) and stops as on SIGTERM
    expect(await eventually(() => children.every((p) => !alive(p)), 8000)).toBe(true);
    expect(w.seen.ports.size).toBeGreaterThanOrEqual(2);
    expect(await leftAfter(w)).toEqual(NOTHING);
  }, 45_000);

  it('Ctrl-C of `pushbench rank` mid-way: exit 130, the last run marked incomplete, no process or port left', async () => {
    const out = outDir();
    const w = watchedPushbench(['rank', '--transports', 'ws,sse', '--repeats', '1', '--network', 'lan', '--clients', '20', '--duration', '20s', '--warmup', '500ms', '--rates', '10', '--out', out, '--name', 'cut-short', '--no-report']);
    // the first run is under way once its server and proxy listen
    expect(await eventually(() => w.seen.ports.size >= 2, 25_000)).toBe(true);
    await inWindow(w);
    w.signal('SIGINT');
    const { code } = await w.exited;
    expect(code).toBe(130);
    const dir = join(out, 'cut-short');
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
    expect(files.length).toBeGreaterThanOrEqual(1);
    const records = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ResultRecord);
    expect(records.some((r) => r.complete === false)).toBe(true);
    // --no-report: the result files (and ranking.json), no report
    expect(readdirSync(dir).filter((f) => /\.(html|md|svg|csv|hlog)$/.test(f))).toEqual([]);
    expect(w.stdout()).toContain('--no-report: no report');
    expect(await leftAfter(w)).toEqual(NOTHING);
  }, 45_000);
});

describe('nothing left in-process after a failed runOnce', () => {
  it('an unreachable target rejects with PB_TARGET_UNREACHABLE and leaves no worker thread', async () => {
    const baseline = await threadBaseline();
    const s = runSettings('sse', ['--target', `http://127.0.0.1:${await freePort()}`, '--clients', '10', '--duration', '5s', '--workers', '2']);
    const err = await runOnce(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushbenchError);
    expect((err as PushbenchError).code).toBe('PB_TARGET_UNREACHABLE');
    expect(await eventually(() => threadCount() <= baseline, 5000)).toBe(true);
  });

  it('a server crash mid-run gives a partial record and leaves no thread, child or port', async () => {
    const baseline = await threadBaseline();
    const childrenBefore = new Set(ownChildren());
    const s = runSettings('ws', ['--clients', '20', '--duration', '30s', '--warmup', '500ms', '--rate', '10', '--workers', '2']);
    let serverPid = 0;
    let serverPort = 0;
    let threadsDuring = 0;
    const t0 = Date.now();
    const record = await runOnce(s, {
      log: (line) => {
        const m = /server: pid (\d+) at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (!m) return;
        serverPid = Number(m[1]);
        serverPort = Number(m[2]);
        threadsDuring = threadCount();
      },
      // 1.5 s after the workers have their tasks: past the 0.15 s lead and the 0.5 s warm-up
      onStarted: () => void setTimeout(() => process.kill(serverPid, 'SIGKILL'), 1500),
    });
    // ended soon after the crash, not at the end of its 30 s
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(record.complete).toBe(false);
    expect(record.invalidReasons[0]).toMatch(new RegExp(`reference server \\(pid ${serverPid}\\) exited during the run \\(SIGKILL\\)`));
    expect(record.summary.delivered).toBeGreaterThan(0);
    expect(threadsDuring).toBeGreaterThanOrEqual(baseline + 2); // the two worker threads, counted
    expect(await eventually(() => threadCount() <= baseline, 5000)).toBe(true);
    expect(alive(serverPid)).toBe(false);
    // a killed child is reaped within a few event-loop turns; 5 s as for the threads above
    await eventually(() => newChildren(childrenBefore).length === 0, 5000);
    expect(newChildren(childrenBefore)).toEqual([]);
    expect(await canBind(serverPort)).toBe(true);
  }, 45_000);
});
