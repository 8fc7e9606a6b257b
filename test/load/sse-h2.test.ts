/**
 * SSE over HTTP/2 (docs/http2.md): the browser model — `--streams-per-connection N` subscriptions
 * share one TLS connection — seen by the server's `/stats` (connections and streams apart), in the
 * record, and through a cut; a slow tab behind the latency proxy holds neither its browser's other
 * tabs nor the end of its `pushbench run`; HTTP/1.1 SSE at the same N opens a connection per
 * subscription; the bad inputs refused before any work. Small scale: the costs are measured by `npm run bench:h2`.
 * (test/load/tls.test.ts runs sse-h2 with the other transports at one stream per connection.)
 *
 * Heavy: TLS and HTTP/2 framing in server and generator, a cut and the latency proxy's process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newTlsFolder } from '../../core/tls.ts';
import { driverFor } from '../../load/drivers/index.ts';
import type { Client } from '../../load/drivers/types.ts';
import type { ResultRecord } from '../../core/record.ts';
import { runOnce } from '../../load/runner.ts';
import { startServer } from '../../servers/server.ts';
import { pushbench } from '../cli.ts';
import { EventLog, waitFor } from './drivers/helpers.ts';
import { expectCleanRun, runSettings } from './settings.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('sse-h2: one connection per browser', () => {
  it('three subscriptions of one browser share one HTTP/2 connection; /stats counts 1 connection and 3 streams; closing leaves nothing', async () => {
    const { dir, material } = await newTlsFolder();
    dirs.push(dir);
    const server = await startServer({ port: 0, host: '127.0.0.1', ratePerS: 20, tlsDir: dir, sseRetryMs: 100 });
    const clients: Client[] = [];
    try {
      const logs = [0, 1, 2].map(() => new EventLog());
      for (const [i, log] of logs.entries()) {
        const c = driverFor('sse-h2').create({
          id: i, baseUrl: server.url, topic: 't0', localAddress: '127.0.0.1', pollIntervalMs: 0, pollOffsetMs: 0,
          longPollTimeoutMs: 1000, reconnectMinMs: 20, reconnectMaxMs: 200, tls: { ca: material.ca }, streamsPerConnection: 3,
        }, log);
        clients.push(c);
        c.start();
      }
      // 20 msg/s: 5 messages each within ~250 ms of subscribing
      await waitFor(() => logs.every((l) => l.messages.length >= 5), '5 messages on each stream');
      const s = server.stats();
      expect(s.open['sse-h2']).toBe(1);
      expect(s.streams?.['sse-h2']).toBe(3);
      expect(s.tcpOpen).toBe(1);
      for (const l of logs) expect(l.errors).toEqual([]);
      // the connection's bytes are on the first tab's books only: the sum is the wire's
      expect(clients[0].bytes().read).toBeGreaterThan(0);
      expect(clients[1].bytes()).toEqual({ read: 0, written: 0 });
      await Promise.all(clients.map((c) => c.close()));
      await waitFor(() => server.stats().tcpOpen === 0 && server.stats().streams?.['sse-h2'] === 0, 'no connection or stream left');
      expect(server.stats().open['sse-h2']).toBe(0);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    }
  });

  it('over HTTP/1.1 the path answers 505, not a stream', async () => {
    const { dir, material } = await newTlsFolder();
    dirs.push(dir);
    const server = await startServer({ port: 0, host: '127.0.0.1', ratePerS: 0, tlsDir: dir });
    try {
      // an HTTP/1.1 client (node:https offers no ALPN: the server's HTTP/1.1 path) on the same port
      const status = await new Promise<number>((resolve, reject) => {
        const req = https.get(`${server.url}/sse-h2?topic=t0`, { ca: material.ca, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      expect(status).toBe(505);
    } finally {
      await server.close();
    }
  });
});

describe('run --transport sse-h2 --tls', () => {
  const CLIENTS = 40;
  const N = 10;

  it(`${CLIENTS} subscriptions at ${N} streams per connection: ${CLIENTS / N} connections in /stats, the record and the handshakes; a cut resumes without loss`, async () => {
    // the cut at the warm-up's end, every browser connected by then (40 subscriptions arrive in 40 ms)
    const s = runSettings('sse-h2', ['--tls', '--clients', String(CLIENTS), '--streams-per-connection', String(N), '--duration', '2s', '--warmup', '500ms', '--rate', '10', '--fault', 'cut-connections@500ms:50%']);
    const r = await runOnce(s);
    // 1.5 measured seconds at 10 msg/s to every subscription; the cut ones wait the server's retry
    // (1 s ± 20 %) and resume from their Last-Event-ID by 1.7 s, before the window's end at 2 s
    // (where /stats is read for the record)
    expectCleanRun(r, 1.5, 10, CLIENTS);
    expect(r.config.streamsPerConnection).toBe(N);
    // one generator thread per load CPU; each fills its browsers in arrival order, so a thread's
    // last browser may be part full: at most one connection more per thread
    const browsers = CLIENTS / N;
    expect(r.server!.streamsOpen).toBe(CLIENTS);
    expect(r.server!.connectionsOpen).toBeGreaterThanOrEqual(browsers);
    expect(r.server!.connectionsOpen).toBeLessThanOrEqual(browsers + r.config.workers);
    // every connection is one TLS handshake: the first of each browser full, the cut ones resumed
    const tls = r.tls!;
    expect(tls.protocols).toEqual({ 'TLSv1.3': tls.handshakes });
    expect(tls.full).toBe(r.server!.connectionsOpen);
    // a cut of half the connections reaches ~half the browsers; each comes back on one resumed handshake
    expect(tls.resumed).toBeGreaterThan(0);
    expect(tls.resumed).toBeLessThanOrEqual(tls.full);
    // every stream of a cut connection reconnects: N per resumed handshake
    expect(r.counters.reconnects).toBe(tls.resumed * N);
  }, 20_000);

  it('behind the latency proxy with a paced link, a slow tab in each browser: the run ends, complete, after its drain; the other tabs get every message, none lost, no reconnect', async () => {
    // 2 browsers of 10 tabs through the proxy (25 ms each way, 1.25 MB/s per connection), 4 KB at
    // 20 msg/s: 0.85 MB/s of wire bytes per connection. One tab in 10 reads 2 KB/s, so its stream
    // stays paused with data unread, which kept a graceful HTTP/2 close waiting for ever: the run
    // must end within the driver's grace (0.5 s) after closing; the command is killed at 30 s.
    // The other 9 tabs must get every message of the window: a paused stream holding the
    // connection's flow-control window, or windows too small for the link's round trip (Node's
    // default 64 KB: ~0.6 MB/s at this delay), leave messages undelivered at the window's end:
    // fewer delivered, and an invalid reason that says so.
    const out = mkdtempSync(join(tmpdir(), 'pushbench-h2-slow-'));
    dirs.push(out);
    const cli = await pushbench(['run', '--transport', 'sse-h2', '--tls', '--network', 'delay=25ms,jitter=2ms,bw=1250000', '--clients', '20', '--streams-per-connection', String(N),
      '--slow-clients', '10%:2KB/s', '--payload', '4KB', '--rate', '20', '--duration', '2500ms', '--warmup', '500ms', '--name', 'slow-tabs', '--out', out, '--no-report'], 30_000);
    expect(cli.status, cli.stderr.slice(-1000)).toBe(0);
    expect(cli.stdout).toMatch(/slow consumers: 2 clients \(10\.0 %\)/);
    const r = JSON.parse(readFileSync(join(out, 'slow-tabs.json'), 'utf8')) as ResultRecord;
    expect(r.complete).toBe(true);
    // the proxy's lateness limit is a timing judgement another file's load can move (this file is
    // paired), so that one reason is let pass; any other (undelivered, lost, the generator) fails
    expect(r.invalidReasons.filter((x) => !x.startsWith('latency proxy fell behind'))).toEqual([]);
    const fast = 18;
    expect(r.summary.lost).toBe(0);
    expect(r.summary.duplicates).toBe(0);
    expect(r.counters.outOfOrder).toBe(0);
    // 2 measured seconds at 20 msg/s to each fast tab, ± one message a tab at each window edge
    expect(Math.abs(r.summary.delivered - 2 * 20 * fast)).toBeLessThanOrEqual(2 * fast);
    expect(r.summary.expected).toBe(r.summary.delivered);
    expect(r.proxy).toBeDefined();
    expect(r.slowClients!.clients).toBe(2);
    // both connections stayed up through the run, each with its 10 streams
    expect(r.server!.connectionsOpen).toBe(2);
    expect(r.server!.streamsOpen).toBe(20);
    expect(r.tls!.full).toBe(2);
    // no connection was lost: the proxy relays every TLS record intact and in order (a reordered
    // chunk fails the record's MAC and costs the browser its connection)
    expect(r.counters.reconnects).toBe(0);
  }, 40_000);

  it(`sse at ${N} streams per connection opens one connection per subscription, as a browser without HTTP/2`, async () => {
    const s = runSettings('sse', ['--tls', '--clients', String(CLIENTS), '--streams-per-connection', String(N), '--duration', '1500ms', '--warmup', '500ms', '--rate', '10']);
    const r = await runOnce(s);
    expectCleanRun(r, 1, 10, CLIENTS);
    expect(r.server!.connectionsOpen).toBe(CLIENTS);
    expect(r.server!.streamsOpen).toBe(CLIENTS);
    expect(r.tls!.full).toBe(CLIENTS);
  }, 20_000);
});

describe('bad input', () => {
  it('--streams-per-connection 0, sse-h2 without TLS, --tls towards http:// — exit 2, every problem listed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-h2-bad-'));
    dirs.push(out);
    const a = await pushbench(['run', '--transport', 'sse-h2', '--streams-per-connection', '0', '--out', out]);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('--streams-per-connection');
    expect(a.stderr).toContain('--transport sse-h2 runs over TLS only');
    const b = await pushbench(['run', '--transport', 'sse-h2', '--tls', '--target', 'http://127.0.0.1:9', '--streams-per-connection', '0', '--out', out]);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('--tls speaks TLS to the server, but --target http://127.0.0.1:9 is http://');
    expect(b.stderr).toContain('--streams-per-connection');
    const c = await pushbench(['rank', '--transports', 'sse,sse-h2', '--variants', 'plain,tls', '--out', out]);
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('--transport sse-h2 runs over TLS only');
  }, 20_000);
});

