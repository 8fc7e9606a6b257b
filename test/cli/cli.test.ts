/**
 * The command line as a user meets it: a real `pushbench` process, its exit codes, its messages,
 * and what it leaves behind after Ctrl-C.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, pushbench as cli } from '../cli.ts';
import { GENERATOR_V8_FLAGS, generatorGcMode } from '../../core/tsx.ts';
import { DEFAULT_GC_NOTE } from '../../load/runner.ts';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function pushbench(args: string[], timeoutMs = 30_000, nodeFlags?: readonly string[]) {
  const r = await cli(args, timeoutMs, nodeFlags);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('pushbench CLI', () => {
  it('lists every bad option at once and exits 2', async () => {
    const r = await pushbench(['run', '--transport', 'carrier-pigeon', '--clients', '0', '--duration', 'soon', '--warmup', '40s', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--transport must be one of ws, sse, long-poll, short-poll/);
    expect(r.stderr).toMatch(/--clients must be at least 1/);
    expect(r.stderr).toMatch(/--duration must be a duration/);
    expect(r.stderr).toMatch(/unknown option --bogus/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // a sentence, not a stack
  });

  it('refuses a run that exceeds the open-files limit before starting', async () => {
    const r = await pushbench(['run', '--transport', 'ws', '--clients', '50000', '--arrival-rate', '50000/s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/open files/);
  });

  it('names an unknown command and shows the commands', async () => {
    const r = await pushbench(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
    expect(r.stderr).toMatch(/run\s+measure one transport/);
  });

  it('prints its version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const r = await pushbench(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`pushbench ${pkg.version}`);
    // every script that generates load runs it with the generator's V8 flags, as does the bin
    const flags = `node ${GENERATOR_V8_FLAGS.join(' ')} `;
    for (const name of ['start', 'bench:generator', 'bench:capacity', 'bench:servers', 'bench:soak', 'bench:decode']) expect(pkg.scripts[name].startsWith(flags), `${name}: ${pkg.scripts[name]}`).toBe(true);
    expect(readFileSync(new URL('../../bin/pushbench.js', import.meta.url), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S ${flags.trim()}`);
  });

  it('says so, in its log and the result, when node runs without the generator\'s V8 flags', async () => {
    // the test files themselves run with them (vitest.config.ts), as the generator does
    expect(generatorGcMode()).toBe('single-threaded');
    const out = mkdtempSync(join(tmpdir(), 'pushbench-gc-'));
    const r = await pushbench(['run', '--transport', 'ws', '--clients', '20', '--duration', '1500ms', '--warmup', '500ms', '--rate', '5', '--out', out, '--name', 'plain-node', '--no-report'], 30_000, []);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(DEFAULT_GC_NOTE);
    const record = JSON.parse(readFileSync(join(out, 'plain-node.json'), 'utf8'));
    expect(record.environment.generatorGc).toBe('default');
    expect(record.notes).toEqual([DEFAULT_GC_NOTE]);
    expect(record.valid).toBe(true);
  });

  it('documents run\'s options in --help', async () => {
    const r = await pushbench(['run', '--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--transport', '--clients', '--duration', '--warmup', '--rate', '--payload', '--workload', '--poll-interval', '--arrival-rate', '--target', '--server-cpus', '--load-cpus', '--out', '--name']) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('fails within 5 s with a sentence when --target is unreachable', async () => {
    // a port that was free a moment ago: nothing listens there
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const out = mkdtempSync(join(tmpdir(), 'pushbench-cli-'));
    const t0 = Date.now();
    const r = await pushbench(['run', '--transport', 'sse', '--target', `http://127.0.0.1:${port}`, '--clients', '10', '--duration', '5s', '--out', out]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach the target http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('Ctrl-C writes a partial result marked incomplete and leaves no process behind', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-int-'));
    // Started as a user starts it: the executable itself, through its shebang.
    const child = spawn(BIN, ['run', '--transport', 'ws', '--clients', '50', '--duration', '30s', '--warmup', '500ms', '--rate', '5', '--out', out, '--name', 'interrupted', '--no-report'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // the server's line comes before the run's clock starts, the first progress line once it has
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no first progress line: ${stderr}`)), 20_000);
      child.stderr.on('data', () => {
        if (/^\[\s*\d+s\/\d+s\]/m.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const serverPid = Number(/server: pid (\d+)/.exec(stderr)?.[1]);
    expect(serverPid).toBeGreaterThan(0);
    // 1 s past the first progress line is half a second into the measured window after the 0.5 s
    // warm-up, however late the setup before it: 50 clients × 5 msg/s there deliver ~125 messages
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    const file = join(out, 'interrupted.json');
    expect(existsSync(file)).toBe(true);
    const record = JSON.parse(readFileSync(file, 'utf8'));
    expect(record.complete).toBe(false);
    expect(record.valid).toBe(false);
    expect(record.invalidReasons.join(' ')).toMatch(/interrupted/);
    expect(record.summary.delivered).toBeGreaterThan(0);
    // the shebang's V8 flags reached the generator (core/tsx.ts GENERATOR_V8_FLAGS)
    expect(record.environment.generatorGc).toBe('single-threaded');
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(processAlive(serverPid)).toBe(false);
  }, 60_000);
});
