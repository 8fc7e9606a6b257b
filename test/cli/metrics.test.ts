/**
 * `--metrics-port` as a user meets it: a real `pushbench run` process serving its metrics while it
 * runs, exit 2 for a port it cannot have (listed with the other problems), and no port left
 * behind after Ctrl-C or the end of the run.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATOR_V8_FLAGS } from '../../core/tsx.ts';
import { BIN, pushbench } from '../cli.ts';
import { checkExposition, valueOf } from '../fixtures/exposition.ts';

const out = mkdtempSync(join(tmpdir(), 'pushbench-metrics-cli-'));

/** A port of 127.0.0.1 held by a listener of this process until `close()`. */
async function heldPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, server };
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const { port, server } = await heldPort();
  await new Promise((r) => server.close(r));
  return port;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

describe('pushbench run --metrics-port', () => {
  it('exits 2 for a port out of range, listing every problem', async () => {
    const r = await pushbench(['run', '--transport', 'ws', '--metrics-port', '70000', '--clients', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--metrics-port must be at most 65535 \(got 70000\)/);
    expect(r.stderr).toMatch(/--clients must be at least 1/);
  });

  it('exits 2 for a port in use and for a malformed --metrics, before any work', async () => {
    const held = await heldPort();
    try {
      const r = await pushbench(['run', '--transport', 'ws', '--metrics', `127.0.0.1:${held.port}`, '--clients', '0', '--out', out]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`port ${held.port} is in use`);
      expect(r.stderr).toMatch(/--clients must be at least 1/);
      const bad = await pushbench(['run', '--transport', 'ws', '--metrics', 'localhost', '--out', out]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/--metrics must be \[HOST\]:PORT/);
      const both = await pushbench(['run', '--transport', 'ws', '--metrics', ':9464', '--metrics-port', '9464', '--out', out]);
      expect(both.status).toBe(2);
      expect(both.stderr).toContain('not both');
    } finally {
      held.server.close();
    }
  });

  it('serves metrics while the run goes on and frees the port on Ctrl-C', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [...GENERATOR_V8_FLAGS, BIN, 'run', '--transport', 'sse', '--clients', '100', '--duration', '20s', '--warmup', '500ms',
      '--rate', '5', '--metrics', `127.0.0.1:${port}`, '--no-report', '--out', out, '--name', 'metrics-cli'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.resume();
    const exited = once(child, 'exit');
    try {
      expect(stdout === '' || stdout.startsWith('metrics: ')).toBe(true);
      // Scrape until the window is being measured and deliveries are counted (≤ 15 s: ramp and warm-up take 0.5 s).
      let delivered = 0;
      const deadline = Date.now() + 15_000;
      while (delivered === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null);
        if (!res) continue;
        const x = checkExposition(await res.text());
        delivered = valueOf(x, 'pushbench_deliveries_total', { run: 'metrics-cli' });
      }
      expect(stdout).toContain(`metrics: http://127.0.0.1:${port}/metrics`);
      expect(delivered).toBeGreaterThan(0);
      child.kill('SIGINT');
      const [code] = await exited;
      expect(code).toBe(130);
      expect(await refused(port)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('frees the port when the run ends', async () => {
    const port = await freePort();
    const r = await pushbench(['run', '--transport', 'ws', '--clients', '20', '--duration', '1500ms', '--warmup', '500ms', '--metrics', `127.0.0.1:${port}`, '--no-report', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`metrics: http://127.0.0.1:${port}/metrics`);
    expect(await refused(port)).toBe(true);
  });
});
