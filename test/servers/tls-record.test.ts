/**
 * `--tls-record-size` (servers/server.ts): the reference server writes TLS records of at most the
 * given size. A TLS client's reads show it: each read hands over at most one record's plaintext,
 * so with 1 KB records an 8 KB SSE message arrives in reads of 1 KB or less, and with Node's
 * default 16 KB records in one read of the whole message. And `run --tls-record-size`: recorded
 * in the config; refused without --tls, with a --target, or outside 512 B–16 KB.
 */
import { rmSync } from 'node:fs';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { newTlsFolder } from '../../core/tls.ts';
import { runOnce } from '../../load/runner.ts';
import { startServer } from '../../servers/server.ts';
import { pushbench } from '../cli.ts';
import { expectCleanRun, runSettings } from '../load/settings.ts';

const PAYLOAD = 8192;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The sizes of the reads an SSE subscription over TLS gets until `bytes` have come, from a reference server with `tlsRecordBytes`. */
async function readSizes(tlsRecordBytes: number, bytes: number): Promise<number[]> {
  const { dir, material } = await newTlsFolder();
  dirs.push(dir);
  const server = await startServer({ port: 0, host: '127.0.0.1', ratePerS: 20, payloadBytes: PAYLOAD, tlsDir: dir, tlsRecordBytes });
  try {
    const { port } = new URL(server.url);
    return await new Promise<number[]>((resolve, reject) => {
      const sizes: number[] = [];
      let got = 0;
      const socket = tls.connect({ host: '127.0.0.1', port: Number(port), ca: material.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => {
        socket.write(`GET /sse?topic=t0 HTTP/1.1\r\nhost: localhost\r\naccept: text/event-stream\r\n\r\n`);
      });
      socket.on('data', (b: Buffer) => {
        sizes.push(b.length);
        got += b.length;
        if (got >= bytes) {
          socket.destroy();
          resolve(sizes);
        }
      });
      socket.on('error', reject);
    });
  } finally {
    await server.close();
  }
}

describe('--tls-record-size', () => {
  it('the server writes records of at most the size: 1 KB reads of an 8 KB message, against one read by default', async () => {
    // three messages' worth past the response head
    const small = await readSizes(1024, 3 * PAYLOAD);
    expect(Math.max(...small)).toBeLessThanOrEqual(1024);
    const whole = await readSizes(0, 3 * PAYLOAD);
    expect(Math.max(...whole)).toBeGreaterThan(PAYLOAD);
  });

  it('run: recorded in the config, the run valid', async () => {
    const r = await runOnce(runSettings('sse', ['--tls', '--tls-record-size', '4KB', '--clients', '10', '--duration', '1500ms', '--warmup', '500ms', '--rate', '10', '--payload', '8KB']));
    expectCleanRun(r, 1, 10, 10);
    expect(r.config.tlsRecordBytes).toBe(4096);
  });

  it('run: refused without --tls, with a --target, or outside 512 B–16 KB, every problem listed (exit 2)', async () => {
    const a = await pushbench(['run', '--transport', 'sse', '--tls-record-size', '4KB', '--target', 'http://127.0.0.1:9', '--clients', '1']);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('--tls-record-size sets the reference server\'s TLS records: it needs --tls and no --target');
    const b = await pushbench(['run', '--transport', 'sse', '--tls', '--tls-record-size', '100', '--clients', '1']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--tls-record-size.*512/);
  });
});
