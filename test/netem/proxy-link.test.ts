/**
 * The latency proxy's `link: 'browser'`: connections from one source address share one link per
 * direction; connections from two addresses, or with `link: 'connection'`, each pace on their own.
 *
 * Runs alone: transfer times held to tens of ms at a bandwidth cap.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLatencyProxy } from '../../netem/proxy.ts';
import type { LinkMode } from '../../netem/network.ts';
import { nowUs } from '../../core/wire.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const SIZE = 256 * 1024;
const RATE = 1024 * 1024;

/** A target that answers each connection's first byte with SIZE bytes. */
async function pushTarget(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.once('data', () => s.write(Buffer.alloc(SIZE, 7)));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
  return (server.address() as net.AddressInfo).port;
}

function connect(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true }, () => resolve(s));
    s.once('error', reject);
    closers.push(async () => void s.destroy());
  });
}

/**
 * Two connections through a proxy at RATE (1 ms each way), from `addresses[0]` and `addresses[1]`,
 * each asking for SIZE bytes at once: seconds from the ask until each has them all.
 */
async function twoPulls(link: LinkMode, addresses: [string, string]): Promise<number[]> {
  const proxy = await startLatencyProxy({ targetHost: '127.0.0.1', targetPort: await pushTarget(), delayMs: 1, bandwidthBytesPerS: RATE, link });
  closers.push(() => proxy.close());
  const sockets = await Promise.all(addresses.map((a) => connect(proxy.port, a)));
  const t0 = nowUs();
  const done = sockets.map((s) => new Promise<number>((resolve) => {
    let got = 0;
    s.on('data', (b: Buffer) => {
      got += b.length;
      if (got === SIZE) resolve((nowUs() - t0) / 1e6);
    });
  }));
  for (const s of sockets) s.write('g');
  return Promise.all(done);
}

// Bounds: SIZE at RATE is 0.25 s of transmission, two SIZEs on one link 0.5 s; the delays add
// 2 ms and a release may come ~1 ms early or a few ms late (1-ms buckets, a timer's lateness).
// The upper bounds leave 100 ms for a loaded machine and still part 0.25 s from 0.5 s.
describe('latency proxy: a link per browser', () => {
  it('shares one link between two connections from one address: both done after ≈0.5 s', async () => {
    const s = await twoPulls('browser', ['127.3.0.1', '127.3.0.1']);
    expect(Math.max(...s)).toBeGreaterThan(0.49);
    expect(Math.max(...s)).toBeLessThan(0.6);
    // the first one done is no sooner than its own 0.25 s
    expect(Math.min(...s)).toBeGreaterThan(0.24);
  });

  it('gives two addresses a link each: each done after ≈0.25 s', async () => {
    const s = await twoPulls('browser', ['127.3.0.2', '127.3.0.3']);
    for (const x of s) {
      expect(x).toBeGreaterThan(0.24);
      expect(x).toBeLessThan(0.35);
    }
  });

  it('with link per connection, one address gives each connection its own link', async () => {
    const s = await twoPulls('connection', ['127.3.0.4', '127.3.0.4']);
    for (const x of s) {
      expect(x).toBeGreaterThan(0.24);
      expect(x).toBeLessThan(0.35);
    }
  });
});
