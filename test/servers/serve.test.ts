/**
 * `pushbench serve` as its own process: the listening line first, a prompt exit on SIGTERM with
 * streams open, every bad option listed (exit 2), and --help documenting every option.
 *
 * Heavy: each case starts the server through tsx's loader, which transpiles its sources.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DEFAULT_SERVER_OPTIONS } from '../../servers/server.ts';
import { serveHelp } from '../../servers/serve.ts';
import { sleep, until } from './helpers.ts';

const SERVE = fileURLToPath(new URL('../../servers/serve.ts', import.meta.url));

function serve(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((r) => child.once('exit', (code) => r({ code, at: performance.now() })));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

describe('pushbench serve', () => {
  it('prints the listening line first, serves, and exits promptly on SIGTERM with streams open', async () => {
    const s = serve(['--port', '0', '--rate', '20', '--payload', '1KB', '--topics', '3', '--heartbeat', '60000']);
    try {
      await until(() => s.stdout().includes('\n'), 'the first line', 20_000);
      const first = s.stdout().split('\n')[0];
      expect(first).toMatch(/^pushbench listening on http:\/\/127\.0\.0\.1:\d+$/);
      const url = first.slice('pushbench listening on '.length);
      expect(Number(new URL(url).port)).toBeGreaterThan(0);
      let data: string[] = [];
      for (let i = 0; i < 50 && data.length === 0; i++) {
        const poll = (await (await fetch(`${url}/poll?topic=t2&since=0`)).json()) as { messages: { data: string }[] };
        data = poll.messages.map((m) => m.data);
        if (data.length === 0) await sleep(20);
      }
      expect(data[0].length).toBe(1024);
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?topic=t0`);
      const wsClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      await new Promise((r) => ws.once('open', r));
      const sse = request(`${url}/sse?topic=t1`);
      sse.on('error', () => {});
      await new Promise((r) => sse.once('response', r).end());
      const t0 = performance.now();
      s.child.kill('SIGTERM');
      const { code, at } = await s.exited;
      expect(code).toBe(0);
      expect(at - t0).toBeLessThan(2500);
      expect(await wsClosed).toBe(1001);
      sse.destroy();
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('lists every bad option at once and exits 2 without starting', async () => {
    const s = serve(['--port', 'eighty', '--rate', '-3', '--payload', '2XB', '--ring', '0', '--tls-record-size', '100', '--nope', '--delay']);
    const { code } = await s.exited;
    expect(code).toBe(2);
    expect(s.stdout()).toBe('');
    for (const bit of ['--port "eighty"', '--rate "-3"', '--payload "2XB"', '--ring must be', '--tls-record-size sizes TLS records: it needs --tls', '--tls-record-size must be 0 (Node\'s 16 KB) or an integer from 512 to 16384', 'unknown option --nope', '--delay needs a value']) {
      expect(s.stderr()).toContain(bit);
    }
  });

  it('documents every option with its default in --help', () => {
    const help = serveHelp();
    for (const flag of ['--port', '--host', '--rate', '--payload', '--topics', '--ring', '--delay', '--max-connections', '--max-body', '--max-ws-payload', '--send-buffer', '--headers-timeout', '--idle-timeout']) {
      expect(help).toMatch(new RegExp(`^  ${flag} .*\\(default [^)]+\\)$`, 'm'));
    }
    expect(help).toContain(`(default ${DEFAULT_SERVER_OPTIONS.port})`);
    expect(help).toContain(`(default ${DEFAULT_SERVER_OPTIONS.host})`);
  });
});
