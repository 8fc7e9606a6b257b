/**
 * `pushbench run --socketio` on the command line: bad options listed at once (exit 2); a server
 * that does not speak Engine.IO refused in seconds with a sentence (exit 2); and a run against the
 * reference Socket.IO server started by its script (`npm run serve:socketio`), printing the
 * Engine.IO figures.
 *
 * Heavy: the Socket.IO server started by its script and a run against it through the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../servers/server.ts';
import { pushbench } from '../cli.ts';

const out = mkdtempSync(join(tmpdir(), 'pushbench-sio-'));

describe('run --socketio: bad input', () => {
  it('lists every misuse of the Socket.IO options at once', async () => {
    const r = await pushbench(['run', '--socketio', '--transport', 'ws', '--namespace', 'chat', '--event', 'connect', '--workload', 'chat', '--out', out]);
    expect(r.status).toBe(2);
    for (const problem of [
      '--socketio measures a Socket.IO server: give its address with --target URL',
      '--socketio takes a Socket.IO transport: --transport socketio-ws, socketio-polling, socketio-upgrade (got ws)',
      '--socketio publishes through the server\'s hook',
      '--namespace must start with /',
      '--event must be a name of your own',
    ]) expect(r.stderr).toContain(problem);
  });

  it('a Socket.IO transport or option without --socketio', async () => {
    const r = await pushbench(['run', '--transport', 'socketio-ws', '--event', 'news', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--transport socketio-ws speaks Socket.IO: it needs --socketio');
    expect(r.stderr).toContain('--namespace and --event describe a Socket.IO target: give --socketio too');
  });
});

describe('run --socketio: a server that does not speak Engine.IO', () => {
  let reference: RunningServer;
  let plain: http.Server;
  let plainUrl = '';

  beforeAll(async () => {
    reference = await startServer({ port: 0, ratePerS: 0 });
    // answers everything with 200 and a page, as many web servers' catch-all routes do
    plain = http.createServer((_req, res) => res.end('<html>hello</html>'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    plainUrl = `http://127.0.0.1:${(plain.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await reference?.close();
    plain?.closeAllConnections();
    await new Promise((resolve) => plain?.close(resolve));
  });

  // The run asks for 60 s; the probe (5 s at most) refuses the target before any load, so the
  // command ends well within 20 s (the probe's 5 s, the CLI's start, the publisher thread's load).
  const cases = [
    { name: 'the reference server, socketio-ws', url: () => reference.url, transport: 'socketio-ws', says: /expected a WebSocket upgrade at .*\/socket\.io\/\?EIO=4&transport=websocket \(got HTTP 404\)/ },
    { name: 'the reference server, socketio-polling', url: () => reference.url, transport: 'socketio-polling', says: /expected an Engine\.IO open packet .* \(got HTTP 404/ },
    { name: 'a plain HTTP server, socketio-upgrade', url: () => plainUrl, transport: 'socketio-upgrade', says: /expected an Engine\.IO open packet .* \(got "<html>hello<\/html>"\)/ },
  ];
  it.each(cases)('$name: exit 2 in seconds, with a sentence', async ({ url, transport, says }) => {
    const t0 = Date.now();
    const r = await pushbench(['run', '--target', url(), '--socketio', '--transport', transport, '--clients', '5', '--duration', '60s', '--warmup', '1s', '--no-report', '--out', out], 30_000);
    // a process ended by a signal (status null) says which, with its last words
    expect(r.status, `signal ${r.signal}; stderr: ${r.stderr.slice(-3000)}`).toBe(2);
    expect(r.stderr).toContain('the target does not answer as a Socket.IO server does');
    expect(r.stderr).toMatch(says);
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 30_000);
});

describe('run --socketio against npm run serve:socketio', () => {
  let child: ChildProcess;
  let url = '';

  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'servers/socketio/main.ts', '--namespace', '/live', '--event', 'tick'], { stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (s: string) => {
        const m = /listening on (http:\/\/\S+)/.exec(s);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve:socketio exited (${code})`)));
    });
  });
  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  it('prints the upgrade share and the Engine.IO figures', async () => {
    // 10 clients arrive in 10 ms and upgrade within the 0.5 s warm-up; 1 s measured at 10 msg/s
    const r = await pushbench(['run', '--target', url, '--socketio', '--namespace', '/live', '--event', 'tick', '--transport', 'socketio-upgrade',
      '--clients', '10', '--rate', '10', '--duration', '1.5s', '--warmup', '0.5s', '--no-report', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('socket.io /live "tick": 10 Engine.IO sessions');
    expect(r.stdout).toContain('upgrades to WebSocket: 10 (100.0 % of 10 clients), time p50');
    expect(r.stdout).toContain('loss per client: none');
  }, 30_000);
});
