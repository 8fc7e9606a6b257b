/**
 * The latency proxy's loss model (`lossRate`, netem/loss.ts): a chunk's loss probability and
 * retransmission delay by its segments; a lost chunk arrives a retransmission delay late,
 * every later chunk of its connection waits behind it (in order, no byte lost), and another
 * connection — here on the same shared link — is not held.
 *
 * Runs alone: arrival times held to tens of ms against a 210 ms retransmission delay.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLatencyProxy } from '../../netem/proxy.ts';
import { SEGMENT_BYTES, chunkLossProbability, retransmitDelayMs } from '../../netem/loss.ts';
import { nowUs } from '../../core/wire.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const DELAY_MS = 5;
const CHUNKS = 5;
const CHUNK_BYTES = 100;
/** between the target's writes, alternating between the two connections: each write is one proxy read */
const GAP_MS = 20;

/** Connection c's chunk i: CHUNK_BYTES of one letter ('a'… for the first, 'A'… for the second). */
const chunkOf = (c: number, i: number) => Buffer.alloc(CHUNK_BYTES, (c === 0 ? 97 : 65) + i);

/**
 * A target that, once two connections are in, writes chunk i to connection c at (2i + c) · GAP_MS,
 * so the proxy reads (and draws a loss for) them one at a time in that order; `sentUs` per chunk.
 */
async function staggeredTarget(sentUs: number[][]): Promise<number> {
  const sockets: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on('error', () => {});
    if (sockets.push(s) < 2) return;
    for (let k = 0; k < 2 * CHUNKS; k++) {
      const c = k % 2;
      const i = (k - c) / 2;
      timers.push(setTimeout(() => { sentUs[c][i] = nowUs(); sockets[c].write(chunkOf(c, i)); }, k * GAP_MS));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => { timers.forEach(clearTimeout); for (const s of sockets) s.destroy(); server.close(() => r()); }));
  return (server.address() as net.AddressInfo).port;
}

/** Connect and note when each chunk's first byte arrives; resolves with all bytes once `bytes` came. */
function receive(port: number, arrivedUs: number[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
    s.once('error', reject);
    closers.push(async () => void s.destroy());
    s.on('data', (b: Buffer) => {
      const now = nowUs();
      for (let k = Math.ceil(got / CHUNK_BYTES); k * CHUNK_BYTES < got + b.length; k++) arrivedUs[k] = now;
      got += b.length;
      parts.push(b);
      if (got === CHUNKS * CHUNK_BYTES) resolve(Buffer.concat(parts));
    });
  });
}

describe('latency proxy: loss', () => {
  it('loses a chunk when one of its segments is lost, and recovers one segment by the RTO, several by RACK-TLP', () => {
    expect(chunkLossProbability(100, 0.01)).toBeCloseTo(0.01, 12);
    expect(chunkLossProbability(SEGMENT_BYTES, 0.01)).toBeCloseTo(0.01, 12);
    // ten tabs' 4 KB messages in one HTTP/2 write: 29 segments
    expect(chunkLossProbability(10 * 4150, 0.01)).toBeCloseTo(1 - 0.99 ** 29, 12);
    expect(retransmitDelayMs(100, 25)).toBe(250);
    expect(retransmitDelayMs(SEGMENT_BYTES + 1, 25)).toBe(100);
  });

  it('holds a lost chunk for the retransmission delay and the rest of its connection behind it; the other connection flows', async () => {
    const sentUs = [[], []] as number[][];
    const arrivedUs = [[], []] as number[][];
    // draws come in the target's write order: connection 0's chunk 1 is the 3rd chunk read
    let draws = 0;
    const lossRandom = () => (++draws === 3 ? 0 : 1);
    const proxy = await startLatencyProxy({ targetHost: '127.0.0.1', targetPort: await staggeredTarget(sentUs), delayMs: DELAY_MS,
      bandwidthBytesPerS: 10_000_000, link: 'browser', lossRate: 0.01, lossRandom });
    closers.push(() => proxy.close());
    const a = receive(proxy.port, arrivedUs[0]);
    await new Promise((r) => setTimeout(r, 20));
    const [bytesA, bytesB] = await Promise.all([a, receive(proxy.port, arrivedUs[1])]);

    // TCP loses nothing: every byte of both connections, in order
    expect(bytesA.equals(Buffer.concat([...Array(CHUNKS).keys()].map((i) => chunkOf(0, i))))).toBe(true);
    expect(bytesB.equals(Buffer.concat([...Array(CHUNKS).keys()].map((i) => chunkOf(1, i))))).toBe(true);
    expect(proxy.stats().lostChunks).toEqual({ total: 1, inWindow: 1 });
    const ms = (c: number, i: number) => (arrivedUs[c][i] - sentUs[c][1]) / 1000;
    const rto = retransmitDelayMs(CHUNK_BYTES, DELAY_MS);
    // A release comes up to 1 ms early (1-ms buckets); 10 µs of transmission per chunk at 10 MB/s.
    // Chunk 1 of connection 0 arrives after the delay and the retransmission delay; chunks 2–4,
    // sent 40–120 ms after it, would have arrived long before (each 5 ms after its send) and wait for it.
    for (let i = 1; i < CHUNKS; i++) expect(ms(0, i)).toBeGreaterThanOrEqual(DELAY_MS + rto - 1);
    // …and no later than a loaded machine's timer lateness (50 ms) after that
    expect(ms(0, 1)).toBeLessThan(DELAY_MS + rto + 50);
    // the chunk before the loss, and every chunk of the other connection (same link), only the delay
    // (+ up to 30 ms of timer lateness — far from the 210 ms a hold would add)
    expect((arrivedUs[0][0] - sentUs[0][0]) / 1000).toBeLessThan(DELAY_MS + 30);
    for (let i = 0; i < CHUNKS; i++) {
      const late = (arrivedUs[1][i] - sentUs[1][i]) / 1000;
      expect(late).toBeGreaterThanOrEqual(DELAY_MS - 1);
      expect(late).toBeLessThan(DELAY_MS + 30);
    }
  });
});
