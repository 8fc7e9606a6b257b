/**
 * Every driver under failure, against real sockets: a refused connection, a server at its
 * connection cap (503), and a resume that falls outside the replay ring (gap).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../load/drivers/index.ts';
import type { ClientSpec, Driver } from '../../../load/drivers/types.ts';
import { startServer, type RunningServer } from '../../../servers/server.ts';
import { encodeMessage, nowUs } from '../../../core/wire.ts';
import { WebSocketServer } from 'ws';
import { activeResources, EventLog, serverWithProxy, sleep, waitFor } from './helpers.ts';

const STABLE_CODE = /^[A-Z][A-Z0-9_]+$/;
/** The servers' messages a second: the tests wait for counts of them (2 before, 2 after), a message every 20 ms. */
const RATE = 50;

function spec(baseUrl: string, overrides: Partial<ClientSpec> = {}): ClientSpec {
  return {
    id: 0,
    baseUrl,
    topic: 't0',
    pollIntervalMs: 50,
    pollOffsetMs: 0,
    longPollTimeoutMs: 1000,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    ...overrides,
  };
}

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// SSE over HTTP/2 runs over TLS only (test/load/sse-h2.test.ts); these servers speak plain HTTP
describe.each(Object.values(DRIVERS).filter((d) => !d.traits.tlsOnly))('driver $transport under failure', (driver: Driver) => {
  it('counts ECONNREFUSED, retries with growing waits, and close() stops the retries', async () => {
    const before = activeResources();
    const log = new EventLog();
    const client = driver.create(spec(`http://127.0.0.1:${await closedPort()}`), log);
    client.start();
    await sleep(400);
    // Waits of ~20, 40, 80, 100, 100 ms (±20 %): 4–7 attempts fit in 400 ms; without backoff it would be dozens.
    expect(log.errors.length).toBeGreaterThanOrEqual(3);
    expect(log.errors.length).toBeLessThanOrEqual(8);
    expect(new Set(log.errors)).toEqual(new Set(['ECONNREFUSED']));
    expect(log.reconnects).toBe(log.errors.length);
    expect(log.connects).toEqual([]);
    expect(client.open).toBe(false);
    await client.close();
    const errors = log.errors.length;
    await sleep(150);
    expect(log.errors.length).toBe(errors);
    expect(Object.entries(activeResources()).every(([type, n]) => n <= (before[type] ?? 0))).toBe(true);
  });

  it('counts a publish that cannot go out instead of throwing', async () => {
    const log = new EventLog();
    const client = driver.create(spec(`http://127.0.0.1:${await closedPort()}`, { reconnectMinMs: 5000, reconnectMaxMs: 5000 }), log);
    expect(() => client.publish('lost', nowUs())).not.toThrow();
    await waitFor(() => log.errors.length >= 1, 'the publish error');
    expect(log.errors[0]).toMatch(STABLE_CODE);
    expect(log.requests).toEqual([]);
    await client.close();
  });

  it('follows a server restart on the same port to the new epoch', async () => {
    const first = await startServer({ port: 0, ratePerS: RATE });
    const log = new EventLog();
    const client = driver.create(spec(first.url), log);
    client.start();
    await waitFor(() => log.messages.length >= 2, 'messages from the first server');
    const oldEpoch = first.hub.epoch;
    await first.close();
    const second = await startServer({ port: first.port, ratePerS: RATE });
    try {
      await waitFor(() => log.messages.some((m) => m.msg.epoch === second.hub.epoch), 'messages of the new epoch', 8000);
      expect(second.hub.epoch).not.toBe(oldEpoch);
      const epochs = log.messages.map((m) => m.msg.epoch);
      expect(epochs.lastIndexOf(oldEpoch)).toBeLessThan(epochs.indexOf(second.hub.epoch)); // no going back
      expect(log.connects.length).toBeGreaterThanOrEqual(2);
      for (const code of log.errors) expect(code).toMatch(STABLE_CODE);
    } finally {
      await client.close();
      await second.close();
    }
  });

  describe('at the connection cap', () => {
    let server: RunningServer;
    let holder: net.Socket;
    beforeAll(async () => {
      server = await startServer({ port: 0, ratePerS: RATE, maxConnections: 1 });
      holder = net.connect(server.port, '127.0.0.1');
      await new Promise((resolve) => holder.once('connect', resolve));
    });
    afterAll(async () => {
      holder.destroy();
      await server.close();
    });

    it('counts HTTP_503 and connects once there is room', async () => {
      const log = new EventLog();
      const client = driver.create(spec(server.url), log);
      client.start();
      await waitFor(() => log.errors.length >= 2, 'two refusals');
      expect(log.errors[0]).toBe('HTTP_503');
      expect(log.messages).toEqual([]);
      holder.destroy();
      await waitFor(() => log.messages.length >= 2, 'messages once admitted');
      for (const code of log.errors) expect(code).toMatch(STABLE_CODE);
      await client.close();
    });
  });

  describe('resuming outside the replay ring', () => {
    const env = serverWithProxy({ ratePerS: RATE, ringSize: 2, sseRetryMs: 200 });

    it('reports gap() and goes on from the ring without repeats', async () => {
      const log = new EventLog();
      // At RATE (50/s), short polls 200 ms apart and reconnects ≥ 160 ms after a cut (SSE: its retry:
      // 200) both miss ≥ 8 messages: more than the ring's 2.
      const client = driver.create(spec(env.proxy.url, { pollIntervalMs: 200, reconnectMinMs: 200, reconnectMaxMs: 200 }), log);
      client.start();
      await waitFor(() => log.messages.length >= 1, 'a message');
      env.proxy.cut();
      await waitFor(() => log.gaps >= 1, 'a gap');
      const atGap = log.messages.length;
      await waitFor(() => log.messages.length >= atGap + 2, 'messages after the gap');
      const seqs = log.seqs();
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
      expect(seqs.at(-1)! - seqs[0] + 1).toBeGreaterThan(seqs.length); // something was lost, and said so
      for (const code of log.errors) expect(code).toMatch(STABLE_CODE);
      await client.close();
    });
  });
});

