/**
 * `npm run bench:generator -- --parts poll-replay` end to end at the smallest scale: the reference
 * server's answer captured, a replay server per run, one pushbench run and one autocannon run on
 * the same URL, the table and the ratio printed — every figure from real runs, none assumed. Each
 * generator warms up 100 ms: its 5 connections arrive in 5 ms, and no peak is claimed here.
 *
 * Runs alone: autocannon and the generator poll as fast as they can, taking both CPUs.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchScript } from '../cli.ts';

describe('bench:generator --parts poll-replay', () => {
  it('replays the reference answer to pushbench and autocannon alike and prints both, with the ratio', async () => {
    mkdirSync('.tmp', { recursive: true });
    const out = mkdtempSync(join('.tmp', 'bench-generator-test-'));
    try {
      const r = await benchScript('bench/generator.ts', ['--parts', 'poll-replay', '--poll-repeat', '1', '--poll-window', '1s', '--poll-warmup', '100ms', '--poll-connections', '5', '--out', out], 45_000);
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      // the answer the replay servers served is the reference server's empty poll answer
      const answer = readFileSync(join(out, 'replay-answer.http'), 'latin1');
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n\{"epoch":"[^"]+","next":0,"gap":false,"messages":\[\]\}$/);
      expect(r.stdout).toContain('Warm-up before each measured window: 100 ms for each generator.');
      expect(r.stdout).toMatch(/### 3b\. The same, generator-bound: the reference server's answer replayed/);
      const pb = /\| 1 \| pushbench \(valid: yes, closed loop\) \| ([\d,]+) \|/.exec(r.stdout);
      const ac = /\| 1 \| autocannon 9 \| ([\d,]+) \| \d+ ms \| \d+ ms \| 0 \/ 0 \|/.exec(r.stdout);
      expect(pb, r.stdout).not.toBeNull();
      expect(ac, r.stdout).not.toBeNull();
      const pbPerS = Number(pb![1].replace(/,/g, ''));
      const acPerS = Number(ac![1].replace(/,/g, ''));
      expect(pbPerS).toBeGreaterThan(100);
      expect(acPerS).toBeGreaterThan(100);
      const ratio = /short poll, generator-bound \(replay\): pushbench \/ autocannon = \*\*(\d+\.\d\d)\*\*/.exec(r.stdout);
      expect(ratio).not.toBeNull();
      expect(Number(ratio![1])).toBeCloseTo(pbPerS / acPerS, 2);
      // pushbench's record: the run against the replay server, no errors, its CPU read from /proc
      const record = JSON.parse(readFileSync(join(out, readdirSync(out).find((f) => f.startsWith('poll0-replay-5c') && f.endsWith('.json'))!), 'utf8'));
      expect(record.config.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(record.counters.errors).toEqual({});
      expect(record.counters.requests).toBeGreaterThan(100);
      expect(record.server.cpuUs).toBeGreaterThan(0);
      expect(r.stdout).toMatch(/pinning \(from \/proc Cpus_allowed_list\): server CPU \S+/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 45_000);
});
