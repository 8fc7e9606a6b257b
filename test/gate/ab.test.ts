/**
 * `pushbench ab`: every bad option listed at once before anything runs (exit 2, no worktree made);
 * a real small A/B of this checkout against its own HEAD (both sides in turns, compared pair by
 * pair, the outputs compare writes, the worktree gone); Ctrl-C mid-run (exit 130, the partial
 * record written, nothing left running, the worktree gone). Runs start processes: run this file
 * under the shared lock (flock /tmp/pushbench-load.lock).
 *
 * ab makes its worktree under os.tmpdir(), which this file points at a folder of its own
 * (test/worktrees.ts), so another A/B file's worktrees never show in its checks.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { abCommand } from '../../cli/ab-command.ts';
import { turnOrder } from '../../cli/ab-runs.ts';
import { GENERATOR_V8_FLAGS } from '../../core/tsx.ts';
import { BIN } from '../cli.ts';
import { findAll, parseXml } from './xml.ts';
import { ownWorktrees } from '../worktrees.ts';
import { captureIo } from '../fixtures/io.ts';

const worktrees = ownWorktrees();
// 1 s measured at 20 clients: 200 deliveries a run, enough for every figure compare prints.
const SMALL = ['--transports', 'ws', '--clients', '20', '--rate', '10', '--duration', '1500ms', '--warmup', '500ms'];

/** How many sockets process `pid` holds open (Linux /proc); 0 once it is gone. */
function socketsOf(pid: number): number {
  const fds = `/proc/${pid}/fd`;
  try {
    return readdirSync(fds).filter((fd) => {
      try { return readlinkSync(join(fds, fd)).startsWith('socket:'); } catch { return false; }
    }).length;
  } catch {
    return 0;
  }
}

