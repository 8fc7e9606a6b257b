/**
 * What a run leaves behind, read from /proc: the processes of a process group, the TCP ports they
 * listen on, this process's threads. A command under test runs in a process group of its own
 * (spawned detached), so everything it starts — the reference server (through taskset), its
 * cluster workers, the latency proxy — is found by group, whatever the command prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { BIN } from '../cli.ts';

/** Processes whose process group is `pgid` (zombies excluded: they hold nothing). */
export function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // after "(comm) ": state=0, ppid=1, pgrp=2
      if (Number(f[2]) === pgid && f[0] !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** TCP ports in LISTEN state on sockets that any of `pids` holds open. */
export function listeningPorts(pids: readonly number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m) inodes.add(m[1]);
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // gone meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address=1 (hex ip:port), st=3 (0A = LISTEN), inode=9
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) ports.add(parseInt(f[1].split(':')[1], 16));
    }
  }
  return [...ports];
}

/** Whether process `pid` exists (signal 0 probes without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `port` on 127.0.0.1 can be listened on now (nothing holds it). */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Threads of this process (the vitest worker): piscina worker threads show up here. */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

/** Resolve when `cond()` holds, checked every 50 ms; false after `timeoutMs`. */
export async function eventually(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * `pushbench ...args` in a process group of its own, watched: every 100 ms the group's members
 * and their listening ports are added to `seen`, so what existed at any moment is known after
 * the command ended. Killed (the whole group) after `timeoutMs`.
 */
export function watchedPushbench(args: string[], timeoutMs = 40_000) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pgid = child.pid!;
  const seen = { pids: new Set<number>(), ports: new Set<number>() };
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const watch = setInterval(() => {
    const pids = processGroup(pgid);
    for (const p of pids) seen.pids.add(p);
    for (const p of listeningPorts(pids)) seen.ports.add(p);
  }, 100);
  const killer = setTimeout(() => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, timeoutMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      clearTimeout(killer);
      resolve({ code, signal });
    });
  });
  return {
    pgid,
    seen,
    stdout: () => stdout,
    stderr: () => stderr,
    signal: (sig: NodeJS.Signals) => child.kill(sig),
    exited,
    /** Resolve once stderr matches `re` (rejects after `timeoutMs`). */
    async waitFor(re: RegExp, ms = 25_000): Promise<RegExpExecArray> {
      let m: RegExpExecArray | null = null;
      if (!(await eventually(() => (m = re.exec(stderr)) !== null, ms))) throw new Error(`stderr never matched ${re}:\n${stderr}`);
      return m!;
    },
  };
}

/**
 * After a command ended: nothing of its process group may be alive, and every port any of it
 * listened on must be free. Waits up to 3 s for the group to go (a child's exit is reported a
 * moment after its parent's). Returns what is left, for an `expect(...).toEqual` that names it.
 */
export async function leftAfter(w: ReturnType<typeof watchedPushbench>): Promise<{ processes: number[]; boundPorts: number[] }> {
  await eventually(() => processGroup(w.pgid).length === 0, 3000);
  const boundPorts: number[] = [];
  for (const port of w.seen.ports) if (!(await canBind(port))) boundPorts.push(port);
  return { processes: processGroup(w.pgid), boundPorts };
}
