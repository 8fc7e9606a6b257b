/**
 * Faults and slow consumers reach the report (report.html and summary.md), not only the console:
 * one row per fault with its numbers, one sentence per run with slow consumers, user text escaped.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FaultResult } from '../../core/record.ts';
import { writeReport } from '../../reports/report.ts';
import { resilienceSection } from '../../reports/resilience.ts';
import { reportRuns } from '../../reports/runs.ts';
import { buildRecord } from '../fixtures/records.ts';

const restart: FaultResult = {
  fault: 'restart-server@5s', kind: 'restart-server', atS: 5, injected: 'killed pid 1234 and started a new server on the same port',
  disconnects: 40, detectUs: { count: 40, p50: 1200, p99: 3000, max: 3100 },
  reconnectUs: { count: 40, p50: 250_000, p99: 480_000, max: 500_000, histogram: '' },
  lost: 0, duplicates: 0, resets: 40, recovered: 0, unrecovered: 120, rateBackAfterS: 2,
};

describe('the report\'s faults and slow consumers', () => {
  it('is left out when no run had either', () => {
    expect(resilienceSection(reportRuns([buildRecord({ transport: 'ws', samples: 100 })]))).toBeNull();
  });

  it('shows every fault\'s figures and the slow consumers in report.html and summary.md', async () => {
    const withFault = { ...buildRecord({ transport: 'sse', samples: 300, name: 'sse-<b>restart</b>' }), faults: [restart] };
    const withSlow = {
      ...buildRecord({ transport: 'ws', samples: 300, name: 'ws-slow' }),
      slowClients: { share: 0.1, readBytesPerS: 2048, clients: 4, delivered: 77, lost: 0, duplicates: 0, reconnects: 9, errors: 0, latencyUs: { p50: 900_000, p99: 2_000_000, max: 2_100_000 }, serverDrops: 9 },
    };
    const out = mkdtempSync(join(tmpdir(), 'pushbench-resilience-'));
    await writeReport([withFault, withSlow], out, { now: new Date('2026-11-23T00:00:00Z') });

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    // (booleans, not toContain: a failure must not print the page with its inlined vega bundles)
    const has = (text: string) => html.includes(text);
    expect(has('Faults and slow consumers')).toBe(true);
    expect(has('restart-server@5s')).toBe(true);
    expect(has('<td class="num">120</td>')).toBe(true); // unrecovered
    expect(has('<td class="num">250.0ms</td>')).toBe(true); // reconnect p50
    expect(has('<td class="num">2 s</td>')).toBe(true); // rate back after
    expect(has('sse-&lt;b&gt;restart&lt;/b&gt;')).toBe(true);
    expect(has('sse-<b>restart</b>')).toBe(false);
    expect(has('server dropped 9 slow connections')).toBe(true);

    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain('## Faults and slow consumers');
    expect(md).toMatch(/\| restart-server@5s \| 40 \| 1\.20ms \| 250\.0ms \| 480\.0ms \| 0 \| 0 \| 40 \| 120 \| 0 \| 2 s \|/);
    expect(md).toContain('ws-slow: slow consumers: 4 clients (10.0 %)');
  });
});
