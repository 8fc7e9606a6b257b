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

/**
 * Send raw bytes on a fresh TCP connection; resolve with what came back and whether the server
 * closed the connection within `waitMs` (`closed` false: it was still open when we gave up).
 */
function raw(bytes: Buffer | string, waitMs = 1500): Promise<{ answer: string; bytes: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const s: Socket = connect(server.port, '127.0.0.1');
    const parts: Buffer[] = [];
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      const all = Buffer.concat(parts);
      resolve({ answer: all.toString('latin1'), bytes: all, closed });
    };
    const timer = setTimeout(done, waitMs);
    s.on('data', (d: Buffer) => parts.push(d));
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
  // The server's header deadline is 500 ms, checked every 125 ms (servers/server.ts), and a socket
  // that sends nothing is dropped after 500 ms: whatever a client sends, the server has answered
  // and closed, or closed, well within the 1.5 s we wait.
  it('random bytes get a 4xx and a close, or a close, never a 2xx nor a connection left open', async () => {
    // Not a request line: the first byte cannot start a method (A-Z) nor the blank line before one.
    const notARequest = fc.uint8Array({ minLength: 1, maxLength: 2048 }).filter((b) => !(b[0] >= 0x41 && b[0] <= 0x5a) && b[0] !== 0x0d && b[0] !== 0x0a);
    await fc.assert(
      fc.asyncProperty(notARequest, async (bytes) => {
        const { answer, closed } = await raw(Buffer.from(bytes));
        expect(closed).toBe(true);
        if (answer) expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
      }),
      { numRuns: 40 },
    );
    // A valid request line, then random bytes where the headers belong: refused (400), or held
    // until the header deadline (408) when the bytes never end the headers.
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 512 }), async (bytes) => {
        const { answer, closed } = await raw(Buffer.concat([Buffer.from('GET /poll?topic=t0 HTTP/1.1\r\n'), Buffer.from(bytes)]));
        expect(closed).toBe(true);
        if (answer) expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
      }),
      { numRuns: 15 },
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

  it('closes a WebSocket that sends invalid frames with 1002 (protocol error), and keeps serving', async () => {
    const key = Buffer.from('pushbench-fuzz-1').toString('base64');
    const upgrade = `GET /ws?topic=t0 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const closeFrame1002 = Buffer.from([0x88, 0x02, 0x03, 0xea]);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 2, maxLength: 64 }), async (frame) => {
        // An unmasked frame from a client is a protocol error whatever its content (RFC 6455
        // 5.1), and the server sees it in the frame's first two bytes.
        const bytes = Buffer.from(frame);
        bytes[1] &= 0x7f;
        const r = await raw(Buffer.concat([Buffer.from(upgrade), bytes]));
        expect(r.answer).toMatch(/^HTTP\/1\.1 101 /);
        // its last words are a close frame with status 1002, then the connection is gone
        expect(r.bytes.subarray(-4).toString('hex')).toBe(closeFrame1002.toString('hex'));
        expect(r.closed).toBe(true);
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
