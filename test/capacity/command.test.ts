/**
 * `pushbench capacity` end to end, small enough for CI: real reference server, real clients.
 * One search that reaches --max (every step passes), one step split over two server and two
 * generator processes whose records merge into one, and validation listing every problem.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capacityCommand, parseCapacityArgs } from '../../cli/capacity-command.ts';
import { runMulti } from '../../load/multi.ts';
import { readResultFile } from '../../core/record.ts';
import { PushbenchError } from '../../core/errors.ts';
import { TRANSPORTS } from '../../load/drivers/index.ts';

const out = mkdtempSync(join(tmpdir(), 'pushbench-capacity-'));

interface CapacityFile {
  slo: string;
  outcomes: { transport: string; capacity: number | null; lowerBound: boolean; stop: { kind: string; atClients: number; message: string }; steps: { clients: number; verdict: { kind: string } }[] }[];
}

describe('pushbench capacity (end to end)', () => {
  it('ws, 20 → 40 clients: doubles, every step passes, stops at --max; writes steps, table and report', async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => { lines.push(String(chunk)); return true; }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await capacityCommand(['--transport', 'ws', '--slo', 'p99<2s,lost=0,errors<1%', '--start', '20', '--max', '40', '--step-duration', '1s', '--warmup', '500ms', '--out', out, '--name', 'ci']);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    const dir = join(out, 'ci');
    const file = JSON.parse(readFileSync(join(dir, 'capacity.json'), 'utf8')) as CapacityFile;
    const ws = file.outcomes[0];
    expect(ws.steps.map((s) => [s.clients, s.verdict.kind])).toEqual([[20, 'pass'], [40, 'pass']]);
    expect(ws).toMatchObject({ transport: 'ws', capacity: 40, lowerBound: true, stop: { kind: 'max', atClients: 40 } });
    for (const n of [20, 40]) {
      const r = readResultFile(join(dir, `ws-${n}c.json`));
      expect(r.config.clients).toBe(n);
      expect(r.valid).toBe(true);
      expect(r.summary.lost).toBe(0);
      expect(r.config.durationMs - r.config.warmupMs).toBe(1000);
    }
    const text = lines.join('');
    expect(text).toMatch(/Capacity at p99<2s,lost=0,errors<1%:/);
    expect(text).toMatch(/ws\s+≥ 40\s+\S+\s+\d+ % of a core\s+\S+\s+1\+1\s+--max reached: 40 clients held the SLO/);
    expect(text).toContain('ws: ≈ 25,000 servers like this one for 1,000,000 clients at this SLO (p99<2s,lost=0,errors<1%), 40 clients each');
    expect(text).toContain('assumptions:');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('servers like this one for 1,000,000 clients');
    // a code span is shown literally: the SLO unescaped inside it
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('SLO: `p99<2s,lost=0,errors<1%`');
    expect(existsSync(join(dir, 'capacity.svg'))).toBe(true);
  }, 60_000);

  it('one step over 2 server and 2 generator processes: every client measured once, records merged', async () => {
    const plan = parseCapacityArgs(['--transport', 'sse', '--start', '60', '--max', '60', '--step-duration', '1s', '--warmup', '500ms', '--rate', '4', '--server-procs', '2', '--out', out]);
    if (plan === 'help') throw new Error('help');
    const { stepSettings } = await import('../../cli/capacity-command.ts');
    const s = stepSettings(plan, plan.base.get('sse')!, 60, 2);
    const r = await runMulti(s, 2);
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.config.clients).toBe(60);
    expect(r.generator.workers.reduce((n, w) => n + w.clients, 0)).toBe(60);
    expect(r.counters.connectionsOpened).toBe(60);
    expect(r.summary.lost).toBe(0);
    expect(r.summary.duplicates).toBe(0);
    // 1 measured second at 4 msg/s to 60 clients, ± a message per client at each window edge
    expect(r.summary.delivered).toBeGreaterThanOrEqual(60 * (4 - 2));
    expect(r.summary.delivered).toBeLessThanOrEqual(60 * (4 + 2));
    // the server is counted once: its deliveries match the clients', its connections all 60
    expect(r.server).not.toBeNull();
    expect(r.server!.openConnectionsMax).toBe(60);
    expect(r.summary.serverRssBytesPerConnection).not.toBeNull();
  }, 60_000);

  it('lists every bad option at once', () => {
    let err: unknown;
    try {
      parseCapacityArgs(['--transport', 'carrier-pigeon', '--slo', 'p99<fast', '--start', '500', '--max', '100', '--precision', '0']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PushbenchError);
    expect((err as PushbenchError).problems).toEqual([
      `--transport: carrier-pigeon not one of ${[...TRANSPORTS, 'all'].join(', ')}`,
      '--precision must be at least 0.001 (got 0)',
      '--slo: cannot read "p99<fast" (terms look like p99<250ms, lost=0, undelivered=0, errors<0.1%)',
      '--start 500 is more than --max 100',
    ]);
  });
});
