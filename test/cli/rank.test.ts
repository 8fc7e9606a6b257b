/**
 * `pushbench rank`: what it prints and writes is formatted from fixture records (every metric, a
 * verdict each, per network); one small real rank (two transports, one repeat, loopback and an
 * emulated LAN through the latency proxy, the default client counts) checks the command end to
 * end: the runs, the result files, ranking.json and the report.
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

/** Two repeats of every transport on `network`. */
function repeats(network: string): ResultRecord[] {
  return [1, 2].flatMap((repeat) => buildRecords({ samples: 500 }).map((r) => finishRecord({
    ...r, name: `${r.name}-${network}-r${repeat}`, config: { ...r.config, network }, environment: { ...r.environment, network },
  })));
}

describe('rank output, from fixture records', () => {
  for (const network of ['loopback', 'wan']) {
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

describe('pushbench rank (end to end)', () => {
  it('ranks ws and short-poll on loopback (500 clients) and wan (250) and writes results, ranking.json and the report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-rank-'));
    // The networks npm start ranks. Not lan: its 0.5 ms delay gives the latency proxy a 5 ms
    // lateness limit, and the proxy writes a broadcast's 250 releases one after another, which
    // alone takes a few ms on this 2-core machine, so one slow burst in a 1 s window decides it.
    const r = await pushbench(['rank', '--transports', 'ws,short-poll', '--repeats', '1', '--network', 'loopback,wan', '--duration', '2s', '--warmup', '1s', '--rate', '10', '--out', out, '--name', 'ci-rank'], 50_000);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.status).toBe(0);
    for (const network of ['loopback', 'wan']) expect(r.stdout).toContain(`Ranking on ${network}`);
    expect(r.stdout.match(/ {2}verdict: /g)).toHaveLength(2 * RANK_METRICS.length);
    const dir = join(out, 'ci-rank');
    // Every run valid on its first try, so rank re-ran none (no <name>-retry.json): 500 clients at
    // 10 msg/s is 5,000 deliveries/s, a small share of what one generator core absorbs, and the
    // suite runs alone; a run marked invalid here is a finding, not noise to re-run away.
    const files = readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.json')).sort()).toEqual(
      ['ranking.json', 'short-poll-loopback-r1.json', 'short-poll-wan-r1.json', 'ws-loopback-r1.json', 'ws-wan-r1.json']);
    for (const f of files.filter((x) => /-r1\.json$/.test(x))) {
      const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ResultRecord;
      expect(rec.invalidReasons.join('; '), f).toBe('');
    }
    // without --clients: 500 on loopback, 250 through the latency proxy
    const clients = (f: string) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as ResultRecord).config.clients;
    expect(clients('ws-loopback-r1.json')).toBe(500);
    expect(clients('ws-wan-r1.json')).toBe(250);
    const ranking = JSON.parse(readFileSync(join(dir, 'ranking.json'), 'utf8'));
    expect(ranking.rankings.map((x: { network: string }) => x.network)).toEqual(['loopback', 'wan']);
    // Requests per message: WebSocket makes none; a short poll at Δ = 250 ms makes 4 a second
    // for the 10 messages a second: 0.4 (its 500 clients' random phases average the window's edges).
    type Est = { transport: string; mean: number | null };
    const req = ranking.rankings[0].metrics.find((m: { metric: { key: string } }) => m.metric.key === 'requestsPerMessage');
    const mean = (t: string) => (req.ranked as Est[]).find((e) => e.transport === t)?.mean;
    expect(mean('ws')).toBe(0);
    expect(mean('short-poll')).toBeGreaterThanOrEqual(0.36);
    expect(mean('short-poll')).toBeLessThanOrEqual(0.44);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('Ranking — loopback');
    expect(html).toContain('Ranking — wan');
    expect(existsSync(join(dir, 'summary.md'))).toBe(true);
  }, 55_000);
});
