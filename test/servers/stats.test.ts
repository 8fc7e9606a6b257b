import { SERVER_TRANSPORTS } from '../../servers/transports/index.ts';
import { Agent, request, type ClientRequestArgs } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer, type RunningServer } from '../../servers/server.ts';
import type { StatsSnapshot } from '../../core/wire.ts';
import { parseSse, until } from './helpers.ts';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** An agent without keep-alive that remembers every socket it made, to sum their byte counters. */
class CountingAgent extends Agent {
  readonly sockets_: Socket[] = [];
  createConnection(opts: ClientRequestArgs): Socket {
    const s = createConnection({ host: opts.host ?? '127.0.0.1', port: Number(opts.port) });
    this.sockets_.push(s);
    return s;
  }
}

describe('/stats', () => {
  it('counts exactly what the clients did', async () => {
    server = await startServer({ port: 0, ratePerS: 0, heartbeatMs: 60_000 });
    const agent = new CountingAgent({ keepAlive: false });
    const get = (path: string, method = 'GET', body?: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request(`${server!.url}${path}`, { method, agent }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(body);
      });

    await get('/publish?topic=s', 'POST', '{"data":"a"}');
    await get('/publish?topic=s', 'POST', '{"data":"b"}');
    for (let i = 0; i < 3; i++) await get('/poll?topic=s&since=0'); // 3 × 2 messages
    await get('/long-poll?topic=s&since=1'); // 1 message
    await get('/poll?topic=bad%20topic');

    const sse = request(`${server.url}/sse?topic=s&since=0`, { agent });
    let sseText = '';
    sse.on('response', (res) => res.on('data', (d: Buffer) => (sseText += d.toString())));
    sse.on('error', () => {});
    sse.end();
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?topic=s&since=0`, { agent });
    let wsGot = 0;
    ws.on('message', () => wsGot++);
    await until(() => wsGot === 2 && parseSse(sseText).events.filter((e) => e.data).length === 2, 'the SSE and ws replays');

    const live: StatsSnapshot = JSON.parse(await get('/stats')) as StatsSnapshot;
    expect(live.open.sse).toBe(1);
    expect(live.open.ws).toBe(1);
    expect(live.httpRequests).toBe(10);
    expect(live.tcpAccepted).toBe(10);
    expect(live.tcpOpen).toBe(3); // sse, ws, and the /stats request itself
    expect(live.published).toBe(2);
    expect(live.delivered).toEqual({ ...Object.fromEntries(SERVER_TRANSPORTS.map((t) => [t, 0])), ws: 2, sse: 2, 'long-poll': 1, 'short-poll': 6 });
    expect(live.deliveredTotal).toBe(11);
    expect(live.rejected).toEqual({ connectionCap: 0, badRequest: 1, tooLarge: 0 });
    expect(live.epoch).toBe(server.hub.epoch);
    expect(live.pid).toBe(process.pid);
    expect(live.cpuUs.user).toBeGreaterThan(0);
    expect(live.rssBytes).toBeGreaterThan(1e6);
    expect(live.elu).toBeGreaterThanOrEqual(0);
    expect(live.elu).toBeLessThanOrEqual(1);

    await new Promise<void>((r) => {
      ws.once('close', () => r());
      ws.close();
    });
    sse.destroy();
    await until(() => server!.stats().tcpOpen === 0, 'every connection closed');
    const done = server.stats();
    const clientRead = agent.sockets_.reduce((a, s) => a + s.bytesRead, 0);
    const clientWritten = agent.sockets_.reduce((a, s) => a + s.bytesWritten, 0);
    expect(agent.sockets_.length).toBe(10);
    expect(done.bytesWritten).toBe(clientRead);
    expect(done.bytesRead).toBe(clientWritten);
    expect(done.open).toEqual(Object.fromEntries(SERVER_TRANSPORTS.map((t) => [t, 0])));
    agent.destroy();
  });
});
