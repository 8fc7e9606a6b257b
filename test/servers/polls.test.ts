/**
 * Runs alone: poll answer times bounded in ms.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../servers/server.ts';
import type { PollAnswer } from '../../core/wire.ts';
import { sleep } from './helpers.ts';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function getJson(path: string): Promise<{ status: number; body: PollAnswer; ms: number; type: string | null }> {
  const t0 = performance.now();
  const res = await fetch(server!.url + path);
  const body = (await res.json()) as PollAnswer;
  return { status: res.status, body, ms: performance.now() - t0, type: res.headers.get('content-type') };
}

describe('short poll', () => {
  it('answers at once, empty or not, with the next cursor', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const empty = await getJson('/poll?topic=q&since=0');
    expect(empty.status).toBe(200);
    expect(empty.type).toBe('application/json');
    expect(empty.body).toEqual({ epoch: server.hub.epoch, next: 0, gap: false, messages: [] });
    expect(empty.ms).toBeLessThan(500);
    server.hub.publish('q', 'a', 1);
    server.hub.publish('q', 'b', 2);
    const two = await getJson('/poll?topic=q&since=0');
    expect(two.body.messages.map((m) => m.data)).toEqual(['a', 'b']);
    expect(two.body.next).toBe(2);
    expect((await getJson('/poll?topic=q')).body).toEqual({ epoch: server.hub.epoch, next: 2, gap: false, messages: [] });
  });
});

describe('long poll', () => {
  it('holds until a message arrives, then answers with it', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const pending = getJson('/long-poll?topic=l&since=0&timeout=5000');
    await sleep(300);
    const publishedAt = performance.now();
    server.hub.publish('l', 'late', 7);
    const r = await pending;
    expect(r.ms).toBeGreaterThanOrEqual(290);
    expect(performance.now() - publishedAt).toBeLessThan(1000);
    expect(r.body.messages.map((m) => [m.seq, m.ts, m.data])).toEqual([[1, 7, 'late']]);
    expect(r.body.next).toBe(1);
  });

  it('answers at once when messages newer than since exist', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    server.hub.publish('l', 'a', 1);
    server.hub.publish('l', 'b', 2);
    const r = await getJson('/long-poll?topic=l&since=0&timeout=5000');
    expect(r.ms).toBeLessThan(500);
    expect(r.body.messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('answers empty at its timeout, clamped to maxLongPollTimeoutMs', async () => {
    server = await startServer({ port: 0, ratePerS: 0, maxLongPollTimeoutMs: 400 });
    const own = await getJson('/long-poll?topic=l&since=0&timeout=200');
    expect(own.body).toEqual({ epoch: server.hub.epoch, next: 0, gap: false, messages: [] });
    expect(own.ms).toBeGreaterThanOrEqual(190);
    expect(own.ms).toBeLessThan(390);
    const clamped = await getJson('/long-poll?topic=l&since=0&timeout=60000');
    expect(clamped.body.messages).toEqual([]);
    expect(clamped.ms).toBeGreaterThanOrEqual(390);
    expect(clamped.ms).toBeLessThan(2000);
  });

  it('is answered (empty, connection closed) when the server closes', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const pending = getJson('/long-poll?topic=l&since=0&timeout=30000');
    await sleep(200);
    const t0 = performance.now();
    await server.close();
    const r = await pending;
    expect(r.body.messages).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
