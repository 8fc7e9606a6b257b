/**
 * The clustered reference server (`serve --server-procs N`): subscribers held by different worker
 * processes see every message once, one seq sequence per topic, one epoch; upstream publishes
 * arriving at any worker are sequenced by the primary; /stats sums the processes; close() leaves
 * no process. Real sockets on a port the workers share (listen(0) in each worker: node:cluster
 * hands them all the same port).
 *
 * Heavy: a primary and several worker processes of the reference server start at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import WebSocket from 'ws';
import { startCluster, type RunningCluster } from '../../servers/cluster.ts';
import type { StatsSnapshot, WireMessage } from '../../core/wire.ts';
import { openSub, sleep, until, type TestSub } from '../servers/helpers.ts';
import { alive } from '../reliability/leftovers.ts';

/** POST /publish on a connection of its own (so successive posts land on different workers). */
function post(url: string, topic: string, data: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/publish?topic=${topic}`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(body) as { seq: number }).seq) : reject(new Error(`${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ data, ts: 1 }));
  });
}

/** seqs must run k, k+1, … with no gap and no repeat */
function contiguous(ms: WireMessage[]): boolean {
  return ms.every((m, i) => i === 0 || m.seq === ms[i - 1].seq + 1);
}

describe('clustered reference server', () => {
  let server: RunningCluster | undefined;
  const subs: TestSub[] = [];
  afterEach(async () => {
    await Promise.all(subs.splice(0).map((s) => s.close()));
    await server?.close();
    server = undefined;
  });

  it('delivers every message once with one seq sequence to subscribers on different processes', async () => {
    server = await startCluster({ port: 0, processes: 2, ratePerS: 20, topics: 1 });
    const url = server.url;
    for (const transport of ['ws', 'sse', 'ws', 'sse', 'ws', 'sse'] as const) {
      subs.push(await openSub(transport, url, 'room'));
      subs.push(await openSub(transport, url, 't0'));
    }
    // Both workers hold subscribers (round-robin accept), and /stats sums them.
    let per: StatsSnapshot[] = [];
    await until(() => {
      void server!.perProcess().then((x) => (per = x));
      return per.length === 2 && per.every((s) => s.open.ws + s.open.sse >= 4) && per[0].open.ws + per[0].open.sse + per[1].open.ws + per[1].open.sse === 12;
    }, 'subscribers on both workers');
    expect(new Set(per.map((s) => s.pid)).size).toBe(2);

    // Upstream publishes, each on a new connection, so both workers forward some.
    const seqs: number[] = [];
    for (let i = 1; i <= 20; i++) seqs.push(await post(url, 'room', `m${i}`));
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const room = subs.filter((_, i) => i % 2 === 0);
    const scheduled = subs.filter((_, i) => i % 2 === 1);
    await Promise.all(room.map((s) => s.waitFor(20)));
    await Promise.all(scheduled.map((s) => s.waitFor(10)));
    const epoch = ((await (await fetch(`${url}/healthz`)).json()) as { epoch: string }).epoch;
    for (const s of room) {
      expect(s.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      // the primary's order: message i got seq seqs[i-1]
      expect(s.messages.map((m) => m.data)).toEqual(s.messages.map((m) => `m${seqs.indexOf(m.seq) + 1}`));
      expect(new Set(s.messages.map((m) => m.epoch))).toEqual(new Set([epoch]));
    }
    for (const s of scheduled) {
      expect(contiguous(s.messages)).toBe(true);
      expect(new Set(s.messages.map((m) => m.epoch))).toEqual(new Set([epoch]));
    }
    // the same seq carries the same scheduled time on every process
    const tsOf = new Map<number, number>();
    for (const m of scheduled.flatMap((s) => s.messages)) {
      expect(tsOf.get(m.seq) ?? m.ts).toBe(m.ts);
      tsOf.set(m.seq, m.ts);
    }

    const stats = (await (await fetch(`${url}/stats`)).json()) as StatsSnapshot;
    expect(stats.open.ws + stats.open.sse).toBe(12);
    expect(stats.published).toBeGreaterThanOrEqual(30);
    expect(stats.deliveredTotal).toBeGreaterThanOrEqual(6 * 20 + 6 * 10);
    expect(stats.rssBytes).toBeGreaterThan(per[0].rssBytes + per[1].rssBytes);

    const pids = server.pids();
    expect(pids).toHaveLength(3);
    await Promise.all(subs.splice(0).map((s) => s.close()));
    await server.close();
    await server.close();
    await until(() => pids.slice(1).every((p) => !alive(p)), 'workers to exit');
  });

  describe('admin faults act on every worker', () => {
    /** `n` raw WebSocket subscribers on topic t0, each logging when frames arrive and when it closed. */
    async function wsClients(url: string, n: number) {
      const clients = await Promise.all(Array.from({ length: n }, () => new Promise<{ ws: WebSocket; arrivals: number[]; closed: boolean }>((resolve, reject) => {
        const c = { ws: new WebSocket(`${url.replace(/^http/, 'ws')}/ws?topic=t0`), arrivals: [] as number[], closed: false };
        c.ws.on('message', () => c.arrivals.push(performance.now()));
        c.ws.on('close', () => (c.closed = true));
        c.ws.on('error', () => {});
        c.ws.once('open', () => resolve(c));
        c.ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
      })));
      // Round-robin accept: both processes must hold some, or the test proves nothing.
      await until(() => clients.every((c) => c.arrivals.length > 0), 'every client to receive');
      const per = await server!.perProcess();
      expect(per.map((x) => x.open.ws)).toEqual([expect.any(Number), expect.any(Number)]);
      expect(Math.min(...per.map((x) => x.open.ws))).toBeGreaterThan(0);
      return clients;
    }

    const admin = async (url: string, path: string) => {
      const res = await fetch(`${url}${path}`, { method: 'POST' });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, number>;
    };

    it('/admin/cut drops the share of connections in every process, and counts them all', async () => {
      server = await startCluster({ port: 0, processes: 2, ratePerS: 20, topics: 1, admin: true });
      const clients = await wsClients(server.url, 8);
      const answer = await admin(server.url, '/admin/cut?fraction=1');
      // fetch's own socket is spared; every subscriber, on either process, is cut
      expect(answer.cut).toBeGreaterThanOrEqual(8);
      await until(() => clients.every((c) => c.closed), 'every subscriber to be cut');
      const per = await server.perProcess();
      expect(per.map((x) => x.open.ws)).toEqual([0, 0]);
    });

    it('/admin/stall blocks the event loop of every process', async () => {
      server = await startCluster({ port: 0, processes: 2, ratePerS: 50, topics: 1, admin: true });
      const clients = await wsClients(server.url, 6);
      const stallMs = 1000;
      const answer = await admin(server.url, `/admin/stall?ms=${stallMs}`);
      expect(answer).toEqual({ stallMs, processes: 2 });
      await sleep(stallMs + 500);
      // Messages come every 20 ms; a client whose process stalled sees one silence of about the
      // stall (its process wrote nothing meanwhile). The bound is well under the stall so a
      // loaded machine cannot make a stalled process look unstalled; an unstalled process would
      // show no silence near it.
      for (const c of clients) {
        // every arrival, also the last before the request: a stall may begin right after it
        const silence = Math.max(...c.arrivals.slice(1).map((t, i) => t - c.arrivals[i]));
        expect(silence).toBeGreaterThan(0.7 * stallMs);
      }
      for (const c of clients) c.ws.terminate();
    });
  });
});
