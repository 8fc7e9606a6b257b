/**
 * The latency proxy's loss model (`lossRate`, netem/loss.ts): a chunk's loss probability and
 * retransmission delay by its segments; on a busy connection a lost chunk is revealed by the next
 * one (RACK) and on a quiet one waits for the RTO; every later chunk of its connection waits
 * behind it, every byte arrives in order, and another connection on the same link is not held.
 * Bursty loss (`lossBurst`): the chain keeps the long-run share in runs of the given mean, and a
 * run on a browser's shared link holds each connection it hits.
 *
 * Runs alone: arrival times held to tens of ms against retransmission delays of 60 and 240 ms.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLatencyProxy } from '../../netem/proxy.ts';
import { SEGMENT_BYTES, burstLoss, chunkLossProbability, rackDelayMs, retransmitDelayMs } from '../../netem/loss.ts';
import { nowUs } from '../../core/wire.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const DELAY_MS = 20;
const CHUNK_BYTES = 100;
/**
 * When the target writes each connection's chunks (ms after the third connection is in): A busy,
 * one chunk every 20 ms; B quiet, its second chunk after B0's retransmission timeout; C busy
 * between A's. 10 ms or more apart, so the proxy reads each write as a chunk of its own.
 */
const PLAN: readonly { letter: number; atMs: number[] }[] = [
  { letter: 97, atMs: [0, 20, 40, 60, 80] }, // A: 'a'…'e'; 'b' is lost
  { letter: 65, atMs: [5, 255] }, // B: 'A', 'B'; 'A' is lost
  { letter: 48, atMs: [10, 30, 50, 70, 90] }, // C: '0'…'4'; none lost
];
const LOST = new Set([98, 65]);
const chunkOf = (c: number, i: number) => Buffer.alloc(CHUNK_BYTES, PLAN[c].letter + i);

/** A target that writes PLAN once three connections are in (in the order they connected); `sentUs` per chunk. */
async function plannedTarget(sentUs: number[][]): Promise<number> {
  const sockets: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on('error', () => {});
    if (sockets.push(s) < PLAN.length) return;
    PLAN.forEach(({ atMs }, c) => atMs.forEach((at, i) => {
      timers.push(setTimeout(() => { sentUs[c][i] = nowUs(); sockets[c].write(chunkOf(c, i)); }, at));
    }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => { timers.forEach(clearTimeout); for (const s of sockets) s.destroy(); server.close(() => r()); }));
  return (server.address() as net.AddressInfo).port;
}

/** Connect; note when each chunk's first byte arrives; resolves with all bytes once `chunks` came. */
async function receive(port: number, chunks: number, arrivedUs: number[]): Promise<{ all: Promise<Buffer> }> {
  const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
  closers.push(async () => void s.destroy());
  await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
  const all = new Promise<Buffer>((resolve) => {
    const parts: Buffer[] = [];
    let got = 0;
    s.on('data', (b: Buffer) => {
      const now = nowUs();
      for (let k = Math.ceil(got / CHUNK_BYTES); k * CHUNK_BYTES < got + b.length; k++) arrivedUs[k] = now;
      got += b.length;
      parts.push(b);
      if (got === chunks * CHUNK_BYTES) resolve(Buffer.concat(parts));
    });
  });
  // the target must see the connections in this order
  await new Promise((r) => setTimeout(r, 15));
  return { all };
}

