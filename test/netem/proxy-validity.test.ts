/**
 * The proxy judges itself: its lateness distribution over the measured window (and its CPU) decides
 * whether a run through it is valid. A proxy whose event loop is really overloaded must make the
 * run invalid; a normal small wan run must stay valid and report the proxy's figures.
 *
 * Runs alone: the proxy's release lateness decides validity; another file's load is lateness.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLatencyProxy } from '../../netem/proxy.ts';
import { judgeProxy, proxyLatenessLimitMs } from '../../netem/proxy-validity.ts';
import { runOnce } from '../../load/runner.ts';
import { nowUs } from '../../core/wire.ts';
import { runSettings } from '../load/settings.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An echo target and a 25 ms proxy in front of it, with `n` connections each sending a line every 10 ms. */
async function echoTraffic(n: number, opts: { busyMsPer50Ms: number; measureFromMs: number; runMs: number }) {
  const target = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => target.close(() => r())));
  const proxy = await startLatencyProxy({ targetHost: '127.0.0.1', targetPort: (target.address() as net.AddressInfo).port, delayMs: 25 });
  closers.push(() => proxy.close());
  const clients = await Promise.all(Array.from({ length: n }, () => new Promise<net.Socket>((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port: proxy.port }, () => resolve(c));
    c.resume();
  })));
  closers.push(async () => { for (const c of clients) c.destroy(); });
  const t0 = nowUs();
  proxy.measureWindow(t0 + opts.measureFromMs * 1000, t0 + opts.runMs * 1000);
  const senders = clients.map((c) => setInterval(() => c.write('x'.repeat(40)), 10));
  // "an artificially loaded proxy": its event loop is blocked busyMs out of every 50 ms
  const hog = opts.busyMsPer50Ms > 0 ? setInterval(() => { const end = Date.now() + opts.busyMsPer50Ms; while (Date.now() < end); }, 50) : undefined;
  await sleep(opts.runMs);
  for (const s of senders) clearInterval(s);
  if (hog) clearInterval(hog);
  await sleep(100);
  return proxy.stats();
}

describe('proxy validity', () => {
  it('a proxy whose event loop is overloaded makes the run invalid, with its lateness in the reason', async () => {
    const stats = await echoTraffic(20, { busyMsPer50Ms: 35, measureFromMs: 200, runMs: 1500 });
    expect(stats.lateness).toBeDefined();
    // chunks due while the loop is blocked wait for the block to end: up to 35 ms late
    expect(stats.lateness!.p99Ms).toBeGreaterThan(proxyLatenessLimitMs(25));
    const judged = judgeProxy({ delayMs: 25, cpuPct: 50, stats, blackholed: false });
    expect(judged.invalidReasons.join('; ')).toMatch(/^latency proxy fell behind: release lateness p99 \d+\.\d ms/);
    expect(judged.figures.latenessMs!.p99).toBe(stats.lateness!.p99Ms);
    // a blackhole releases its backlog at once by design: lateness is not judged then
    expect(judgeProxy({ delayMs: 25, cpuPct: 50, stats, blackholed: true }).invalidReasons).toEqual([]);
  });

  it('the same traffic through a proxy that keeps up is judged valid (baseline of the test above)', async () => {
    const stats = await echoTraffic(20, { busyMsPer50Ms: 0, measureFromMs: 200, runMs: 1500 });
    // 20 connections × 100 lines/s × 2 directions over 1.3 s measured
    expect(stats.lateness!.releases).toBeGreaterThan(2000);
    expect(judgeProxy({ delayMs: 25, cpuPct: 10, stats, blackholed: false }).invalidReasons).toEqual([]);
  });

  it('CPU above 90 % of a core, or missing stats, is invalid whatever the lateness', () => {
    const stats = { connections: 1, open: 0, bytesUp: 1, bytesDown: 1, queuedBytes: 0, maxQueuedBytes: 1, connectErrors: 0, lateness: { releases: 100, p50Ms: 0.1, p99Ms: 0.5, maxMs: 40 } };
    expect(judgeProxy({ delayMs: 25, cpuPct: 95, stats, blackholed: false }).invalidReasons).toEqual([expect.stringMatching(/^latency proxy saturated: 95 % of a core/)]);
    // one 40 ms outlier is not a saturated proxy
    expect(judgeProxy({ delayMs: 25, cpuPct: 30, stats, blackholed: false }).invalidReasons).toEqual([]);
    expect(judgeProxy({ delayMs: 25, cpuPct: 30, stats: null, blackholed: false }).invalidReasons).toEqual([expect.stringMatching(/^latency proxy: its final stats/)]);
  });

  it('a small wan run is valid and records the proxy CPU and lateness of its measured window', async () => {
    // A broadcast goes down as one burst of 50 releases: 25 msg/s over 4 measured seconds are 100
    // bursts, one of them 1 % of the window's releases (less with the pings). A stall of S ms delays
    // past the 12.5 ms limit only the bursts due in its first S - 12.5 ms: at most one while S is
    // under 12.5 + 40 ms (the period), five times the longest the proxy was kept off its CPU in the
    // alone lane, where this file runs (10 ms). So one stall cannot decide the p99 alone.
    const s = runSettings('ws', ['--clients', '50', '--duration', '4500ms', '--warmup', '500ms', '--rate', '25', '--network', 'wan'], 'ws-wan-test');
    const r = await runOnce(s);
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.proxy).toBeDefined();
    const p = r.proxy!;
    expect(p.cpuPct).toBeGreaterThan(0);
    expect(p.cpuPct).toBeLessThan(90);
    // 4 measured seconds × 25 msg/s × 50 clients downstream (plus pings), only releases due in the window
    expect(p.releases).toBeGreaterThan(4500);
    expect(p.releases).toBeLessThan(7000);
    expect(p.latenessMs!.p99).toBeLessThanOrEqual(p.latenessP99LimitMs);
    expect(p.latenessMs!.p50).toBeLessThanOrEqual(p.latenessMs!.p99);
    expect(r.environment.network).toMatch(/^wan \(proxy CPU \d+ %, lateness p50 [\d.]+ \/ p99 [\d.]+ \/ max [\d.]+ ms/);
    // a broadcast message crosses the proxy once (down): at least the 25 ms delay, less ≤ 1 ms early release
    expect(r.summary.latencyUs.p50).toBeGreaterThanOrEqual(24_000);
  }, 45_000);
});
