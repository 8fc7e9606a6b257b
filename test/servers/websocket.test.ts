import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer, type RunningServer } from '../../servers/server.ts';
import { decodeMessage, type WireMessage } from '../../core/wire.ts';
import { until } from './helpers.ts';

let server: RunningServer | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await server?.close();
  server = undefined;
});

async function open(path: string, opts: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(server!.url.replace('http', 'ws') + path, opts);
  sockets.push(ws);
  const texts: string[] = [];
  ws.on('message', (d) => texts.push(d.toString()));
  // counted from the start: a ping may come before the caller's next line runs
  let pings = 0;
  ws.on('ping', () => pings++);
  const closed = new Promise<{ code: number; at: number }>((r) => ws.once('close', (code) => r({ code, at: performance.now() })));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return { ws, texts, closed, pings: () => pings, messages: () => texts.map(decodeMessage).filter((m): m is WireMessage => m !== undefined) };
}

describe('WebSocket', () => {
  it('terminates a peer that stops answering pings, and keeps one that answers', async () => {
    server = await startServer({ port: 0, ratePerS: 0, heartbeatMs: 100 });
    const mute = await open('/ws?topic=h', { autoPong: false });
    const t0 = performance.now();
    const live = await open('/ws?topic=h');
    const { code, at } = await mute.closed;
    expect(code).toBe(1006); // terminated: no close frame
    expect(mute.pings()).toBeGreaterThanOrEqual(1);
    expect(at - t0).toBeLessThan(1000);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    server.hub.publish('h', 'still here', 1);
    await until(() => live.messages().length === 1, 'delivery to the live peer');
  });

  it('accepts upstream publish frames and fans them out with the sender’s ts', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const a = await open('/ws?topic=room');
    const b = await open('/ws?topic=room');
    a.ws.send(JSON.stringify({ data: 'hello', ts: 123456 }));
    a.ws.send(JSON.stringify({ topic: 'other', data: 'elsewhere' }));
    await until(() => b.messages().length === 1 && a.messages().length === 1, 'the chat message');
    expect(b.messages()[0]).toEqual({ seq: 1, ts: 123456, topic: 'room', epoch: server.hub.epoch, data: 'hello' });
    expect(server.hub.lastSeq('other')).toBe(1);
  });

  it('answers a bad publish frame with an error frame and stays open', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const a = await open('/ws?topic=room');
    a.ws.send('not json');
    a.ws.send(JSON.stringify({ data: 1 }));
    await until(() => a.texts.length === 2, 'two error frames');
    expect(a.texts.map((t) => (JSON.parse(t) as { type: string; error: { code: string } }).error.code)).toEqual(['bad_json', 'bad_publish']);
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    expect(server.stats().rejected.badRequest).toBe(2);
  });

  it('closes with 1009 on a frame over maxWsPayloadBytes and keeps serving others', async () => {
    server = await startServer({ port: 0, ratePerS: 0, maxWsPayloadBytes: 1024 });
    const big = await open('/ws?topic=p');
    const other = await open('/ws?topic=p');
    big.ws.send(JSON.stringify({ data: 'x'.repeat(2000) }));
    expect((await big.closed).code).toBe(1009);
    server.hub.publish('p', 'ok', 1);
    await until(() => other.messages().length === 1, 'delivery to the other client');
  });

  it('closes every connection with 1001 when the server closes', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const a = await open('/ws?topic=c');
    await server.close();
    expect((await a.closed).code).toBe(1001);
  });
});