describe('latency proxy: loss', () => {
  it('loses a chunk when one of its segments is lost; recovers it by the RTO, or by RACK when a later segment follows', () => {
    expect(chunkLossProbability(100, 0.01)).toBeCloseTo(0.01, 12);
    expect(chunkLossProbability(SEGMENT_BYTES, 0.01)).toBeCloseTo(0.01, 12);
    // ten tabs' 4 KB messages in one HTTP/2 write: 29 segments
    expect(chunkLossProbability(10 * 4150, 0.01)).toBeCloseTo(1 - 0.99 ** 29, 12);
    expect(retransmitDelayMs(100, 25)).toBe(250);
    expect(retransmitDelayMs(SEGMENT_BYTES + 1, 25)).toBe(62.5);
    expect(rackDelayMs(20, 25)).toBe(70);
    expect(rackDelayMs(5, 25)).toBe(62.5);
  });

  it('holds a lost chunk and the rest of its connection; the other connection on the link flows', async () => {
    const sentUs = PLAN.map(() => [] as number[]);
    const arrivedUs = PLAN.map(() => [] as number[]);
    const proxy = await startLatencyProxy({ targetHost: '127.0.0.1', targetPort: await plannedTarget(sentUs), delayMs: DELAY_MS,
      bandwidthBytesPerS: 10_000_000, link: 'browser', lossRate: 0.01, lossRandom: (chunk) => (LOST.has(chunk[0]) ? 0 : 1) });
    closers.push(() => proxy.close());
    const conns = [];
    for (let c = 0; c < PLAN.length; c++) conns.push(await receive(proxy.port, PLAN[c].atMs.length, arrivedUs[c]));
    const bytes = await Promise.all(conns.map((x) => x.all));

    // TCP loses nothing: every byte of every connection, in order
    bytes.forEach((b, c) => expect(b.equals(Buffer.concat(PLAN[c].atMs.map((_, i) => chunkOf(c, i))))).toBe(true));
    expect(proxy.stats().lostChunks).toEqual({ total: 2, inWindow: 2 });
    // ms from chunk (c, i)'s send to (c, j)'s arrival
    const ms = (c: number, j: number, i = j) => (arrivedUs[c][j] - sentUs[c][i]) / 1000;
    // Bounds: a release comes up to 1 ms early (1-ms buckets), 10 µs of transmission per chunk at
    // 10 MB/s; a loaded machine's timers add up to 30 ms, far under the holds checked.
    // A: 'b' is revealed by 'c', sent 20 ms after it: it arrives the delay + max(20 + RTT, 1.25 RTT) = 60 ms late
    const rack = rackDelayMs(20, DELAY_MS);
    expect(ms(0, 1)).toBeGreaterThanOrEqual(DELAY_MS + rack - 1);
    expect(ms(0, 1)).toBeLessThan(DELAY_MS + rack + 30);
    // …and 'c', 'd' (due 20 and 40 ms after 'b''s first copy) wait for it, in order
    for (const j of [2, 3]) expect(arrivedUs[0][j]).toBeGreaterThanOrEqual(arrivedUs[0][1]);
    expect(ms(0, 2)).toBeGreaterThanOrEqual(DELAY_MS + rack - 20 - 1);
    // B: nothing follows 'A' within its RTO (RTT + 200 ms): the timer's delay
    const rto = retransmitDelayMs(CHUNK_BYTES, DELAY_MS);
    expect(ms(1, 0)).toBeGreaterThanOrEqual(DELAY_MS + rto - 1);
    expect(ms(1, 0)).toBeLessThan(DELAY_MS + rto + 30);
    // the chunk before a loss, and every chunk of C, on the same link: only the delay
    expect(ms(0, 0)).toBeLessThan(DELAY_MS + 30);
    PLAN[2].atMs.forEach((_, i) => {
      expect(ms(2, i)).toBeGreaterThanOrEqual(DELAY_MS - 1);
      expect(ms(2, i)).toBeLessThan(DELAY_MS + 30);
    });
  });

  it('bursty loss keeps the long-run share P, in runs of B segments on average', () => {
    // a seeded generator (mulberry32): the figures are the chain's, reproducible
    let seed = 7;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const link: { losing?: boolean } = {};
    const N = 1_000_000;
    let lost = 0;
    let runs = 0;
    let before = false;
    for (let i = 0; i < N; i++) {
      const l = burstLoss(link, 1, 0.01, 3, random);
      lost += l ? 1 : 0;
      if (l && !before) runs++;
      before = l;
    }
    // ~3,333 runs of geometric length (mean 3, sd 2.45): the share's sd is about 0.04 % of N and
    // the mean run's about 0.04; the bounds are over three of each
    expect(lost / N).toBeGreaterThan(0.0088);
    expect(lost / N).toBeLessThan(0.0112);
    expect(lost / runs).toBeGreaterThan(2.85);
    expect(lost / runs).toBeLessThan(3.15);
    // a piece of k segments steps the chain k times
    const piece = { losing: false };
    const draws: number[] = [0.5, 0.5, 0.5];
    expect(burstLoss(piece, 3, 0.01, 3, () => draws.shift()!)).toBe(false);
    expect(draws).toEqual([]);
  });

  it('a burst on one browser\'s link holds each of its connections it hits', async () => {
    // the chain's draws in link order: A's segment enters the losing state, B's stays in it, then it leaves and stays out
    const draws = [0, 0.9, 0];
    const sentUs = PLAN.map(() => [] as number[]);
    const arrivedUs = PLAN.map(() => [] as number[]);
    const proxy = await startLatencyProxy({ targetHost: '127.0.0.1', targetPort: await plannedTarget(sentUs), delayMs: DELAY_MS,
      bandwidthBytesPerS: 10_000_000, link: 'browser', lossRate: 0.01, lossBurst: 3, lossRandom: () => draws.shift() ?? 0.99 });
    closers.push(() => proxy.close());
    const conns = [];
    for (let c = 0; c < PLAN.length; c++) conns.push(await receive(proxy.port, PLAN[c].atMs.length, arrivedUs[c]));
    await Promise.all(conns.map((x) => x.all));
    const ms = (c: number) => (arrivedUs[c][0] - sentUs[c][0]) / 1000;
    // 'a' (A's first) and 'A' (B's first, 5 ms later on the same link) are both lost, though B's
    // own draw (0.9) loses nothing alone: 'a' is revealed by 'b' 20 ms later (RACK), 'A' waits for
    // the RTO; C's first chunk, after the run ended, has only the delay. Bounds as above.
    expect(proxy.stats().lostChunks).toEqual({ total: 2, inWindow: 2 });
    // (the planned 0 ms is a 1 ms timer, so 'a' leaves ~19 ms before 'b': the gap as written)
    const rack = rackDelayMs((sentUs[0][1] - sentUs[0][0]) / 1000, DELAY_MS);
    expect(ms(0)).toBeGreaterThanOrEqual(DELAY_MS + rack - 1);
    expect(ms(0)).toBeLessThan(DELAY_MS + rack + 30);
    expect(ms(1)).toBeGreaterThanOrEqual(DELAY_MS + retransmitDelayMs(CHUNK_BYTES, DELAY_MS) - 1);
    expect(ms(1)).toBeLessThan(DELAY_MS + retransmitDelayMs(CHUNK_BYTES, DELAY_MS) + 30);
    expect(ms(2)).toBeLessThan(DELAY_MS + 30);
  });
});
