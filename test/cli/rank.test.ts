/**
 * `pushbench rank`: what it prints and writes is formatted from fixture records (every metric, a
 * verdict each, per network); one small real rank over a grid (the two polls, 1 and 10 msg/s, one
 * repeat, 100 clients on loopback) checks the command end to end: the runs, the result files,
 * ranking.json with its cells and expectations, and the report; bad grid input exits 2 first.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finishRecord, type ResultRecord } from '../../core/record.ts';
import { RANK_METRICS, rankTransports } from '../../reports/ranking.ts';
import { formatRankingMarkdown, formatRankingText } from '../../reports/ranking-format.ts';
import { buildRecords } from '../fixtures/records.ts';
import { pushbench } from '../cli.ts';
import { parseRankArgs } from '../../cli/rank-options.ts';

/** Two repeats of every transport on `network`. */
function repeats(network: string): ResultRecord[] {
  return [1, 2].flatMap((repeat) => buildRecords({ samples: 500 }).map((r) => finishRecord({
    ...r, name: `${r.name}-${network}-r${repeat}`, config: { ...r.config, network }, environment: { ...r.environment, network },
  })));
}

describe('rank output, from fixture records', () => {
  for (const network of ['loopback', 'lan']) {
    it(`${network}: one block per metric, each with its verdict, and the requests per message as recorded`, () => {
      const ranking = rankTransports(repeats(network));
      expect(ranking.metrics.map((m) => m.metric.key)).toEqual(RANK_METRICS.map((m) => m.key));
      const text = formatRankingText(ranking);
      const blocks = text.split('\n').filter((l) => /^\S/.test(l)).slice(2);
      expect(blocks.map((l) => l.split(':')[0])).toEqual(RANK_METRICS.map((m) => m.label));
      const verdicts = text.split('\n').filter((l) => l.startsWith('  verdict: '));
      expect(verdicts).toHaveLength(RANK_METRICS.length);
      for (const v of verdicts) expect(v).toMatch(/^ {2}verdict: (holds|contradicted|tie|unknown) — \S/);
      // the fixture's requests per delivered message: none for push, 0.9 and 2.5 for the polls
      const req = ranking.metrics.find((m) => m.metric.key === 'requestsPerMessage')!;
      const mean = (t: string) => req.ranked.find((e) => e.transport === t)!.mean!;
      expect(mean('ws')).toBe(0);
      expect(mean('sse')).toBe(0);
      expect(mean('long-poll')).toBeCloseTo(0.9, 3);
      expect(mean('short-poll')).toBeCloseTo(2.5, 3);
      const md = formatRankingMarkdown(ranking).split('\n').filter((l) => l.startsWith('|'));
      expect(md).toHaveLength(2 + RANK_METRICS.length);
    });
  }
});

describe('rank --rate', () => {
  it('is --rates with one value: a grid of one rate per network', () => {
    const setup = parseRankArgs(['--rate', '5', '--network', 'loopback,wan', '--transports', 'ws', '--out', tmpdir()]);
    if (setup === 'help') throw new Error('help');
    expect(setup.cells.map((c) => [c.network, c.ratePerS])).toEqual([['loopback', 5], ['wan', 5]]);
    expect([...setup.settingsFor.values()].map((x) => x.ratePerS)).toEqual([5, 5]);
  });
});

describe('pushbench rank (end to end)', () => {
  it('refuses bad grid input with every problem listed, before any run (exit 2)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-rank-bad-'));
    const r = await pushbench(['rank', '--rates', '0,abc', '--rate', '5', '--network', 'loopback,moon', '--clients', '1.5', '--out', out, '--name', 'bad'], 20_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--rates: 0 is not above 0');
    expect(r.stderr).toContain('--rates: "abc" is not a number');
    expect(r.stderr).toContain('unknown network "moon"');
    expect(r.stderr).toContain('--clients: 1.5 is not a whole number');
    expect(r.stderr).toContain('--rate and --rates: give one');
    expect(existsSync(join(out, 'bad'))).toBe(false);
  }, 25_000);

  it('ranks the two polls over 1 and 10 msg/s on loopback and writes results, ranking.json with every cell, and the report', async () => {
    // 1 s measured after a 0.5 s warm-up, which covers the 100 clients' arrival (0.1 s at the
    // default 1,000/s) and a short poll's first request (within Δ = 250 ms of it)
    const out = mkdtempSync(join(tmpdir(), 'pushbench-rank-'));
    const r = await pushbench(['rank', '--transports', 'long-poll,short-poll', '--rates', '1,10', '--network', 'loopback', '--clients', '100', '--repeats', '1', '--duration', '1500ms', '--warmup', '500ms', '--out', out, '--name', 'ci-rank'], 50_000);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.status).toBe(0);
    for (const rate of [1, 10]) expect(r.stdout).toContain(`Ranking on loopback, ${rate} msg/s, 100 clients`);
    expect(r.stdout).toContain('loopback (RTT 0 ms, Δ 250 ms): periodic and held polls expected to cross at 1/Δ = 4 msg/s');
    const dir = join(out, 'ci-rank');
    // Every run valid on its first try, so rank re-ran none (no <name>-retry.json): 100 clients at
    // 10 msg/s is 1,000 deliveries/s, a small share of what one generator core absorbs; a run
    // marked invalid here is a finding, not noise to re-run away.
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(['long-poll-loopback-10mps-100c-r1.json', 'long-poll-loopback-1mps-100c-r1.json', 'ranking.json', 'short-poll-loopback-10mps-100c-r1.json', 'short-poll-loopback-1mps-100c-r1.json']);
    for (const f of files.filter((x) => x !== 'ranking.json')) {
      expect((JSON.parse(readFileSync(join(dir, f), 'utf8')) as ResultRecord).invalidReasons.join('; '), f).toBe('');
    }
    type Expectation = { ratePerS: number; transport: string; expected: number; measured: number };
    const ranking = JSON.parse(readFileSync(join(dir, 'ranking.json'), 'utf8')) as { version: number; cells: { ratePerS: number; ranking: { metrics: unknown[] } }[]; map: { metric: string; cells: unknown[] }[]; expectations: Expectation[] };
    expect(ranking.version).toBe(2);
    expect(ranking.cells.map((c) => c.ratePerS)).toEqual([1, 10]);
    for (const c of ranking.cells) expect(c.ranking.metrics).toHaveLength(RANK_METRICS.length);
    expect(ranking.map.find((m) => m.metric === 'requestsPerMessage')!.cells).toHaveLength(2);
    // Requests per message against the formulas: short polling 1/(rate·Δ) = 4 and 0.4, long
    // polling 1 at both rates (its last poll of the window is answered in the drain, not lost).
    // ±10 %: a 1 s window holds 4 polls of each of 100 clients at random phases, so a client's
    // window edge moves its count by at most one poll and the mean over clients by far less.
    const got = (t: string, rate: number) => ranking.expectations.find((x) => x.transport === t && x.ratePerS === rate)!;
    for (const [t, rate, expected] of [['short-poll', 1, 4], ['short-poll', 10, 0.4], ['long-poll', 1, 1], ['long-poll', 10, 1]] as const) {
      expect(got(t, rate).expected).toBeCloseTo(expected, 9);
      expect(Math.abs(got(t, rate).measured / expected - 1), `${t} at ${rate} msg/s`).toBeLessThanOrEqual(0.1);
    }
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('The map over the grid');
    expect(html).toContain('id="chart-rank-ranking"');
    expect(existsSync(join(dir, 'summary.md'))).toBe(true);
  }, 55_000);
});
