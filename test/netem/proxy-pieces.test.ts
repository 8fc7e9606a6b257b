/**
 * The latency proxy on a capped link releases a write segment by segment (`pieceBytes`): each
 * piece at its own transmission end plus the delay, so the first bytes of a large write arrive
 * after one segment's transmission, never ahead of the link; a lost piece holds only what follows
 * it, and is recovered by the next piece's acknowledgement (RACK) or, at the tail, by the probe.
 *
 * Runs alone: arrival times held to tens of ms against transmissions of 10 ms a segment.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pieceBytes, startLatencyProxy } from '../../netem/proxy.ts';
import { SEGMENT_BYTES, rackDelayMs, retransmitDelayMs } from '../../netem/loss.ts';
import { nowUs } from '../../core/wire.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const SEGMENTS = 10;
/** one segment per 10 ms: a piece is one segment, the write takes 100 ms to transmit */
const RATE = SEGMENT_BYTES * 100;
const SEGMENT_MS = 10;
const DELAY_MS = 20;
/** segment i of the write is filled with byte i, so a piece names itself */
const WRITE = Buffer.concat(Array.from({ length: SEGMENTS }, (_, i) => Buffer.alloc(SEGMENT_BYTES, i)));
/** a loaded machine's timers and a client's read may add this much; a release is never more than 1 ms early */
const SLACK_MS = 30;

/** A target that answers the first byte of its one connection with WRITE, in one write. */
async function writeOnAsk(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (s) => {
    sockets.add(s);
    s.once('data', () => s.write(WRITE));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
  return (server.address() as net.AddressInfo).port;
}

/** Through a proxy losing the pieces `lose` names: [ms after the ask, bytes so far] per read, once all came. */
async function pull(lose: (piece: Buffer) => boolean): Promise<[number, number][]> {
  const proxy = await startLatencyProxy({ targetHost: '127.0.0.1', targetPort: await writeOnAsk(), delayMs: DELAY_MS,
    bandwidthBytesPerS: RATE, lossRate: 0.01, lossRandom: (piece) => (lose(piece) ? 0 : 1) });
  closers.push(() => proxy.close());
  const s = net.connect({ host: '127.0.0.1', port: proxy.port, noDelay: true });
  closers.push(async () => void s.destroy());
  await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
  const reads: [number, number][] = [];
  let got = 0;
  const t0 = nowUs();
  const all = new Promise<void>((resolve) => s.on('data', (b: Buffer) => {
    got += b.length;
    reads.push([(nowUs() - t0) / 1000, got]);
    if (got === WRITE.length) resolve();
  }));
  s.write('g');
  await all;
  return reads;
}

/** ms after the ask when byte `n` (1-based) had arrived */
const when = (reads: [number, number][], n: number) => reads.find(([, got]) => got >= n)![0];

describe('latency proxy: a capped link releases segment by segment', () => {
  it('a piece is whole segments, about a millisecond of the link', () => {
    expect(pieceBytes(RATE)).toBe(SEGMENT_BYTES);
    expect(pieceBytes(1_250_000)).toBe(SEGMENT_BYTES);
    // 100 Mbit/s sends 8.6 segments a millisecond
    expect(pieceBytes(12_500_000)).toBe(8 * SEGMENT_BYTES);
  });

  it('the first bytes after one segment, never ahead of the link, the last after the whole write', async () => {
    const reads = await pull(() => false);
    // the ask takes DELAY_MS up; byte n can leave the link no sooner than its segment's end
    for (const [ms, got] of reads) expect(ms).toBeGreaterThanOrEqual(2 * DELAY_MS + Math.ceil(got / SEGMENT_BYTES) * SEGMENT_MS - 1);
    // a write released whole would arrive at once after its 100 ms of transmission
    expect(when(reads, 1)).toBeLessThan(2 * DELAY_MS + SEGMENT_MS + SLACK_MS);
    expect(when(reads, WRITE.length)).toBeLessThan(2 * DELAY_MS + SEGMENTS * SEGMENT_MS + SLACK_MS);
  });

  it('a lost segment holds what follows it until the next segment reveals it; the ones before arrive on time', async () => {
    const reads = await pull((piece) => piece[0] === 4);
    const beforeLoss = 4 * SEGMENT_BYTES;
    expect(when(reads, beforeLoss)).toBeLessThan(2 * DELAY_MS + 4 * SEGMENT_MS + SLACK_MS);
    // segment 4 leaves the link at 50 ms; segment 5 10 ms later reveals it
    const back = 2 * DELAY_MS + 5 * SEGMENT_MS + rackDelayMs(SEGMENT_MS, DELAY_MS);
    expect(when(reads, beforeLoss + 1)).toBeGreaterThanOrEqual(back - 1);
    expect(when(reads, beforeLoss + 1)).toBeLessThan(back + SLACK_MS);
  });

  it('a lost last segment, with the others unacknowledged, comes with the tail-loss probe two round trips later', async () => {
    const reads = await pull((piece) => piece[0] === SEGMENTS - 1);
    expect(retransmitDelayMs(SEGMENT_BYTES, DELAY_MS, true)).toBe(4 * DELAY_MS);
    const back = 2 * DELAY_MS + SEGMENTS * SEGMENT_MS + retransmitDelayMs(SEGMENT_BYTES, DELAY_MS, true);
    expect(when(reads, WRITE.length - SEGMENT_BYTES)).toBeLessThan(2 * DELAY_MS + (SEGMENTS - 1) * SEGMENT_MS + SLACK_MS);
    expect(when(reads, WRITE.length)).toBeGreaterThanOrEqual(back - 1);
    expect(when(reads, WRITE.length)).toBeLessThan(back + SLACK_MS);
  });
});