describe('pushbench ab', () => {
  it('turns: over 2k steps every side takes every place equally often', () => {
    expect([0, 1, 2, 3].map((i) => turnOrder(2, i))).toEqual([[0, 1], [1, 0], [1, 0], [0, 1]]);
    const first = Array.from({ length: 6 }, (_, i) => turnOrder(3, i)[0]);
    expect(first.sort()).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('lists every bad option at once, exits 2 and makes no worktree', async () => {
    expect(worktrees()).toBe('');
    const c = captureIo();
    mkdirSync('.tmp', { recursive: true });
    const code = await abCommand(['--base', 'no-such-rev-xyz', '--repeats', '1', '--transports', 'carrier-pigeon', '--clients', '-3',
      '--max-regression', 'p98=10%', '--assert', 'p99<soon', '--junit', '/proc/no/such/dir/x.xml'], c.io);
    expect(code).toBe(2);
    const text = c.err.join('\n');
    for (const bit of ['no-such-rev-xyz', '--repeats', 'carrier-pigeon', '--clients', 'p98', 'soon', '--junit']) expect(text).toContain(bit);
    expect(worktrees()).toBe('');
  });

  it('measures HEAD and this checkout in turns, compares pair by pair, writes compare\'s outputs, removes its worktree', async () => {
    expect(worktrees()).toBe('');
    mkdirSync('.tmp', { recursive: true });
    const dir = mkdtempSync(join('.tmp', 'ab-cmd-'));
    const c = captureIo();
    try {
      // Latency and CPU reported, not gated: with 2 pairs the paired t has 1 degree of freedom, and
      // when nothing changed it still calls a regression with probability up to α = 2.5 % per
      // metric (it did: two A/A pairs agreed on +81 % p99). The gate's false-alarm rate is
      // calibrated at 5 pairs by bench:gate; here the exact metrics stay gated.
      const code = await abCommand(['--base', 'HEAD', '--repeats', '2', ...SMALL, '--out', dir, '--name', 'x',
        '--max-regression', 'p50=off,p99=off,cpu=off',
        '--markdown', join(dir, 'ab.md'), '--junit', join(dir, 'ab.xml'), '--assert', 'lost=0'], c.io);
      const text = c.out.join('\n');
      // identical code: bytes, requests and connections per message equal, nothing lost
      expect(code, `${text}\n${c.err.join('\n')}`).toBe(0);
      for (const side of ['base', 'head']) expect(readdirSync(join(dir, 'x', side)).filter((f) => f.endsWith('.json')).sort()).toEqual(['ws-loopback-p1.json', 'ws-loopback-p2.json']);
      expect(text).toContain('ws broadcast on loopback (2 baseline, 2 current runs)');
      expect(text).toMatch(/delivery latency p50 +paired t on log ratios, 2 pairs/);
      expect(text).toMatch(/assertions: all 2 passed/);
      const md = readFileSync(join(dir, 'ab.md'), 'utf8');
      expect(md).toMatch(/\| ws broadcast on loopback \| server CPU per message \| paired t on log ratios, 2 pairs \|/);
      const cases = findAll(parseXml(readFileSync(join(dir, 'ab.xml'), 'utf8')), 'testcase');
      const props = Object.fromEntries(findAll(cases.find((x) => x.attrs.name.startsWith('cpu:'))!, 'property').map((p) => [p.attrs.name, p.attrs.value]));
      expect(props).toMatchObject({ test: 'paired t on log ratios, 2 pairs', 'n.baseline': '2', 'n.current': '2' });
      expect(props.verdict).toBe('not gated');
      const lost = Object.fromEntries(findAll(cases.find((x) => x.attrs.name.startsWith('lost:'))!, 'property').map((p) => [p.attrs.name, p.attrs.value]));
      expect(lost).toMatchObject({ verdict: 'ok', test: 'exact (no spread on either side), 2 pairs' });
      expect(worktrees()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('Ctrl-C: stops the run in progress (its partial record written), removes the worktree, leaves nothing running, exit 130', async () => {
    expect(worktrees()).toBe('');
    mkdirSync('.tmp', { recursive: true });
    const dir = mkdtempSync(join('.tmp', 'ab-int-'));
    const ab = spawn(process.execPath, [...GENERATOR_V8_FLAGS, BIN, 'ab', '--base', 'HEAD', '--repeats', '2', ...SMALL.map((a) => (a === '1500ms' ? '60s' : a)), '--out', dir, '--name', 'x'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    ab.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => ab.once('exit', (code) => resolve(code)));
    try {
      const base = join(dir, 'x', 'base');
      // The base's first run is timed from its clients: ab keeps a run's progress lines to itself,
      // but the run's process holds a socket for each of its 20 clients once they arrived (t0)
      // beside its few own (the server's IPC, /stats), so 20 sockets mean the run has started.
      const deadline = Date.now() + 20_000;
      let runPid: number | undefined;
      while (Date.now() < deadline && !(runPid !== undefined && socketsOf(runPid) >= 20)) {
        runPid = Number(spawnSync('pgrep', ['-f', resolve(base)], { encoding: 'utf8' }).stdout.trim().split('\n')[0]) || undefined;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(runPid === undefined ? 0 : socketsOf(runPid), `the run's sockets; ab's stderr: ${stderr}`).toBeGreaterThanOrEqual(20);
      expect(existsSync(base)).toBe(true);
      expect(worktrees()).not.toBe('');
      // past its 0.5 s warm-up, into its 60 s measured window
      await new Promise((r) => setTimeout(r, 1000));
      ab.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 25_000))]);
      expect(code, stderr).toBe(130);
      const file = readdirSync(base).find((f) => f.endsWith('.json'));
      expect(file, 'the partial record').toBeDefined();
      expect(JSON.parse(readFileSync(join(base, file!), 'utf8')).complete).toBe(false);
      expect(worktrees()).toBe('');
      // no process of this test left: its runs' argv hold the out dir
      expect(spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' }).stdout.trim()).toBe('');
    } finally {
      ab.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
