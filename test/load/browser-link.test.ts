/**
 * `--network …,link=browser` (docs/networks.md): each simulated browser sends from a loopback
 * address of its own, and the latency proxy paces a browser's connections on one shared link.
 * The numbering of browsers and their addresses; a real run of 2 browsers × 10 sse tabs whose
 * sockets leave from two addresses, 10 each, whose tabs wait for each other's copies on the
 * link, nothing lost, the mode in the record; and the bad input refused before any work.
 *
 * Runs alone: a delivery latency held between bounds set by a link's transmission times.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { browserAddress, browserOf } from '../../load/browser-address.ts';
import { runOnce } from '../../load/runner.ts';
import { pushbench } from '../cli.ts';
import { expectCleanRun, runSettings } from './settings.ts';

const out = mkdtempSync(join(tmpdir(), 'pushbench-browser-link-'));
const DELAY_MS = 25;
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Established TCP sockets in this network namespace by local IPv4 address, of those in 127.1.0.0/16. */
function browserSockets(): Map<string, number> {
  const by = new Map<string, number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (state !== '01') continue;
    const hex = local.split(':')[0];
    // little-endian hex: 0000017F is 127.1.0.0
    const ip = [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
    if (ip.startsWith('127.1.')) by.set(ip, (by.get(ip) ?? 0) + 1);
  }
  return by;
}

describe('link=browser', () => {
  it('numbers browsers over threads as sse-h2 forms them, one loopback address each', () => {
    // 2 threads, 10 tabs: thread 0 holds ids 0, 2, …; its first 10 (0…18) are browser 0, the next 10 browser 2
    expect([0, 18, 20, 38].map((id) => browserOf(id, { index: 0, of: 2 }, 10))).toEqual([0, 0, 2, 2]);
    expect([1, 19, 21].map((id) => browserOf(id, { index: 1, of: 2 }, 10))).toEqual([1, 1, 3]);
    // one tab: a browser per client
    expect([0, 1, 2].map((id) => browserOf(id, { index: 0, of: 1 }, 1))).toEqual([0, 1, 2]);
    expect([0, 1, 256, 65536].map(browserAddress)).toEqual(['127.1.0.0', '127.1.0.1', '127.1.1.0', '127.2.0.0']);
    expect(() => browserAddress(2 ** 24)).toThrow(RangeError);
  });

  it('bad input: exit 2, every problem listed', async () => {
    // two commands refused before any work, side by side (before the run below pins this
    // process, and so the children it starts, to its load CPU)
    const [a, b] = await Promise.all([
      pushbench(['run', '--transport', 'sse', '--network', 'delay=5ms,bw=1MB,link=browser', '--target', 'http://pushbench.invalid:8080',
        '--source-ips', '127.0.0.2', '--out', out]),
      pushbench(['run', '--transport', 'sse', '--network', 'delay=5ms,link=browser', '--out', out]),
    ]);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('link=browser sends each browser from a loopback address of its own');
    expect(a.stderr).toContain('--target http://pushbench.invalid:8080 is not on loopback');
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('link=browser shares a link\'s bandwidth among a browser\'s connections: give bw=');
  }, 15_000);

  it('2 browsers × 10 sse tabs at 125 KB/s a browser: sockets from 2 addresses, the copies queued on each link, nothing lost, the mode recorded', async () => {
    // 25 ms, not less: the proxy's lateness limit is half the delay (at least 5 ms), and a slow
    // hour of this VM kept the proxy off its CPU for 10 ms in the alone lane at 5 ms
    const network = `delay=${DELAY_MS}ms,bw=125000,link=browser`;
    let peak = new Map<string, number>();
    const timer = setInterval(() => {
      const now = browserSockets();
      if ([...now.values()].reduce((a, b) => a + b, 0) > [...peak.values()].reduce((a, b) => a + b, 0)) peak = now;
    }, 100);
    try {
      const r = await runOnce(runSettings('sse', ['--clients', '20', '--streams-per-connection', '10', '--workers', '1', '--network', network,
        '--payload', '4KB', '--rate', '2', '--duration', '2s', '--warmup', '500ms', '--no-report']));
      expectCleanRun(r, 1.5, 2, 20);
      expect(r.config.network).toBe(`delay=${DELAY_MS}ms,bw=125000B/s,link=browser`);
      expect(r.environment.network.startsWith(`${r.config.network} (proxy CPU`)).toBe(true);
      // Each broadcast puts 10 copies of ~4.2 KB (4 KB of data, SSE framing) on each browser's link:
      // 33–35 ms each at 125 KB/s, so a browser's tabs get theirs k = 1…10 transmissions after the
      // publish (+ the delay): p50 near 5.5 of them (~210 ms). A link per tab would give one
      // (~60 ms), one link for both browsers 10.5 (~380 ms). 2 msg/s leaves 500 ms for 340 ms of copies.
      expect(r.summary.latencyUs.p50).toBeGreaterThan(DELAY_MS * 1000 + 3 * 33_000);
      expect(r.summary.latencyUs.p50).toBeLessThan(DELAY_MS * 1000 + 8 * 35_000);
    } finally {
      clearInterval(timer);
    }
    // client-side sockets of the two browsers: ids 0–9 from 127.1.0.0, ids 10–19 from 127.1.0.1
    expect(Object.fromEntries(peak)).toEqual({ '127.1.0.0': 10, '127.1.0.1': 10 });
  }, 15_000);
});
