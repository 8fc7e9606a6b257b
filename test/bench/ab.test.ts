/**
 * bench:ab — the A/B script behind the README's interleaved figures: its order, its arithmetic on a
 * record, its validation, and one real pair of runs (this checkout against its own HEAD).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { abOrder, main, median, pairedRatios, runFigures } from '../../bench/ab.ts';
import { buildRecord } from '../fixtures/records.ts';
import { freePort } from '../fixtures/ports.ts';
import { ownWorktrees } from '../worktrees.ts';

const worktrees = ownWorktrees();

describe('bench:ab', () => {
  it('takes the sides in turns, each first in half the pairs', () => {
    expect(abOrder(1)).toEqual(['base', 'head']);
    expect(abOrder(3)).toEqual(['base', 'head', 'head', 'base', 'base', 'head']);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('pairs runs that ran back to back and did the same work, head over base', () => {
    const run = (side: 'base' | 'head', us: number, deliveriesPerS = 1000, valid = true, cpuFull = false) => ({
      side, valid, invalidReasons: [], deliveriesPerS, requestsPerS: 0, generatorCpuPct: 1, otherThreadsCpuPct: null, cpuFull,
      cpuPerDeliveryUs: us, cpuPerRequestUs: null, p50Us: 0, p99Us: 0, loopDelayP99MaxMs: null, gcMsPerS: null, gcMaxMs: null,
    });
    // a machine that slows by half between the pairs: the sides' medians would mix the speeds;
    // a saturated run that kept up counts, one that fell behind (less work) does not, nor a pair
    // with a side whose CPU was full
    const runs = [
      run('base', 10), run('head', 9), run('head', 18), run('base', 20, 1015, false), run('base', 20, 900), run('head', 1),
      run('base', 12), run('head', 12, 1000, false, true),
    ];
    expect(pairedRatios(runs, 'cpuPerDeliveryUs')).toEqual([0.9, 0.9]);
    expect(pairedRatios(runs, 'cpuPerRequestUs')).toEqual([]);
  });

  it('reads CPU per delivery from the measured window of a record', () => {
    const r = buildRecord({ transport: 'ws', clients: 1000, durationS: 20, warmupS: 5 });
    const f = runFigures('head', r);
    const w = r.timeline.filter((p) => p.tS > 5 && p.tS <= 20);
    const cpu = w.reduce((a, p) => a + p.generatorCpuPct, 0) / w.length;
    const perS = r.counters.delivered / 15;
    expect(f.generatorCpuPct).toBeCloseTo(cpu, 9);
    expect(f.cpuPerDeliveryUs).toBeCloseTo((cpu / 100) * 1e6 / perS, 9);
    const workersPct = (100 * r.generator.workers.reduce((a, x) => a + x.cpuUs, 0)) / 1e6 / w.length;
    expect(f.otherThreadsCpuPct).toBeCloseTo(cpu - workersPct, 9);
    // an older record's worker CPU covered the whole run: no figure rather than a wrong one
    const older = { ...r, generator: { ...r.generator, loopDelayP99MaxMs: undefined } };
    expect(runFigures('base', older).otherThreadsCpuPct).toBeNull();
    // the workers' GC over the window's seconds, and the longest pause; none in a record without the meter
    const gcMs = r.generator.workers.reduce((a, x) => a + x.gcMs!, 0);
    expect(gcMs).toBeGreaterThan(0);
    expect(f.gcMsPerS).toBeCloseTo(gcMs / w.length, 9);
    expect(f.gcMaxMs).toBe(r.generator.gcMaxMs);
    const noMeter = { ...r, generator: { ...r.generator, gcMaxMs: undefined } };
    expect(runFigures('base', noMeter).gcMsPerS).toBeNull();
    expect(f.valid).toBe(r.valid);
    // full: at FULL_CPU_PCT of each load CPU the record names
    const cpus = r.environment.loadCpus ? r.environment.loadCpus.split(',').length : os.cpus().length;
    expect(f.cpuFull).toBe(cpu >= 95 * cpus);
    const fullTimeline = r.timeline.map((p) => ({ ...p, generatorCpuPct: 99 * cpus }));
    expect(runFigures('head', { ...r, timeline: fullTimeline }).cpuFull).toBe(true);
  });

  it('lists every problem at once, exits 2 and leaves no worktree behind', async () => {
    expect(worktrees()).toBe('');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await main(['--base', 'no-such-rev-xyz', '--pairs', '0', '--', '--transport', 'carrier-pigeon', '--clients', '-3', '--out', 'x']);
      expect(code).toBe(2);
      const text = err.mock.calls.map((c) => String(c[0])).join('');
      expect(text).toMatch(/no-such-rev-xyz/);
      expect(text).toMatch(/--pairs/);
      expect(text).toMatch(/carrier-pigeon/);
      expect(text).toMatch(/--out is set by bench:ab/);
    } finally {
      err.mockRestore();
    }
    expect(worktrees()).toBe('');
  });

  it('runs both sides in turns and removes its worktree', async () => {
    expect(worktrees()).toBe('');
    // relative, as the default is (the base side runs in its worktree; the records must land here)
    mkdirSync('.tmp', { recursive: true });
    const outDir = mkdtempSync(join('.tmp', 'ab-test-'));
    const lines: string[] = [];
    const so = vi.spyOn(process.stdout, 'write').mockImplementation((c) => (lines.push(String(c)), true));
    const se = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await main(['--base', 'HEAD', '--pairs', '1', '--out', outDir, '--', '--transport', 'ws', '--clients', '20', '--rate', '10', '--duration', '1500ms', '--warmup', '500ms']);
    } finally {
      so.mockRestore();
      se.mockRestore();
    }
    expect(code).toBe(0);
    const [runDir] = readdirSync(outDir);
    const sides = readdirSync(join(outDir, runDir)).sort();
    expect(sides).toEqual(['01-base', '02-head']);
    for (const side of sides) {
      const file = readdirSync(join(outDir, runDir, side)).find((f) => f.endsWith('.json'))!;
      const r = JSON.parse(readFileSync(join(outDir, runDir, side, file), 'utf8'));
      expect(r.summary.delivered).toBeGreaterThan(0);
      // the process's CPU holds its worker's (both sampled at 10 ms ticks over the same seconds)
      expect(runFigures('head', r).otherThreadsCpuPct!).toBeGreaterThan(-5);
    }
    const text = lines.join('');
    expect(text).toMatch(/\| 1 \| base \|/);
    expect(text).toMatch(/\| 2 \| head \|/);
    expect(text).toMatch(/head ÷ base = \*\*\d+\.\d{3}\*\*/);
    expect(worktrees()).toBe('');
    rmSync(outDir, { recursive: true, force: true });
  }, 60_000);

  it('Ctrl-C: the run in progress writes its partial record, nothing is left running, the worktree goes, exit 130', async () => {
    expect(worktrees()).toBe('');
    mkdirSync('.tmp', { recursive: true });
    const outDir = mkdtempSync(join('.tmp', 'ab-int-test-'));
    // the base side's run serves its live metrics: its phase shows once its clock has started
    const port = await freePort();
    const bench = spawn(process.execPath, ['--import', 'tsx', 'bench/ab.ts', '--base', 'HEAD', '--pairs', '1', '--out', outDir, '--',
      '--transport', 'ws', '--clients', '20', '--rate', '10', '--duration', '60s', '--warmup', '1s', '--metrics-port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    bench.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => bench.once('exit', (code) => resolve(code)));
    try {
      // the base side's run is under way once its metrics show it in a phase of its 60 s (its first
      // progress tick, at its t0 or after), whatever its command, server and lead took
      const deadline = Date.now() + 30_000;
      const inPhase = async () => {
        try {
          return /^pushbench_run_phase\{[^}]*\} 1$/m.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
        } catch {
          return false;
        }
      };
      while (!(await inPhase()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const runDir = () => readdirSync(outDir).map((d) => join(outDir, d, '01-base')).find((d) => existsSync(d));
      expect(runDir(), stderr).toBeDefined();
      expect(await inPhase(), stderr).toBe(true);
      expect(worktrees()).not.toBe('');
      bench.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 25_000))]);
      expect(code, stderr).toBe(130);
      expect(stderr).toMatch(/bench:ab: interrupted; stopping the run in progress/);
      const file = readdirSync(runDir()!).find((f) => f.endsWith('.json'));
      expect(file, 'the partial record').toBeDefined();
      expect(JSON.parse(readFileSync(join(runDir()!, file!), 'utf8')).complete).toBe(false);
      expect(worktrees()).toBe('');
      // no pushbench run of this test left (its argv holds the out dir; its server it stops itself, test/reliability)
      expect(spawnSync('pgrep', ['-f', outDir], { encoding: 'utf8' }).stdout.trim()).toBe('');
    } finally {
      bench.kill('SIGKILL');
      rmSync(outDir, { recursive: true, force: true });
    }
  }, 60_000);
});
