/**
 * Source ports of the first connections (load/source-ports.ts): every client on one address gets
 * its own port of the range, and the ws driver binds it — or, when another socket holds it, connects
 * at once from the kernel's port without counting an error.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { DRIVERS } from '../../load/drivers/index.ts';
import type { ClientSpec } from '../../load/drivers/types.ts';
import { sourcePortOf } from '../../load/source-ports.ts';
import { EventLog, waitFor } from './drivers/helpers.ts';

describe('sourcePortOf', () => {
  const range = { first: 40_000, last: 40_009 };

  it('gives the clients of one address distinct ports of the range, in id order', () => {
    // 3 addresses: address 1 carries ids 1, 4, 7, …; ten ports carry 10 clients per address
    const ids = Array.from({ length: 30 }, (_, i) => i);
    for (let a = 0; a < 3; a++) {
      const ports = ids.filter((id) => id % 3 === a).map((id) => sourcePortOf(id, 3, range));
      expect(ports).toEqual(Array.from({ length: 10 }, (_, k) => 40_000 + k));
    }
  });

  it('leaves the port to the kernel past the range, without addresses, and for no id', () => {
    expect(sourcePortOf(29, 3, range)).toBe(40_009);
    expect(sourcePortOf(30, 3, range)).toBeUndefined();
    expect(sourcePortOf(5, 0, range)).toBeUndefined();
    expect(sourcePortOf(-1, 3, range)).toBeUndefined();
  });
});

describe('ws driver: the first connection\'s source port', () => {
  const from = '127.0.7.1';
  let wss: WebSocketServer;
  let url: string;
  const peers: number[] = [];
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(wss.address() as net.AddressInfo).port}`;
    wss.on('connection', (_socket, req) => peers.push(req.socket.remotePort!));
  });
  afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  /** A port on `from` held by a listener (so no other socket may bind it) until `release`. */
  async function heldPort(): Promise<{ port: number; release: () => Promise<void> }> {
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(0, from, resolve));
    return { port: (s.address() as net.AddressInfo).port, release: () => new Promise<void>((resolve) => s.close(() => resolve())) };
  }

  function spec(localPort: number): ClientSpec {
    return { id: 0, baseUrl: url, topic: 't0', localAddress: from, localPort, pollIntervalMs: 0, pollOffsetMs: 0, longPollTimeoutMs: 1000, reconnectMinMs: 20, reconnectMaxMs: 100 };
  }

  it('binds the given port', async () => {
    const { port, release } = await heldPort();
    await release();
    const log = new EventLog();
    const client = DRIVERS.ws.create(spec(port), log);
    peers.length = 0;
    client.start();
    await waitFor(() => log.connects.length === 1, 'the connection');
    await client.close();
    expect(peers).toEqual([port]);
    expect(log.errors).toEqual([]);
  });

  it('connects from the kernel\'s port when the given one is held, counting nothing', async () => {
    const { port, release } = await heldPort();
    const log = new EventLog();
    const client = DRIVERS.ws.create(spec(port), log);
    peers.length = 0;
    try {
      client.start();
      await waitFor(() => log.connects.length === 1, 'the connection');
    } finally {
      await client.close();
      await release();
    }
    expect(peers).toHaveLength(1);
    expect(peers[0]).not.toBe(port);
    expect(log.errors).toEqual([]);
    expect(log.reconnects).toBe(0);
  });
});
