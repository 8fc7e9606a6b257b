/**
 * Slow consumers (issue 8): a share of the clients reads slowly; the server's bounded send
 * buffers hold, the slow clients are dropped and counted, and the other clients are not held
 * back. How much the slow readers cost the others' p99 is measured by `npm run
 * bench:slow-consumers` (pairs of runs, the ratio); here one coarse bound per transport:
 *
 * At 50 msg/s a message comes every 20 ms. A fast client held behind a slow one for even one
 * message (a shared write queue, a server blocked on a full socket) is late by that period or
 * more — at 2 KB/s a 32 KB message takes a slow reader 16 s — and a server buffering the slow
 * readers' backlog without bound spends its CPU and memory on it for the whole run. So the fast
 * clients' p99 may be at most one message period (20 ms) above the same run without slow
 * readers, made in the same test; the p99 of a quiet run is a few ms.
 *
 * 32 KB messages at 50 msg/s are 1.6 MB/s per client. A slow reader's loopback buffers hold at most
 * the sender's 4 MB (net.ipv4.tcp_wmem's maximum) and the reader's 128 KB (tcp_rmem's default, which
 * a reader this slow never grows): full 2.7 s after it connects at the latest, and the server's
 * 32 KB send budget then drops it, inside the 3.5 s run's window (0.5-3.5 s). 16 fast clients keep
 * the generator's own load (26 MB/s read) light.
 *
 * Runs alone: the others' p99 within one message period of a baseline run, and the server's RSS.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions } from '../../core/options.ts';
import { RUN_OPTION_SPECS, loadSettings, parseSlowClients } from '../../cli/run-options.ts';
import { runOnce, type RunSettings } from '../../load/runner.ts';

const out = mkdtempSync(join(tmpdir(), 'pushbench-slow-'));
const MESSAGE_PERIOD_US = 20_000;

/**
 * A run with slow readers, or the baseline without them. Both warm up 0.5 s: 20 clients arrive in
 * 20 ms. The slow run lasts until its readers' buffers are full (above); the baseline needs no
 * time for buffers to fill, and 1.5 measured seconds give its p99 from 1,500 deliveries.
 */
function settings(transport: 'ws' | 'sse', slow: string | null): RunSettings {
  const window = slow ? ['--duration', '3500ms', '--warmup', '500ms'] : ['--duration', '2s', '--warmup', '500ms'];
  const parsed = parseOptions(['--clients', '20', ...window, '--rate', '50', '--payload', '32KB', '--out', out], RUN_OPTION_SPECS);
  const problems = [...parsed.problems];
  const s = loadSettings(parsed.values, transport, problems);
  expect(problems).toEqual([]);
  s.name = `${transport}-${slow ? 'slow' : 'base'}`;
  s.serverArgs = ['--send-buffer', '32KB'];
  if (slow) {
    const p = parseSlowClients(slow);
    if (typeof p === 'string') throw new Error(p);
    s.slowClients = p;
  }
  return s;
}

describe('slow consumers', () => {
  it('parses the share and the rate, and refuses nonsense with a sentence', () => {
    expect(parseSlowClients('5%:10KB/s')).toEqual({ share: 0.05, readBytesPerS: 10_240 });
    expect(parseSlowClients('5%')).toMatch(/must look like 5%:10KB\/s/);
    expect(parseSlowClients('150%:1KB/s')).toMatch(/share must be between/);
  });

  it.each(['ws', 'sse'] as const)('%s: the server drops the slow readers; the others lose nothing and stay within one message period of their p99 without them', async (transport) => {
    const base = await runOnce(settings(transport, null));
    const withSlow = await runOnce(settings(transport, '20%:2KB/s'));
    const gc = (r: typeof base) => `generator's longest GC pause ${r.generator.gcMaxMs?.toFixed(1)} ms`;
    console.log(`${transport}: fast clients' p99 ${(withSlow.summary.latencyUs.p99 / 1000).toFixed(1)} ms with slow readers (${gc(withSlow)}), ${(base.summary.latencyUs.p99 / 1000).toFixed(1)} ms without (${gc(base)})`);
    expect(base.invalidReasons.join('; ')).toBe('');
    expect(withSlow.invalidReasons.join('; ')).toBe('');
    const slow = withSlow.slowClients!;
    expect(slow.clients).toBe(4);
    // every slow reader was dropped by the server, and none read a whole message in the window
    expect(slow.serverDrops).toBeGreaterThanOrEqual(4);
    expect(slow.delivered).toBe(0);
    // the fast clients: nothing lost, every message of the window, p99 within one message period
    expect(withSlow.summary.lost).toBe(0);
    // 3 measured seconds at 50 msg/s to the 16 fast clients, ± one message each at the edges
    expect(Math.abs(withSlow.summary.delivered - 16 * 50 * 3)).toBeLessThanOrEqual(16);
    expect(withSlow.summary.latencyUs.p99).toBeLessThanOrEqual(base.summary.latencyUs.p99 + MESSAGE_PERIOD_US);
    // the server's memory stayed bounded: its send buffers did not grow with the backlog
    expect(withSlow.server!.rssBytesMax).toBeLessThan(base.server!.rssBytesMax + 64 * 1024 * 1024);
  }, 30_000);
});
