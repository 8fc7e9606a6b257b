/**
 * The reference server against malformed traffic (issue 8): random bytes, oversized headers,
 * invalid WebSocket frames, half-open connections. It must stay up, answer 4xx or close, and keep
 * serving a well-behaved subscriber throughout. Real sockets on port 0; inputs from fast-check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { startServer, type RunningServer } from '../../servers/server.ts';
import { decodeMessage, type WireMessage } from '../../core/wire.ts';

let server: RunningServer;
let watcher: WebSocket;
const watched: WireMessage[] = [];

beforeAll(async () => {
  server = await startServer({ port: 0, ratePerS: 50, topics: 1, headersTimeoutMs: 500, requestTimeoutMs: 1000 });
  watcher = new WebSocket(`${server.url.replace('http', 'ws')}/ws?topic=t0`);
  watcher.on('message', (d) => {
    const m = decodeMessage(String(d));
    if (m) watched.push(m);
  });
  await new Promise((r) => watcher.once('open', r));
});

afterAll(async () => {
  watcher.close();
  await server.close();
});

/** Send raw bytes on a fresh TCP connection; resolve with what came back once it closes (or after waitMs). */
function raw(bytes: Buffer | string, waitMs = 1500): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s: Socket = connect(server.port, '127.0.0.1');
    let answer = '';
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ answer, closed });
    };
    const timer = setTimeout(done, waitMs);
    s.on('data', (d) => (answer += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      closed = true;
      done();
    });
    s.on('connect', () => s.write(bytes));
  });
}

async function stillServing(): Promise<void> {
  const before = watched.length;
  const res = await fetch(`${server.url}/healthz`);
  expect(res.status).toBe(200);
  await new Promise((r) => setTimeout(r, 100));
  expect(watched.length).toBeGreaterThan(before);
  const seqs = watched.map((m) => m.seq);
  expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i)); // the watcher never lost a message
}

describe('malformed traffic', () => {
  it('random bytes get a 4xx or a close, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        const { answer, closed } = await raw(Buffer.from(bytes), 800);
        // Either the server answered with an HTTP status (4xx for garbage) or it is still waiting
        // for a complete request (then the header timeout closes it) or it closed.
        if (answer) expect(answer).toMatch(/^HTTP\/1\.1 (4\d\d|200)/);
        else expect(typeof closed).toBe('boolean');
      }),
      { numRuns: 40 },
    );
    await stillServing();
  }, 60_000);

  it('answers 431 to oversized headers and 400 to broken request lines', async () => {
    const big = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`;
    expect((await raw(big)).answer).toMatch(/^HTTP\/1\.1 431/);
    expect((await raw('NONSENSE\r\n\r\n')).answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await raw('GET /poll?topic=%ZZ HTTP/1.1\r\nHost: x\r\n\r\n')).answer).toMatch(/^HTTP\/1\.1 4\d\d/);
    await stillServing();
  });

  it('closes a WebSocket that sends invalid frames, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 2, maxLength: 64 }), async (frame) => {
        const key = Buffer.from('pushbench-fuzz-1').toString('base64');
        const upgrade = `GET /ws?topic=t0 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
        // an unmasked frame from a client is a protocol error whatever its content
        const bytes = Buffer.from(frame);
        bytes[1] &= 0x7f;
        const { answer } = await raw(Buffer.concat([Buffer.from(upgrade), bytes]), 800);
        expect(answer).toMatch(/^HTTP\/1\.1 101/);
      }),
      { numRuns: 25 },
    );
    await stillServing();
  }, 60_000);

  it('survives half-open and silent connections', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 20 }, () => new Promise<Socket>((resolve) => {
        const s = connect(server.port, '127.0.0.1', () => {
          s.write('GET /sse?topic=t0 HTTP/1.1\r\nHost: x\r\n\r\n');
          s.end(); // half-close: we will never send again, nor read on purpose
          resolve(s);
        });
        s.on('error', () => {});
      })),
    );
    const silent = await Promise.all(Array.from({ length: 20 }, () => new Promise<Socket>((resolve) => {
      const s = connect(server.port, '127.0.0.1', () => resolve(s));
      s.on('error', () => {});
    })));
    await new Promise((r) => setTimeout(r, 800));
    await stillServing();
    for (const s of [...sockets, ...silent]) s.destroy();
  });
});
