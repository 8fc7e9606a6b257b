/**
 * Runs alone: message timestamps spaced by the rate to within the publisher's early margin.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EARLY_US } from '../../servers/publisher.ts';
import { startServer, type RunningServer } from '../../servers/server.ts';
import { TRANSPORTS, traitsOf } from '../../load/drivers/index.ts';
import { openSub, type TestSub } from './helpers.ts';

// SSE over HTTP/2 runs over TLS only (test/load/sse-h2.test.ts); these servers speak plain HTTP
const PLAIN = TRANSPORTS.filter((t) => !traitsOf(t).tlsOnly);
describe.each(PLAIN)('%s transport', (transport) => {
  let server: RunningServer | undefined;
  const subs: TestSub[] = [];
  afterEach(async () => {
    await Promise.all(subs.splice(0).map((s) => s.close()));
    await server?.close();
    server = undefined;
  });
  const sub = async (topic: string, cursor = {}) => {
    const s = await openSub(transport, server!.url, topic, cursor);
    subs.push(s);
    return s;
  };

  it('delivers published messages in order with seq, ts, topic and epoch', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const s = await sub('room', {});
    for (let i = 1; i <= 20; i++) server.hub.publish('room', `m${i}`, 1_000_000 + i);
    await s.waitFor(20);
    expect(s.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(s.messages.map((m) => m.ts)).toEqual(Array.from({ length: 20 }, (_, i) => 1_000_001 + i));
    expect(s.messages.map((m) => m.data)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
    expect(new Set(s.messages.map((m) => m.topic))).toEqual(new Set(['room']));
    expect(new Set(s.messages.map((m) => m.epoch))).toEqual(new Set([server.hub.epoch]));
    expect(s.gaps).toEqual([]);
  });

  it('delivers the scheduled publisher’s messages stamped with their scheduled times', async () => {
    server = await startServer({ port: 0, ratePerS: 50, topics: 3, payloadBytes: 10 });
    const s = await sub('t2');
    await s.waitFor(4);
    const ms = s.messages.slice(0, 4);
    expect(ms.every((m) => m.topic === 't2' && m.data.length === 10)).toBe(true);
    for (let i = 1; i < ms.length; i++) {
      expect(ms[i].seq).toBe(ms[i - 1].seq + 1);
      // one message per topic every 1/50 s: the schedule's period, not when the timer happened to
      // fire late (a timer that fired early stamps the earlier time it really left)
      expect(Math.abs(ms[i].ts - ms[i - 1].ts - 20_000)).toBeLessThanOrEqual(EARLY_US);
    }
  });

  it('resumes with exactly the missed messages while they are in the ring', async () => {
    server = await startServer({ port: 0, ratePerS: 0, ringSize: 50 });
    const first = await sub('r', { since: 0 });
    for (let i = 1; i <= 5; i++) server.hub.publish('r', `a${i}`, i);
    await first.waitFor(5);
    await first.close();
    for (let i = 6; i <= 12; i++) server.hub.publish('r', `b${i}`, i);
    const last = first.messages[first.messages.length - 1];
    const again = await sub('r', { since: last.seq, epoch: last.epoch });
    await again.waitFor(7);
    server.hub.publish('r', 'c13', 13);
    await again.waitFor(8);
    expect([...first.messages, ...again.messages].map((m) => m.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(again.gaps).toEqual([]);
  });

  it('signals a gap explicitly when the missed messages left the ring', async () => {
    server = await startServer({ port: 0, ratePerS: 0, ringSize: 4 });
    for (let i = 1; i <= 10; i++) server.hub.publish('g', `m${i}`, i);
    const s = await sub('g', { since: 2, epoch: server.hub.epoch });
    await s.waitFor(4);
    expect(s.gaps).toEqual([{ type: 'gap', topic: 'g', epoch: server.hub.epoch, from: 3, to: 6 }]);
    expect(s.messages.map((m) => m.seq)).toEqual([7, 8, 9, 10]);
  });

  it('replays from the start of the ring, without a gap, to a client of another epoch', async () => {
    server = await startServer({ port: 0, ratePerS: 0, ringSize: 4 });
    for (let i = 1; i <= 6; i++) server.hub.publish('e', `m${i}`, i);
    const s = await sub('e', { since: 5, epoch: 'previous-run' });
    await s.waitFor(4);
    expect(s.messages.map((m) => m.seq)).toEqual([3, 4, 5, 6]);
    expect(s.messages[0].epoch).toBe(server.hub.epoch);
    expect(s.gaps).toEqual([]);
  });
});