describe('ws driver: a text frame that is not UTF-8', () => {
  // ws checks no frame for this client (skipUTF8Validation): the driver checks what its contract
  // reader did not prove ASCII. A server of our own sends raw text frames, one connection at a time.
  let wss: WebSocketServer;
  let url: string;
  const connections: number[] = [];
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(wss.address() as net.AddressInfo).port}`;
    wss.on('connection', (socket) => {
      connections.push(connections.length);
      const msg = (seq: number, data: string) => Buffer.from(encodeMessage({ seq, ts: nowUs(), topic: 't0', epoch: 'e1', data }));
      const frames = connections.length === 1
        ? [msg(1, 'plain'), msg(2, 'h\u00e9llo \u2713'), Buffer.concat([msg(3, 'x').subarray(0, 40), Buffer.from([0xc3, 0x28]), msg(3, 'x').subarray(40)]), msg(4, 'after')]
        : [msg(5, 'again')];
      for (const f of frames) socket.send(f, { binary: false });
    });
  });
  afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  it('fails the connection with 1007, counts WS_ERR_INVALID_UTF8, keeps the valid UTF-8 before it, and reconnects', async () => {
    const log = new EventLog();
    const client = DRIVERS.ws.create(spec(url), log);
    client.start();
    await waitFor(() => log.seqs().includes(5), 'the message of the second connection');
    await client.close();
    // 1 read in place, 2 (non-ASCII, valid UTF-8) through the text path; 3 refused; 4 ignored after it
    expect(log.seqs()).toEqual([1, 2, 5]);
    expect(log.messages[1]!.msg.data).toBe('h\u00e9llo \u2713');
    expect(log.errors).toEqual(['WS_ERR_INVALID_UTF8']);
    expect(log.reconnects).toBe(1);
    expect(connections.length).toBe(2);
  });
});
