/**
 * A small real `rank` (few clients, short runs): every transport, two repeats, loopback and an
 * emulated LAN through the latency proxy; it must print the ranking with verdicts and write the
 * result files, ranking.json and the report.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushbench } from '../cli.ts';


describe('pushbench rank', () => {
  it('ranks the four transports on loopback and lan and writes the report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-rank-'));
    const r = await pushbench(['rank', '--clients', '20', '--duration', '3s', '--warmup', '1s', '--rate', '10', '--repeats', '2', '--network', 'loopback,lan', '--out', out, '--name', 'ci-rank'], 240_000);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.status).toBe(0);
    for (const network of ['loopback', 'lan']) expect(r.stdout).toContain(`Ranking on ${network}`);
    for (const metric of ['delivery latency p50', 'delivery latency p99', 'server CPU per message', 'bytes on the wire per message', 'requests per message', 'TCP connections opened', 'server RSS per connection']) {
      expect(r.stdout).toContain(metric);
    }
    expect(r.stdout).toMatch(/verdict: (holds|contradicted|tie|unknown)/);
    const dir = join(out, 'ci-rank');
    const results = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'ranking.json');
    expect(results.length).toBeGreaterThanOrEqual(16);
    const ranking = JSON.parse(readFileSync(join(dir, 'ranking.json'), 'utf8'));
    expect(ranking.rankings.map((x: { network: string }) => x.network)).toEqual(['loopback', 'lan']);
    // requests per message: the two push transports make none, the polls at least some
    type Est = { transport: string; mean: number | null };
    const req = ranking.rankings[0].metrics.find((m: { metric: { key: string } }) => m.metric.key === 'requestsPerMessage');
    const mean = (t: string) => (req.ranked as Est[]).find((e) => e.transport === t)?.mean;
    expect(mean('ws')).toBe(0);
    expect(mean('sse')).toBe(0);
    expect(mean('long-poll')).toBeGreaterThanOrEqual(0.9);
    expect(mean('short-poll')).toBeGreaterThan(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('Ranking — loopback');
    expect(existsSync(join(dir, 'summary.md'))).toBe(true);
  }, 300_000);

  it('--no-report writes the result files and ranking.json, and no report; clients default per network', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-rank-'));
    const r = await pushbench(['rank', '--transports', 'ws', '--repeats', '1', '--network', 'loopback,lan', '--duration', '2s', '--warmup', '1s', '--rate', '10', '--out', out, '--name', 'quiet', '--no-report'], 45_000);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Ranking on loopback');
    expect(r.stdout).toContain('--no-report: no report');
    const dir = join(out, 'quiet');
    // a run the harness marked invalid is re-run once, into <name>-retry.json beside the first try
    const files = readdirSync(dir).sort();
    expect(files.filter((f) => !f.endsWith('-retry.json'))).toEqual(['ranking.json', 'ws-lan-r1.json', 'ws-loopback-r1.json']);
    for (const f of files.filter((x) => x.endsWith('-retry.json'))) {
      expect(JSON.parse(readFileSync(join(dir, f.replace('-retry.json', '.json')), 'utf8')).valid, f).toBe(false);
    }
    expect(files.some((f) => f.endsWith('.html') || f.endsWith('.md') || f.endsWith('.svg'))).toBe(false);
    // without --clients: 500 on loopback, 250 through the latency proxy
    const clients = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')).config.clients;
    expect(clients('ws-loopback-r1.json')).toBe(500);
    expect(clients('ws-lan-r1.json')).toBe(250);
  }, 50_000);
});
