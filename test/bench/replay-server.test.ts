/**
 * bench/replay-server.ts: the generator-bound short-poll comparison's server. It must answer each
 * request exactly once whatever the reads look like, with the reference server's bytes as captured,
 * and a pushbench short-poll client must read those answers as the reference server's own.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'undici';
import { RequestEnds, captureAnswer, replayServer } from '../../bench/replay-server.ts';
import { startServer, type RunningServer } from '../../servers/server.ts';
import { Cursor } from '../../load/drivers/cursor.ts';
import { EventLog } from '../load/drivers/helpers.ts';

const REQUEST = 'GET /poll?topic=t0 HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n\r\n';

describe('RequestEnds', () => {
  it('counts each request once however the bytes are split', () => {
    const stream = Buffer.from(REQUEST.repeat(5) + 'GET / HTTP/1.1\r\n\r\r\n\r\n');
    for (let cut1 = 0; cut1 <= stream.length; cut1 += 7) {
      for (let cut2 = cut1; cut2 <= stream.length; cut2 += 13) {
        const ends = new RequestEnds();
        const n = ends.count(stream.subarray(0, cut1)) + ends.count(stream.subarray(cut1, cut2)) + ends.count(stream.subarray(cut2));
        expect(n).toBe(6);
      }
    }
    const bytewise = new RequestEnds();
    let n = 0;
    for (const b of stream) n += bytewise.count(Uint8Array.of(b));
    expect(n).toBe(6);
    expect(new RequestEnds().count(Buffer.from('GET / HTTP/1.1\r\n\n\r\n'))).toBe(0);
  });
});

describe('the replay server', () => {
  let reference: RunningServer;
  beforeAll(async () => {
    reference = await startServer({ port: 0, ratePerS: 0 });
  });
  afterAll(() => reference.close());

  it("captures the reference server's answer and serves it to every request, pipelined or not", async () => {
    const answer = await captureAnswer(reference.url, '/poll?topic=t0');
    const text = answer.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(Number(/content-length: (\d+)/i.exec(text)![1])).toBe(body.length);
    expect(JSON.parse(body)).toMatchObject({ next: 0, gap: false, messages: [] });

    const server = await replayServer(answer);
    const { port } = server.address() as AddressInfo;
    try {
      // through undici, one request at a time on one keep-alive connection
      const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 1 });
      for (let i = 0; i < 20; i++) {
        const res = await client.request({ method: 'GET', path: '/poll?topic=t0&since=0&epoch=x' });
        expect(res.statusCode).toBe(200);
        expect(await res.body.text()).toBe(body);
      }
      await client.close();
      // ten requests in one write: ten answers, nothing more
      const raw = net.connect(port, '127.0.0.1');
      const got: Buffer[] = [];
      raw.on('data', (c: Buffer) => got.push(c));
      raw.write(REQUEST.repeat(10));
      await new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          if (Buffer.concat(got).length >= 10 * answer.length) {
            clearInterval(check);
            resolve();
          }
        }, 10);
        setTimeout(() => reject(new Error('ten answers did not arrive')), 3000).unref();
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(Buffer.concat(got).equals(Buffer.concat(Array.from({ length: 10 }, () => answer)))).toBe(true);
      raw.destroy();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("a pushbench cursor reads the replayed answer as the reference server's: empty, in the same epoch", async () => {
    const first = await (await fetch(`${reference.url}/poll?topic=t0`)).text();
    const events = new EventLog();
    const cursor = new Cursor(events);
    expect(cursor.answer(first, 0)).toBe(true);
    const path = `/poll?topic=t0${cursor.query()}`;
    const answer = await captureAnswer(reference.url, path);
    const body = answer.subarray(answer.indexOf('\r\n\r\n') + 4);
    // the byte path (no JSON.parse) accepts it: the exact form the reference server writes
    expect(cursor.answerBytes(body, 0)).toBe(true);
    expect(events.errors).toEqual([]);
  });
});
