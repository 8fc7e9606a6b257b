/**
 * `serve --server-cpu-limit`: the server process in a limit cgroup, removed when it exits; a
 * limited run interrupted with Ctrl-C removes its cgroup too.
 * `run --server-cpu-limit` and `--reconnect-delay`/`--reconnect-jitter` end to end: the reference
 * server and the one a restart fault starts in its place are both in the limit's cgroup, which is
 * gone when the run ends; the record states the limit and the backoff; the clients' first
 * reconnect waits the delay asked. Bad values are refused with exit code 2, all listed. Needs a
 * writable cpu cgroup (root here).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuHierarchy } from '../../core/cpu-limit.ts';
import { GENERATOR_V8_FLAGS } from '../../core/tsx.ts';
import { runOnce } from '../../load/runner.ts';
import { BIN, pushbench } from '../cli.ts';
import { runSettings } from './settings.ts';

const CLIENTS = 20;
const DELAY_MS = 300;

/** This process's limit cgroups (core/cpu-limit.ts names them pushbench-<pid>-<n>). */
function ownCgroups(): string[] {
  const h = cpuHierarchy();
  if (typeof h === 'string') throw new Error(h);
  return readdirSync(h.parent).filter((d) => d.startsWith(`pushbench-${process.pid}-`)).map((d) => join(h.parent, d));
}

describe('run --server-cpu-limit', () => {
  it('holds the server and its restart in a cgroup removed at the end; the first reconnect waits --reconnect-delay', async () => {
    const s = runSettings('ws', ['--clients', String(CLIENTS), '--duration', '2500ms', '--warmup', '500ms', '--rate', '10',
      '--server-cpu-limit', '0.5', '--reconnect-delay', `${DELAY_MS}ms`, '--reconnect-jitter', '0', '--fault', 'restart-server@1s']);
    const serverPids = new Set<number>();
    const inCgroup = new Set<number>();
    const poll = setInterval(() => {
      for (const dir of ownCgroups()) {
        try {
          for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) inCgroup.add(Number(pid));
        } catch {
          // removed between the listing and the read
        }
      }
    }, 50);
    const log = (line: string) => {
      const m = /^server: pid (\d+)/.exec(line) ?? /restarted as pid (\d+)/.exec(line);
      if (m) serverPids.add(Number(m[1]));
    };
    let r;
    try {
      r = await runOnce(s, { log });
    } finally {
      clearInterval(poll);
    }
    const restarted = /restarted as pid (\d+)/.exec(r.faults![0].injected);
    if (restarted) serverPids.add(Number(restarted[1]));
    expect(serverPids.size).toBe(2);
    for (const pid of serverPids) expect(inCgroup.has(pid)).toBe(true);
    expect(ownCgroups().filter(existsSync)).toEqual([]);
    expect(r.config.serverCpuLimit).toBe(0.5);
    expect(r.config.reconnectDelayMs).toBe(DELAY_MS);
    expect(r.config.reconnectJitter).toBe(0);
    const [fault] = r.faults!;
    expect(fault.reconnectUs.count).toBe(CLIENTS);
    // with no jitter every client's first attempt comes DELAY_MS after it saw the server go
    expect(fault.reconnectUs.p50).toBeGreaterThanOrEqual(DELAY_MS * 1000);
  }, 20_000);

  it('Ctrl-C of a limited run: exit 130, the cgroup removed', async () => {
    const child = spawn(process.execPath, [...GENERATOR_V8_FLAGS, BIN, 'run', '--transport', 'ws', '--clients', '10', '--duration', '30s', '--warmup', '500ms',
      '--server-cpu-limit', '0.5', '--out', mkdtempSync(join(tmpdir(), 'pushbench-limit-')), '--no-report'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let text = '';
      const logged = new Promise<string>((resolve) => {
        const hear = (d: Buffer) => {
          text += d.toString();
          const m = /limited to 0.5 CPU \(cgroup v\d (\S+)\)/.exec(text);
          if (m) resolve(m[1]);
        };
        child.stdout.on('data', hear);
        child.stderr.on('data', hear);
      });
      const dir = await logged;
      expect(existsSync(dir)).toBe(true);
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(130);
      expect(existsSync(dir)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);

  it('serve --server-cpu-limit runs the server in a cgroup of that quota and removes it at exit', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--server-cpu-limit', '0.25'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [first] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      expect(first).toMatch(/^pushbench listening on http:/);
      // cgroup v1: "N:cpu:/pushbench-<pid>-0"; v2: "0::/pushbench-<pid>-0"
      const line = readFileSync(`/proc/${child.pid}/cgroup`, 'utf8').split('\n').find((l) => /:(cpu(,cpuacct)?)?:\/pushbench-/.test(l));
      expect(line).toMatch(new RegExp(`/pushbench-${child.pid}-0$`));
      const h = cpuHierarchy();
      if (typeof h === 'string') throw new Error(h);
      const dir = join(h.parent, `pushbench-${child.pid}-0`);
      expect(existsSync(dir)).toBe(true);
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.kill('SIGTERM');
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      expect({ code, signal, left: existsSync(dir), stderr }).toEqual({ code: 0, signal: null, left: false, stderr: expect.any(String) as string });
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);

  it('refuses bad limits and backoffs with exit code 2, listing every problem', async () => {
    const res = await pushbench(['run', '--transport', 'ws', '--target', 'http://127.0.0.1:9', '--server-cpu-limit', '0.25',
      '--reconnect-delay', '0', '--reconnect-jitter', '100%']);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/--server-cpu-limit limits the reference server pushbench starts, not a --target/);
    expect(res.stderr).toMatch(/--reconnect-delay must be at least 1/);
    expect(res.stderr).toMatch(/--reconnect-jitter must be at most/);
    const small = await pushbench(['run', '--transport', 'ws', '--server-cpu-limit', '0.001', '--server-cpus', '0']);
    expect(small.status).toBe(2);
    expect(small.stderr).toMatch(/--server-cpu-limit must be at least 0.01/);
    const serve = await pushbench(['serve', '--server-cpu-limit', '1000']);
    expect(serve.status).toBe(2);
    expect(serve.stderr).toMatch(/--server-cpu-limit 1000 is more than the \d+ CPU/);
  }, 20_000);
});
