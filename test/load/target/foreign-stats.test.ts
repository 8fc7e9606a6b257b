/**
 * A --target whose /stats is not pushbench's: a catch-all server answers every path, /stats with
 * its own JSON. The run measures it from /proc (--server-pid) as a server without /stats instead of
 * reading counters that are not there (it used to end in "unexpected error: TypeError").
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStatsSnapshot, runOnce } from '../../../load/runner.ts';
import { startServer, type RunningServer } from '../../../servers/server.ts';
import { runSettings } from '../settings.ts';

const EMPTY_ANSWER = '{"epoch":"e1","next":0,"gap":false,"messages":[]}';

let foreign: http.Server;
let foreignUrl: string;
let polls = 0;

beforeAll(async () => {
  // Every path answers 200: /poll with the contract's empty answer, everything else (/stats
  // included) with JSON of another shape, as a catch-all route would.
  foreign = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url?.startsWith('/poll?')) {
      polls++;
      res.end(EMPTY_ANSWER);
    } else res.end('{"status":"ok","uptime":12}');
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => foreign.close(() => resolve())));

describe('isStatsSnapshot', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
  });
  afterAll(() => server.close());

  it("accepts the reference server's /stats and refuses other shapes", async () => {
    const res = await fetch(`${server.url}/stats`);
    const stats: unknown = await res.json();
    expect(isStatsSnapshot(stats)).toBe(true);
    const real = stats as Record<string, unknown>;
    expect(isStatsSnapshot({ status: 'ok', uptime: 12 })).toBe(false);
    expect(isStatsSnapshot(null)).toBe(false);
    expect(isStatsSnapshot('<html>')).toBe(false);
    expect(isStatsSnapshot({ ...real, cpuUs: 5 })).toBe(false);
    expect(isStatsSnapshot({ ...real, cpuUs: { user: 1 } })).toBe(false);
    expect(isStatsSnapshot({ ...real, bytesWritten: '10' })).toBe(false);
    expect(isStatsSnapshot({ ...real, open: { ws: 'x' } })).toBe(false);
    const { httpRequests: _dropped, ...withoutRequests } = real;
    expect(isStatsSnapshot(withoutRequests)).toBe(false);
  });
});

describe('a --target answering /stats in its own shape', () => {
  it('short-poll run completes valid, server CPU from /proc, no /stats counters', async () => {
    const before = polls;
    const s = runSettings('short-poll', ['--target', foreignUrl, '--server-pid', String(process.pid), '--clients', '5',
      '--rate', '0', '--poll-interval', '50ms', '--duration', '3s', '--warmup', '1s'], 'foreign-stats');
    const r = await runOnce(s);
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.complete).toBe(true);
    // 5 clients × 20 polls/s over the 3 s run; the measured 2 s alone is 200
    expect(polls - before).toBeGreaterThanOrEqual(200);
    expect(r.counters.requests).toBeGreaterThanOrEqual(150);
    expect(r.counters.errors).toEqual({});
    // server figures come from /proc of --server-pid (this process), none from the foreign /stats
    expect(r.server).not.toBeNull();
    expect(r.server!.cpuUs).toBeGreaterThan(0);
    expect(r.server!.httpRequests).toBe(0);
    expect(r.server!.bytesWritten).toBe(0);
  }, 30_000);
});
