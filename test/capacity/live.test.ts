/**
 * Live growth (issue 7): one run grows through a staircase of client counts, the clients of a step
 * staying connected through the next, and every step gets its own record. Real reference server,
 * real clients; the server's own counters (/stats, read when each step closes) show that only the
 * added clients connected. An abort mid-staircase leaves the cut step a partial record. Then
 * capacity on a server that refuses connections past 30: the growth stops at the first failing
 * step, and no later step's clients ever start. The staircase's plan is checked without sockets.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOnce } from '../../load/runner.ts';
import { capacityCommand, liveCounts, liveSettings, parseCapacityArgs } from '../../cli/capacity-command.ts';
import type { MachineFacts } from '../../capacity/search.ts';
import { readResultFile, type ResultRecord } from '../../core/record.ts';
import { startServer } from '../../servers/server.ts';
import type { StatsSnapshot, TransportName } from '../../core/wire.ts';
import { runSettings } from '../load/settings.ts';

/** GET /stats on a connection of its own (counted once in tcpAccepted). */
function stats(url: string): Promise<StatsSnapshot> {
  return new Promise((resolve, reject) => {
    get(`${url}/stats`, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as StatsSnapshot));
    }).on('error', reject);
  });
}

const COUNTS = [20, 40];

describe('live growth', () => {
  it('plans the staircase: doubling to --max, ending before a machine limit or a second generator process', () => {
    const plan = parseCapacityArgs(['--transport', 'ws', '--start', '500', '--max', '40000', '--out', tmpdir()]);
    if (plan === 'help') throw new Error('help');
    const base = plan.base.get('ws')!;
    const facts: MachineFacts = {
      openFilesPerProcess: 20_000, referenceServer: true, serverProcs: null, generatorProcs: null, maxAutoProcs: 8,
      socketsPerClient: 1, ephemeralPorts: 28_000, sourceAddresses: () => 10, memAvailableBytes: null, bytesPerClient: 80 * 1024,
    };
    // 32,000 clients need a second process (19,000 connections each, after the reserve)
    expect(liveCounts(plan, base, facts, 500)).toEqual([500, 1000, 2000, 4000, 8000, 16_000]);
    expect(liveCounts({ ...plan, maxClients: 3000 }, base, facts, 500)).toEqual([500, 1000, 2000, 3000]);
    // 80 % of 1 GB at 80 KiB a client holds 9,765
    expect(liveCounts(plan, base, { ...facts, memAvailableBytes: 1e9 }, 500)).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(liveCounts(plan, base, facts, 19_500)).toEqual([]);
    expect(liveCounts(plan, { ...base, slowClients: { share: 0.1, readBytesPerS: 1000 } }, facts, 500)).toEqual([]);
    // each step's warm-up covers the clients it adds (1,000/s, + 40 % settle, at least 2 s), not all of them
    const ls = liveSettings(plan, base, [500, 1000, 16_000], 1);
    expect(ls.clients).toBe(16_000);
    expect(ls.steps!.map((x) => [x.name, x.clients, x.warmupMs, x.measureMs])).toEqual([
      ['ws-500c', 500, 3000, 20_000], ['ws-1000c', 1000, 3000, 20_000], ['ws-16000c', 16_000, 21_000, 20_000],
    ]);
  });

  it.each<[TransportName, string]>([
    ['ws', '; an abort in a third step gives it a partial record (complete: false) after them'],
    ['long-poll', ''],
  ])('%s: 20 → 40 clients in one run, the first clients stay connected, a record per step%s', async (transport, cut) => {
    // ws goes on to a third step of 60 clients, which an abort cuts short
    const counts = cut ? [...COUNTS, 60] : COUNTS;
    const s = runSettings(transport, ['--clients', String(counts.at(-1)), '--rate', '4', '--arrival-rate', '200']);
    // a step's clients arrive within 0.1 s (200/s), well inside its 0.5 s warm-up
    s.steps = counts.map((clients) => ({ name: `${transport}-${clients}c`, clients, warmupMs: 500, measureMs: 1000 }));
    const ac = new AbortController();
    let url = '';
    const records: ResultRecord[] = [];
    const seen: Promise<StatsSnapshot>[] = [];
    const last = await runOnce(s, {
      signal: ac.signal,
      log: (line) => void (url = /server: pid \d+ at (http:\/\/\S+)/.exec(line)?.[1] ?? url),
      onStep: (r, i) => {
        records.push(r);
        // the cut step's record comes after the run, its server gone: only judged steps are read
        if (r.complete) seen.push(stats(url));
        // the next step starts 0.5 s after this one is judged (its clients arrive within 0.1 s), so
        // the abort falls 0.5 s into it, at the end of its warm-up
        if (cut && i === COUNTS.length - 1) setTimeout(() => ac.abort(), 1000);
      },
    });
    const atStep = await Promise.all(seen);
    expect(records.map((r) => [r.name, r.complete])).toEqual(counts.map((n, i) => [`${transport}-${n}c`, i < COUNTS.length]));
    expect(last).toBe(records.at(-1));
    for (const [i, r] of records.slice(0, COUNTS.length).entries()) {
      const added = COUNTS[i] - (i > 0 ? COUNTS[i - 1] : 0);
      expect(r.invalidReasons.join('; ')).toBe('');
      expect(r.valid).toBe(true);
      expect(r.config.clients).toBe(COUNTS[i]);
      expect(r.config.durationMs - r.config.warmupMs).toBe(1000);
      expect(r.summary.lost).toBe(0);
      expect(r.summary.errors).toBe(0);
      // the generator opened connections for the added clients only, and none reconnected
      expect(r.counters.connectionsOpened).toBe(added);
      expect(r.counters.reconnects).toBe(0);
      // 1 measured second at 4 msg/s to every client so far, ± a message at the window's edges
      expect(r.summary.delivered).toBeGreaterThanOrEqual(3 * COUNTS[i]);
      expect(r.summary.delivered).toBeLessThanOrEqual(5 * COUNTS[i]);
      expect(r.timeline.length).toBeGreaterThan(0);
    }
    if (cut) {
      expect(records[COUNTS.length].invalidReasons[0]).toMatch(/^interrupted after/);
      expect(records[COUNTS.length].config.clients).toBe(60);
    }
    // The server accepted about the added clients' connections per step: the margin of 6 is the
    // runner's own /stats requests (2 per step, keep-alive connections that may be re-opened) and
    // this test's one per step. Everyone reconnecting would add the whole count (2 × added here).
    for (let i = 1; i < COUNTS.length; i++) {
      const added = COUNTS[i] - COUNTS[i - 1];
      const grew = atStep[i].tcpAccepted - atStep[i - 1].tcpAccepted;
      expect(grew).toBeGreaterThanOrEqual(added);
      expect(grew).toBeLessThanOrEqual(added + 6);
    }
    // Every step held all its clients at once (the earlier steps' among them).
    expect(records.slice(0, COUNTS.length).map((r) => r.server?.openConnectionsMax)).toEqual(COUNTS);
    // While the run went on, the server held exactly the clients so far: a step's /stats is read
    // as it is judged, 0.5 s before the next step's clients arrive; the last step's comes as the
    // run ends and its clients close, so it is exact only when a further step follows.
    if (transport === 'ws') expect(atStep.map((x) => x.open.ws)).toEqual(COUNTS);
  }, 45_000);

  it('capacity stops growing at the first failing step (a server that refuses connections past 30)', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', ratePerS: 1, topics: 1, maxConnections: 30 });
    const out = mkdtempSync(join(tmpdir(), 'pushbench-live-'));
    const write = process.stdout.write.bind(process.stdout);
    const lines: string[] = [];
    process.stdout.write = ((chunk: string) => { lines.push(String(chunk)); return true; }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await capacityCommand(['--transport', 'ws', '--target', server.url, '--slo', 'p99<2s,lost=0,errors<1%', '--start', '20', '--max', '160',
        '--step-duration', '1s', '--warmup', '500ms', '--precision', '100%', '--out', out, '--name', 'cap', '--no-report']);
    } finally {
      process.stdout.write = write;
    }
    try {
      expect(code).toBe(0);
      const file = JSON.parse(readFileSync(join(out, 'cap', 'capacity.json'), 'utf8')) as { outcomes: { capacity: number; stop: { kind: string }; steps: { clients: number; verdict: { kind: string } }[] }[] };
      const ws = file.outcomes[0];
      expect(ws.steps.map((x) => [x.clients, x.verdict.kind])).toEqual([[20, 'pass'], [40, 'fail']]);
      expect(ws).toMatchObject({ capacity: 20, stop: { kind: 'slo' } });
      expect(readResultFile(join(out, 'cap', 'ws-40c.json')).summary.errors).toBeGreaterThan(0);
      // the growth stopped there: the 80-client step never ran, and its clients never connected
      expect(existsSync(join(out, 'cap', 'ws-80c.json'))).toBe(false);
      const after = await stats(server.url);
      expect(after.open.ws).toBe(0);
      expect(after.rejected.connectionCap).toBeGreaterThan(0);
      expect(lines.join('')).toMatch(/SLO broke at 40 clients/);
    } finally {
      await server.close();
    }
  }, 45_000);
});
