/**
 * `npm run bench:generator -- --parts held,absorb` end to end at the smallest scale (the README's
 * headline figures come from these parts): 20 clients of a push and a poll transport held for 1 s
 * (every transport's validity at small scale is load/run-transports.test.ts's), and one
 * step of each absorb search (20 subscribers at 50 msg/s, the search capped there) for pushbench
 * and the bare client, on real reference servers. Every printed figure must be the one its
 * record (or the bare client's step) measured.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchScript, type CliResult } from '../cli.ts';
import type { ResultRecord } from '../../core/record.ts';

const HELD = ['ws', 'short-poll'] as const;
const num = (s: string) => Number(s.replace(/,/g, ''));
const record = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8')) as ResultRecord;

mkdirSync('.tmp', { recursive: true });
const out = mkdtempSync(join('.tmp', 'bench-generator-test-'));
let r: CliResult;

beforeAll(async () => {
  // Every window is the 1 s minimum, and a pushbench run's warm-up its ramp (10 ms) and settle
  // rounded up to a whole second: 1 s. The bare client measures from its 20 clients' arrival
  // (--ladder-settle 0): they are all open before its window starts.
  r = await benchScript('bench/generator.ts', ['--parts', 'held,absorb', '--held-transports', 'ws,short-poll', '--held-clients', '20', '--held-topics', '2', '--held-window', '1s', '--held-settle', '500ms',
    '--ladder-clients', '20', '--ladder-start', '50', '--ladder-max', '50', '--ladder-refine', '0', '--ladder-repeat', '1', '--ladder-window', '1s', '--ladder-settle', '0ms',
    '--out', out], 50_000);
}, 50_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bench:generator --parts held', () => {
  it('holds 20 clients of each transport asked for 1 s; each row and the verdict are its record\'s', () => {
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('### 1. 20 clients of each transport held for 1 s');
    const records = HELD.map((transport) => {
      const rec = record(`held-${transport}-20.json`);
      expect(rec.config.clients).toBe(20);
      expect(rec.config.durationMs - rec.config.warmupMs).toBe(1000);
      // 2 topics at 1 msg/s: one message of each topic has its ts in the 1 s window, so each of
      // the 20 clients is expected exactly one (a short poll every second still picks it up in
      // the drain after the window)
      expect(rec.summary.expected).toBe(20);
      const row = new RegExp(`^\\| ${transport} \\| (yes|NO) \\| (\\d+) \\| ([\\d,]+) \\| (\\d+) \\| (\\d+) \\|`, 'm').exec(r.stdout);
      expect(row, r.stdout).not.toBeNull();
      expect(row![1]).toBe(rec.valid ? 'yes' : 'NO');
      expect(Number(row![2])).toBe(rec.server!.openConnectionsMax);
      expect(num(row![3])).toBe(rec.summary.delivered);
      expect(Number(row![4])).toBe(rec.summary.lost);
      for (const reason of rec.invalidReasons) expect(r.stdout).toContain(`INVALID ${rec.name}: ${reason}`);
      return rec;
    });
    const met = records.every((x) => x.valid && x.summary.lost === 0 && x.summary.delivered > 0);
    // not every transport held: the acceptance is not judged, and the line says so
    expect(r.stdout).toContain(`Held-clients acceptance: not judged, only ws, short-poll held (every transport is the acceptance); valid and 0 lost for these: **${met ? 'yes' : 'NO'}**`);
    expect(r.stdout).not.toMatch(/held-(sse|long-poll|http-stream)/);
  });
});

describe('bench:generator --parts absorb', () => {
  it.each(['ws', 'sse'])('%s: one step each for pushbench and the bare client at 1,000 deliveries/s, the headline ratio from the two', (transport) => {
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const rec = record(`absorb-${transport}-20x50.json`);
    expect(rec.config.clients).toBe(20);
    expect(rec.config.ratePerS).toBe(50);
    const section = r.stdout.slice(r.stdout.indexOf(`**${transport}**`));
    const pbRow = /^\| pushbench \| 1,000 \| ([\d,]+) \| (yes|no[^|]*) \|/m.exec(section);
    const bareRow = /^\| bare \| 1,000 \| ([\d,]+) \| (yes|no[^|]*) \|/m.exec(section);
    expect(pbRow, section).not.toBeNull();
    expect(bareRow, section).not.toBeNull();
    // pushbench's delivered/s is its record's
    expect(num(pbRow![1])).toBe(Math.round(rec.summary.deliveriesPerS));
    const pbKeepsUp = pbRow![2] === 'yes';
    expect(pbKeepsUp).toBe(rec.valid && rec.summary.lost === 0 && rec.summary.deliveriesPerS >= 0.95 * 1000);
    const headline = new RegExp(`^${transport}: pushbench absorbs \\*\\*([\\d,]+)\\*\\* deliveries/s on one core, the bare client \\*\\*([\\d,]+)\\*\\*, both keeping up under the same rule: ratio \\*\\*(\\d+\\.\\d\\d|n/a)\\*\\*`, 'm').exec(r.stdout);
    expect(headline, r.stdout).not.toBeNull();
    const bareKeepsUp = bareRow![2] === 'yes';
    expect(num(headline![1])).toBe(pbKeepsUp ? num(pbRow![1]) : 0);
    expect(num(headline![2])).toBe(bareKeepsUp ? num(bareRow![1]) : 0);
    if (pbKeepsUp && bareKeepsUp) {
      // the ratio of the exact rates, shown to 2 decimals (±0.005); pushbench's exact rate is its
      // record's, the bare client's is shown to the whole delivery (±0.5/s)
      const bare = num(bareRow![1]);
      const ratio = rec.summary.deliveriesPerS / bare;
      expect(Math.abs(Number(headline![3]) - ratio)).toBeLessThanOrEqual(0.005 + (ratio * 0.5) / bare + 1e-9);
      // the search stopped at --ladder-max: both figures are lower bounds, and the output says so
      expect(section).toContain('pushbench kept up at every rate tried (up to the 50 msg/s limit): its figure is a lower bound');
    }
    expect(r.stdout).toMatch(new RegExp(`^\\| ${transport} deliveries/s one core absorbs while keeping up, vs bare client under the same rule \\| ${headline![1]} \\| ${headline![2]} \\| `, 'm'));
  });
});
