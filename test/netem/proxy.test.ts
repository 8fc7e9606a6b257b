/**
 * Runs alone: delays held to ±1 ms.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLatencyProxy, type LatencyProxy } from '../../netem/proxy.ts';
import { nowUs } from '../../core/wire.ts';
import { readStamps } from '../../bench/stamps.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

/** A target server on port 0; `onSocket` gets each accepted socket. Closed after the test. */
async function target(onSocket: (s: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  closers.push(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
  return server;
}

async function proxyTo(server: net.Server, opts: { delayMs: number; jitterMs?: number; bandwidthBytesPerS?: number; maxQueuedBytes?: number }): Promise<LatencyProxy> {
  const proxy = await startLatencyProxy({ targetHost: '127.0.0.1', targetPort: (server.address() as net.AddressInfo).port, ...opts });
  closers.push(() => proxy.close());
  return proxy;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true }, () => resolve(s));
    s.once('error', reject);
    // half-open sockets stay open after the far end's FIN: destroyed after the test
    closers.push(async () => void s.destroy());
  });
}

/** Write `count` stamps spaced 3–6 ms apart (an irregular schedule, as real traffic is). */
async function writeStamps(s: net.Socket, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    s.write(`${nowUs()}\n`);
    await new Promise((r) => setTimeout(r, 3 + (i % 4)));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A target whose accepted sockets are handed out one by one by `next()`. */
async function stampTarget(): Promise<{ server: net.Server; next(): Promise<net.Socket> }> {
  const waiting: ((s: net.Socket) => void)[] = [];
  const server = await target((s) => waiting.shift()?.(s));
  return { server, next: () => new Promise((r) => waiting.push(r)) };
}

/** One-way delays in ms, up (client → target) and down (target → client), measured at once. */
async function measureOneWayMs(port: number, t: { next(): Promise<net.Socket> }, count: number): Promise<{ upMs: number; downMs: number; up: number[]; down: number[] }> {
  const up: number[] = [];
  const down: number[] = [];
  const accepted = t.next();
  const client = await connect(port);
  const targetSide = await accepted;
  readStamps(targetSide, (sent, recv) => up.push((recv - sent) / 1000));
  readStamps(client, (sent, recv) => down.push((recv - sent) / 1000));
  await Promise.all([writeStamps(client, count), writeStamps(targetSide, count)]);
  // the last stamps are one delay behind the writes; a stamp lost or never read fails the caller's count
  await until(() => up.length >= count && down.length >= count, 1000);
  client.destroy();
  return { upMs: median(up), downMs: median(down), up, down };
}

/** Resolves when the socket is finished with: its peer's FIN or its close. */
const gone = (s: net.Socket) => new Promise<void>((r) => { s.on('error', () => {}); s.once('end', () => r()); s.once('close', () => r()); });

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

describe('latency proxy', () => {
  // Coarse on purpose: how close the added delay comes to the configured one is `npm run
  // bench:proxy`. The bounds here are what a wrong proxy breaks: the schedule releases a chunk on
  // its nearest whole-millisecond timer, so never more than ~1 ms early; a proxy that charged one
  // direction's delay to the other (0 or 40 ms) or split it over the round trip (10 ms each way)
  // misses 20 ms by 10 ms or more, where a working one is off by a fraction of a millisecond
  // (more under load: its path has a loopback hop and an event-loop turn more than the bare one).
  it('adds the configured one-way delay in each direction separately (20 ms: medians within 5 ms, none more than 1 ms early)', async () => {
    // the bare path and the proxied one measured at once, on two identical targets, so that both
    // see the same moment of the machine
    const [bare, t] = [await stampTarget(), await stampTarget()];
    const delayMs = 20;
    const proxy = await proxyTo(t.server, { delayMs });
    const [direct, m] = await Promise.all([measureOneWayMs((bare.server.address() as net.AddressInfo).port, bare, 60), measureOneWayMs(proxy.port, t, 120)]);
    expect(m.up.length).toBe(120);
    expect(m.down.length).toBe(120);
    // what the proxy adds on top of the bare loopback path
    expect(Math.abs(m.upMs - direct.upMs - delayMs)).toBeLessThanOrEqual(5);
    expect(Math.abs(m.downMs - direct.downMs - delayMs)).toBeLessThanOrEqual(5);
    expect(Math.min(...m.up, ...m.down)).toBeGreaterThanOrEqual(delayMs - 1);
  });

  it('spreads delays by the jitter without reordering', async () => {
    const t = await stampTarget();
    const proxy = await proxyTo(t.server, { delayMs: 15, jitterMs: 5 });
    const m = await measureOneWayMs(proxy.port, t, 120);
    const all = [...m.up, ...m.down];
    const sorted = [...all].sort((a, b) => a - b);
    // a timer may release up to 1 ms early
    expect(sorted[0]).toBeGreaterThanOrEqual(10 - 1);
    // the FIFO rule holds a chunk behind its predecessor, which still leaves it within delay + jitter
    expect(sorted[Math.floor(all.length * 0.95)]).toBeLessThanOrEqual(20 + 1.5);
    expect(sorted[Math.floor(all.length * 0.9)] - sorted[Math.floor(all.length * 0.1)]).toBeGreaterThan(3);
    expect(Math.abs(median(all) - 15)).toBeLessThan(2.5);
  });

  it('loses and reorders no byte with 20 connections pushing 2 MB each way under backpressure', async () => {
    const sizeBytes = 2 * 1024 * 1024;
    const stream = (seed: number) => {
      const words = new Uint32Array(sizeBytes / 4);
      let x = seed >>> 0 || 1;
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        words[i] = x;
      }
      return Buffer.from(words.buffer);
    };
    /** write in irregular pieces, honouring backpressure, then FIN */
    const pump = async (s: net.Socket, data: Buffer) => {
      let off = 0;
      let piece = 1;
      while (off < data.length) {
        piece = (piece * 7919 + 13) % 65_521;
        const n = Math.min(data.length - off, 1 + piece);
        const ok = s.write(data.subarray(off, off + n));
        off += n;
        if (!ok) await new Promise((r) => s.once('drain', r));
      }
      s.end();
    };
    const collect = (s: net.Socket) => new Promise<Buffer>((resolve) => {
      const parts: Buffer[] = [];
      s.on('data', (b: Buffer) => parts.push(b));
      s.once('end', () => resolve(Buffer.concat(parts)));
    });
    const n = 20;
    // each stream made once, kept to compare what arrives with, byte for byte
    const downStreams = Array.from({ length: n }, (_, i) => stream(1000 + i));
    const upReceived: Promise<Buffer>[] = [];
    const server = await target((s) => {
      upReceived.push(collect(s));
      s.once('data', (first: Buffer) => {
        // the first 4 bytes name the connection; answer with that connection's own down stream
        void pump(s, downStreams[first.readUInt32LE(0)]!);
      });
    });
    const proxy = await proxyTo(server, { delayMs: 2, jitterMs: 1, maxQueuedBytes: 64 * 1024 });
    const upStreams = Array.from({ length: n }, (_, i) => {
      const b = stream(1 + i);
      b.writeUInt32LE(i, 0);
      return b;
    });
    const results = await Promise.all(upStreams.map(async (data) => {
      const c = await connect(proxy.port);
      const got = collect(c);
      await pump(c, data);
      return got;
    }));
    for (let i = 0; i < n; i++) {
      expect(results[i].length).toBe(sizeBytes);
      expect(results[i].equals(downStreams[i]!), `down stream ${i}`).toBe(true);
    }
    // the target saw the up streams in its own order: each is matched by the id in its first 4 bytes
    const ups = await Promise.all(upReceived);
    expect(ups.map((b) => b.length)).toEqual(upStreams.map(() => sizeBytes));
    expect(ups.map((b) => b.readUInt32LE(0)).sort((a, b) => a - b)).toEqual(upStreams.map((_, i) => i));
    for (const b of ups) expect(b.equals(upStreams[b.readUInt32LE(0)]!), `up stream ${b.readUInt32LE(0)}`).toBe(true);
    const st = proxy.stats();
    expect(st.bytesUp).toBe(n * sizeBytes);
    expect(st.bytesDown).toBe(n * sizeBytes);
    expect(st.connections).toBe(n);
  });

  it('bounds its memory with backpressure when a client stops reading, and resumes', async () => {
    const totalBytes = 32 * 1024 * 1024;
    let targetSide!: net.Socket;
    const server = await target((s) => {
      targetSide = s;
      s.write(Buffer.alloc(totalBytes, 1));
    });
    const boundBytes = 64 * 1024;
    const proxy = await proxyTo(server, { delayMs: 1, maxQueuedBytes: boundBytes });
    const c = await connect(proxy.port);
    c.pause();
    // loopback carries 32 MB to a reader in tens of ms: an unbounded proxy would have taken it all
    // off the target well within 200 ms, and left it nothing to hold
    await new Promise((r) => setTimeout(r, 200));
    // the stall reached the target: its data waits in its own socket, not in the proxy
    expect(targetSide.writableLength).toBeGreaterThan(0);
    expect(proxy.stats().maxQueuedBytes).toBeLessThanOrEqual(2 * boundBytes);
    let got = 0;
    const all = new Promise<void>((r) => c.on('data', (b: Buffer) => { got += b.length; if (got === totalBytes) r(); }));
    c.resume();
    await all;
    expect(proxy.stats()).toMatchObject({ bytesDown: totalBytes, queuedBytes: 0 });
    c.destroy();
  });

  it('caps bandwidth per direction (256 KiB at 1 MiB/s takes about 0.25 s, both ways at once)', async () => {
    const sizeBytes = 256 * 1024;
    const rate = 1024 * 1024;
    const server = await target((s) => {
      let got = 0;
      s.on('data', (b: Buffer) => {
        got += b.length;
        if (got === sizeBytes) s.write(Buffer.alloc(sizeBytes, 7));
      });
    });
    const proxy = await proxyTo(server, { delayMs: 1, bandwidthBytesPerS: rate });
    const c = await connect(proxy.port);
    const t0 = nowUs();
    let down = 0;
    const downDone = new Promise<number>((resolve) => c.on('data', (b: Buffer) => {
      down += b.length;
      if (down === sizeBytes) resolve(nowUs());
    }));
    c.write(Buffer.alloc(sizeBytes, 3));
    const elapsedS = ((await downDone) - t0) / 1e6;
    // 0.25 s up, then 0.25 s down (the target answers only once it has everything), + 2 ms of
    // delay; a release may come ~1 ms early in each direction. The upper bound leaves 100 ms for a
    // loaded machine; a direction left uncapped (0.25 s in all) or paced at half the rate (0.75 s) misses it.
    expect(elapsedS).toBeGreaterThan(0.49);
    expect(elapsedS).toBeLessThan(0.6);
    c.destroy();
  });

  it('propagates a half-close and keeps the other direction open', async () => {
    const server = await target((s) => {
      s.on('end', () => { s.write('after your FIN'); s.end(); });
      s.resume();
    });
    const proxy = await proxyTo(server, { delayMs: 2 });
    const c = await connect(proxy.port);
    c.setEncoding('utf8');
    let text = '';
    c.on('data', (t: string) => { text += t; });
    const ended = new Promise<void>((r) => c.once('end', r));
    c.end('bye');
    await ended;
    expect(text).toBe('after your FIN');
  });

  it('turns a reset on one side into a reset of the other, and counts a refused target', async () => {
    let onTargetSocket!: (s: net.Socket) => void;
    const gotSocket = new Promise<net.Socket>((r) => { onTargetSocket = r; });
    const server = await target((s) => onTargetSocket(s));
    const proxy = await proxyTo(server, { delayMs: 1 });
    const c = await connect(proxy.port);
    c.write('x');
    const targetSide = await gotSocket;
    const targetClosed = new Promise<string | undefined>((r) => {
      targetSide.on('error', (e: NodeJS.ErrnoException) => r(e.code));
      targetSide.once('close', () => r(undefined));
    });
    c.resetAndDestroy();
    expect(await targetClosed).toBe('ECONNRESET');

    // a target nobody listens on: the client is reset, the failure is counted
    const dead = await target(() => {});
    const port = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const p2 = await startLatencyProxy({ targetHost: '127.0.0.1', targetPort: port, delayMs: 1 });
    closers.push(() => p2.close());
    const c2 = await connect(p2.port);
    await gone(c2);
    await until(() => p2.stats().open === 0);
    expect(p2.stats().connectErrors).toBe(1);
    expect(p2.stats().open).toBe(0);
  });

  it('close() closes the listener and every relayed connection, and is idempotent', async () => {
    const server = await target((s) => s.resume());
    const proxy = await startLatencyProxy({ targetHost: '127.0.0.1', targetPort: (server.address() as net.AddressInfo).port, delayMs: 5 });
    const clients = await Promise.all([1, 2, 3].map(() => connect(proxy.port)));
    for (const c of clients) c.write('queued but never delivered');
    await new Promise((r) => setTimeout(r, 20));
    expect(proxy.stats().open).toBe(3);
    const closed = clients.map(gone);
    await Promise.all([proxy.close(), proxy.close()]);
    await proxy.close();
    await Promise.all(closed);
    expect(proxy.stats().open).toBe(0);
    await expect(connect(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
