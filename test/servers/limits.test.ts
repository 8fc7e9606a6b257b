/**
 * Runs alone: timeouts answered within 1.5–2.5 s.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer, type RunningServer } from '../../servers/server.ts';
import { until } from './helpers.ts';

let server: RunningServer | undefined;
const opened: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One request on its own connection; resolves with the status and parsed JSON body. */
function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${server!.url}${path}`, { method, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) as Answer['json'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw TCP connection that collects what the server sends. */
async function raw(): Promise<{ sock: Socket; text: () => string; closed: Promise<void> }> {
  const sock = connect(server!.port, '127.0.0.1');
  opened.push(sock);
  let text = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (text += d));
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, text: () => text, closed };
}

function wsStatus(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server!.url.replace('http', 'ws') + path);
    opened.push({ destroy: () => ws.terminate() });
    ws.on('error', () => {});
    const timer = setTimeout(() => reject(new Error('no answer')), 5000);
    const answer = (status: number) => {
      clearTimeout(timer);
      resolve(status);
    };
    ws.once('open', () => answer(101));
    ws.once('unexpected-response', (_req, res) => answer(res.statusCode ?? 0));
  });
}

const healthy = async () => expect((await call('GET', '/healthz')).status).toBe(200);

describe('limits', () => {
  it('refuses connections past the cap with 503 (HTTP and WebSocket) and admits again below it', async () => {
    server = await startServer({ port: 0, ratePerS: 0, maxConnections: 2 });
    const holders = [await raw(), await raw()];
    await until(() => server!.stats().tcpOpen === 2, 'two open connections');
    const refused = await call('GET', '/healthz');
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(refused.json.error?.code).toBe('connection_cap');
    expect(await wsStatus('/ws?topic=a')).toBe(503);
    holders[0].sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => holders[0].text().startsWith('HTTP/1.1 200'), 'the admitted connection served');
    holders[1].sock.destroy();
    await until(() => server!.stats().tcpOpen === 1, 'a free slot');
    await healthy();
    expect(server.stats().rejected.connectionCap).toBe(2);
  });

  it('answers 413 to a body over maxBodyBytes, declared or streamed', async () => {
    server = await startServer({ port: 0, ratePerS: 0, maxBodyBytes: 100 });
    const body = JSON.stringify({ data: 'x'.repeat(200) });
    const declared = await call('POST', '/publish?topic=a', body);
    expect([declared.status, declared.json.error?.code]).toEqual([413, 'body_too_large']);
    const streamed = await call('POST', '/publish?topic=a', body, { 'transfer-encoding': 'chunked' });
    expect([streamed.status, streamed.json.error?.code]).toEqual([413, 'body_too_large']);
    const ok = await call('POST', '/publish?topic=a', JSON.stringify({ data: 'small' }));
    expect([ok.status, ok.json]).toEqual([200, { seq: 1 }]);
    expect(server.stats().rejected.tooLarge).toBe(2);
  });

  it('cuts off a client that drips its headers (also before an upgrade) with a JSON 408', async () => {
    server = await startServer({ port: 0, ratePerS: 0, headersTimeoutMs: 300, requestTimeoutMs: 300 });
    const plain = await raw();
    const upgrade = await raw();
    const t0 = performance.now();
    const texts = ['GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'GET /ws?topic=a HTTP/1.1\r\nUpgrade: websocket\r\nX-Slow: '];
    // One byte every 50 ms: each byte is progress, but the headers never complete in time.
    const drip = setInterval(() => {
      [plain, upgrade].forEach((c, i) => {
        if (c.sock.destroyed) return;
        c.sock.write(texts[i][0] ?? 'a');
        texts[i] = texts[i].slice(1);
      });
    }, 50);
    try {
      await Promise.all([plain.closed, upgrade.closed]);
    } finally {
      clearInterval(drip);
    }
    expect(performance.now() - t0).toBeLessThan(2500);
    for (const c of [plain, upgrade]) {
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
      expect(c.text()).toContain('"code":"request_timeout"');
    }
    await healthy();
  });

  it('closes a connection that sends nothing within headersTimeoutMs', async () => {
    server = await startServer({ port: 0, ratePerS: 0, headersTimeoutMs: 300, requestTimeoutMs: 300 });
    const silent = await raw();
    const t0 = performance.now();
    await silent.closed;
    expect(performance.now() - t0).toBeLessThan(1500);
    await healthy();
  });

  it('answers bad topics, cursors, paths and methods with JSON 4xx', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const cases: [string, string, number, string][] = [
      ['GET', '/poll?topic=bad%20name', 400, 'bad_topic'],
      ['GET', '/poll', 400, 'bad_topic'],
      ['GET', `/long-poll?topic=${'x'.repeat(65)}`, 400, 'bad_topic'],
      ['GET', '/sse?topic=a/b', 400, 'bad_topic'],
      ['GET', '/poll?topic=a&since=-1', 400, 'bad_cursor'],
      ['GET', '/long-poll?topic=a&timeout=soon', 400, 'bad_timeout'],
      ['POST', '/publish?topic=a%3F', 400, 'bad_topic'],
      ['GET', '/ws?topic=a', 426, 'upgrade_required'],
      ['GET', '/nothing-here', 404, 'not_found'],
      ['POST', '/poll?topic=a', 405, 'method_not_allowed'],
      ['GET', '/publish?topic=a', 405, 'method_not_allowed'],
    ];
    for (const [method, path, status, code] of cases) {
      const a = await call(method, path, method === 'POST' ? '{"data":"x"}' : undefined);
      expect([method, path, a.status, a.json.error?.code]).toEqual([method, path, status, code]);
      expect(typeof a.json.error?.message).toBe('string');
    }
    expect((await call('POST', '/publish?topic=a', '{"data":')).json.error?.code).toBe('bad_json');
    expect(await wsStatus('/ws?topic=bad%20name')).toBe(400);
    expect(await wsStatus('/elsewhere')).toBe(404);
    const garbage = await raw();
    garbage.sock.write('NOT HTTP AT ALL\r\n\r\n');
    await garbage.closed;
    expect(garbage.text()).toMatch(/^HTTP\/1\.1 400 [\s\S]*"code":"bad_request"/);
    await healthy();
  });

  it('drops a slow consumer (SSE and WebSocket) and keeps delivering to the others', async () => {
    server = await startServer({ port: 0, ratePerS: 0, ringSize: 4, sendBufferBytes: 64 * 1024 });
    const slowSse = await raw();
    slowSse.sock.write('GET /sse?topic=big HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => slowSse.text().includes('retry:'), 'the SSE stream');
    slowSse.sock.pause();
    const slowWs = new WebSocket(server.url.replace('http', 'ws') + '/ws?topic=big');
    opened.push({ destroy: () => slowWs.terminate() });
    slowWs.on('error', () => {});
    await new Promise((r) => slowWs.once('open', r));
    (slowWs as unknown as { _socket: Socket })._socket.pause();
    const fast = new WebSocket(server.url.replace('http', 'ws') + '/ws?topic=big');
    opened.push({ destroy: () => fast.terminate() });
    let fastGot = 0;
    fast.on('message', () => fastGot++);
    await new Promise((r) => fast.once('open', r));

    // In lockstep with the fast reader, so only the paused ones fall behind (past the kernel's
    // socket buffers, then past the 64 KiB budget).
    const payload = 'p'.repeat(16 * 1024);
    let sent = 0;
    while (server.stats().slowConsumerDrops < 2 && sent < 5000) {
      const arrived = new Promise((r) => fast.once('message', r));
      server.hub.publish('big', payload, sent);
      sent++;
      await arrived;
    }
    expect(server.stats().slowConsumerDrops).toBe(2);
    await until(() => fastGot === sent, 'every message at the fast reader', 10_000);
    await until(() => server!.stats().open.sse === 0, 'the slow SSE socket closed');
    expect(server.hub.subscriberCount('big')).toBe(1);
  });
});
