/**
 * The gate on real runs through the CLI, at a small scale (ws, 100 clients at 20 msg/s arriving in
 * 0.1 s, their handshakes a few ms each, inside a 0.25 s warm-up; 1 s measured: 2,000 deliveries
 * in each run, enough for a p99 that two sets of three do not tell apart):
 * - six repeats of one configuration, split alternately into two sets of three (so machine drift
 *   falls on both sides alike; three a side is the least Welch's t is used with), are not called
 *   a regression (compare in process: its command line and exit code are the next case's);
 * - the reference server's --delay raised from 20 to 30 ms is a regression on p50, exit 1: the
 *   runs' own overhead o (p50 = delay + o) makes it (30 + o) / (20 + o), +40–45 % for o of 2–5 ms,
 *   and the injected change must stand well past what 3|3 runs can tell: on a busy CI VM a set's
 *   p50 spread ±12 % (o between 2 and 8 ms), so a change under ~+23 % was "unclear" there;
 * - `rank --assert` that cannot hold exits 1 with the numbers (`run --assert`: test/gate/assert.test.ts).
 *
 * Runs alone: A/A sets must not differ in p99 or CPU; another file's load would make them differ.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findAll, parseXml } from './xml.ts';
import { pushbench as cli, type CliResult } from '../cli.ts';
import { compareCommand } from '../../cli/compare-command.ts';
import { captureIo } from '../fixtures/io.ts';

const SCALE = ['--clients', '100', '--duration', '1250ms', '--warmup', '250ms', '--rate', '20', '--network', 'loopback', '--no-report'];

function pushbench(args: string[]) {
  return cli(args, 90_000);
}

/** `pushbench compare` in process, its output as the command would print it. */
async function compare(args: string[]) {
  const c = captureIo();
  const status = await compareCommand(args, c.io);
  const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('');
  return { status, stdout: text(c.out), stderr: text(c.err) };
}

const out = mkdtempSync(join(tmpdir(), 'pushbench-gate-'));
let slowRank: CliResult;

beforeAll(async () => {
  const same = await pushbench(['rank', '--transports', 'ws', '--repeats', '6', '--delay', '20', ...SCALE, '--out', out, '--name', 'same']);
  expect(same.stderr).not.toMatch(/unexpected error/);
  expect(same.status).toBe(0);
  // r1, r3, r5 → A; r2, r4, r6 → B
  for (const f of readdirSync(join(out, 'same')).filter((x) => /-r\d\.json$/.test(x))) {
    const side = Number(/-r(\d)\.json$/.exec(f)![1]) % 2 === 1 ? 'A' : 'B';
    mkdirSync(join(out, side), { recursive: true });
    copyFileSync(join(out, 'same', f), join(out, side, f));
  }
  slowRank = await pushbench(['rank', '--transports', 'ws', '--repeats', '3', '--delay', '30', ...SCALE, '--out', out, '--name', 'slow', '--assert', 'p50<22ms,lost=0']);
}, 180_000);

describe('the regression gate on real runs', () => {
  it('two sets of three repeats of the same configuration: no regression, exit 0', async () => {
    expect(readdirSync(join(out, 'A'))).toHaveLength(3);
    expect(readdirSync(join(out, 'B'))).toHaveLength(3);
    const r = await compare([join(out, 'A'), join(out, 'B')]);
    expect(r.stderr).toBe('');
    // A run the harness itself marked invalid (e.g. its generator starved on a busy machine) is
    // left out with a warning naming it; the rest must still not be called a regression.
    const m = /ws broadcast on loopback \((\d) baseline, (\d) current runs\):/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const left = (r.stdout.match(/warning: (baseline|current) run \S+ is left out/g) ?? []).length;
    expect(Number(m![1]) + Number(m![2]) + left).toBe(6);
    expect(Number(m![1])).toBeGreaterThanOrEqual(1);
    expect(Number(m![2])).toBeGreaterThanOrEqual(1);
    expect(r.stdout).toContain('result: no regression');
    expect(r.status).toBe(0);
  });

  it('the server\'s --delay 20 → 30 ms is caught as a p50 regression, exit 1, with the JUnit failure', async () => {
    const junit = join(out, 'gate.xml');
    const r = await pushbench(['compare', join(out, 'A'), join(out, 'slow'), '--junit', junit]);
    expect(r.stdout).toContain('warning: ws broadcast on loopback: the reference server\'s --delay: baseline 20 ms, current 30 ms');
    const m = /REGRESSION: p50 \+(\d+(?:\.\d+)?) % \[\+\d+(\.\d+)? %, \+\d+(\.\d+)? %\] is worse than the 10 % threshold: Welch t on log values, 3\|3 runs, one-sided p (< 0\.001|= 0\.0[0-2]\d) < 0\.025/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    // Past the 10 % threshold, or it would not be called. Every delivery is held its delay, so each
    // set's p50 is at least it; and the change is the ratio of the two p50s the table prints.
    expect(Number(m![1])).toBeGreaterThan(10);
    const row = /delivery latency p50 .*? runs\s+(\d+\.\d+)ms \[[^\]]*\] n=\d\s+(\d+\.\d+)ms \[[^\]]*\] n=\d\s+\+(\d+\.\d+) %/.exec(r.stdout);
    expect(row, r.stdout).not.toBeNull();
    const [base, cur, change] = row!.slice(1).map(Number);
    expect(base).toBeGreaterThanOrEqual(20);
    expect(cur).toBeGreaterThanOrEqual(30);
    // the printed p50s and change are rounded to 3 figures: ±0.5 % between them
    expect(Math.abs((1 + change / 100) / (cur / base) - 1)).toBeLessThan(0.005);
    expect(r.status).toBe(1);
    const failures = findAll(parseXml(readFileSync(junit, 'utf8')), 'failure');
    expect(failures.map((f) => f.attrs.message.split(' ')[0])).toContain('p50');
  });

  it('rank --assert that cannot hold (p50 < 22 ms with a 30 ms delay) exits 1 naming every run', async () => {
    expect(slowRank.stderr).toContain('assertions: 3 of 6 failed:');
    // each had at least the 30 ms the server holds every delivery
    for (const run of ['ws-loopback-20mps-100c-r1', 'ws-loopback-20mps-100c-r2', 'ws-loopback-20mps-100c-r3']) {
      const had = new RegExp(`FAILED p50<22ms: ${run} had (\\d+\\.\\d+)ms`).exec(slowRank.stderr);
      expect(had, slowRank.stderr).not.toBeNull();
      expect(Number(had![1])).toBeGreaterThanOrEqual(30);
    }
    expect(slowRank.status).toBe(1);
  });
});
