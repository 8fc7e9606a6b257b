/**
 * CPU and memory of a process (or this one) from /proc, for the server, the proxy and the
 * generator. Linux only; elsewhere every reading is `null` ("unknown"), never zero.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const CLK_TCK_US = 10_000; // USER_HZ = 100 on Linux
const PAGE_BYTES = 4096;

export interface ProcSample {
  /** user + system CPU time since the process started, µs (10 ms resolution) */
  cpuUs: number;
  rssBytes: number;
  /** open file descriptors; null when not asked for ({@link SampleOptions.fds}) or unreadable */
  fds: number | null;
}

export interface SampleOptions {
  /**
   * count open file descriptors too: a listing of /proc/PID/fd, one entry per socket — thousands
   * for a server or generator under load, so the per-second sampling of a run does without
   */
  fds?: boolean;
}

/** One reading of /proc/PID; null when the process is gone or /proc is unavailable. */
export function sampleProcess(pid: number, opts: SampleOptions = {}): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after "(comm) ": state=0 … utime=11 stime=12 … rss=21 (pages)
    const cpuUs = (Number(f[11]) + Number(f[12])) * CLK_TCK_US;
    const rssBytes = Number(f[21]) * PAGE_BYTES;
    let fds: number | null = null;
    if (opts.fds) {
      try {
        fds = readdirSync(`/proc/${pid}/fd`).length;
      } catch {
        fds = null;
      }
    }
    return { cpuUs, rssBytes, fds };
  } catch {
    return null;
  }
}

/** Time a set of CPUs spent, from /proc/stat, µs (10 ms resolution), summed over the CPUs. */
export interface CpuTimes {
  /** running anything: user, nice, system, irq, softirq (guest time is inside user) */
  busyUs: number;
  /** taken by the hypervisor while this VM wanted to run (0 on bare metal) */
  stealUs: number;
}

/** The numbers in a CPU list such as `1`, `0-3` or `0,2-3`. */
export function cpuListNumbers(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/**
 * {@link CpuTimes} of the CPUs in `list` (all CPUs when null) since boot; null when /proc/stat is
 * unreadable. What a process's own CPU time cannot tell: how busy its CPUs were with everything
 * else, and how much of them the hypervisor took.
 */
export function sampleCpus(list: string | null): CpuTimes | null {
  try {
    const want = list === null ? null : new Set(cpuListNumbers(list));
    const t: CpuTimes = { busyUs: 0, stealUs: 0 };
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+) (.*)$/.exec(line);
      if (!m || (want !== null && !want.has(Number(m[1])))) continue;
      // user nice system idle iowait irq softirq steal …
      const f = m[2].trim().split(/\s+/).map(Number);
      t.busyUs += (f[0] + f[1] + f[2] + f[5] + f[6]) * CLK_TCK_US;
      t.stealUs += (f[7] ?? 0) * CLK_TCK_US;
    }
    return t;
  } catch {
    return null;
  }
}

/** Direct children of `pid` (from /proc/PID/task/TID/children); empty when unreadable. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/**
 * {@link sampleProcess} summed over `pid` and every process below it: a server that forks workers
 * (serve --server-procs) is measured whole. Null when `pid` itself is gone.
 */
export function sampleProcessTree(pid: number, opts: SampleOptions = {}): ProcSample | null {
  const root = sampleProcess(pid, opts);
  if (!root) return null;
  const total = { ...root };
  const queue = childrenOf(pid);
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    const s = sampleProcess(p, opts);
    if (!s) continue;
    total.cpuUs += s.cpuUs;
    total.rssBytes += s.rssBytes;
    total.fds = total.fds !== null && s.fds !== null ? total.fds + s.fds : null;
    queue.push(...childrenOf(p));
  }
  return total;
}

/** Soft and hard limits on open files for a process, from /proc/PID/limits. */
export function openFilesLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
    if (!m) return null;
    const n = (s: string) => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return null;
  }
}

export function cpuModel(): string {
  return os.cpus()[0]?.model?.trim() ?? 'unknown';
}

export function cpuCount(): number {
  // Not availableParallelism(): it follows this process's CPU pinning, which the runner sets.
  return os.cpus().length;
}

/** MemAvailable from /proc/meminfo, bytes; null when unreadable. */
export function memAvailableBytes(): number | null {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** An inclusive range of ports. */
export interface PortRange {
  first: number;
  last: number;
}

/** Linux's default ephemeral range, taken when /proc does not say. */
const DEFAULT_EPHEMERAL: PortRange = Object.freeze({ first: 32_768, last: 60_999 });

/** The ephemeral port range (net.ipv4.ip_local_port_range); Linux's default when unreadable. */
export function ephemeralPortRange(): PortRange {
  try {
    const [first, last] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(first) && Number.isInteger(last) && last >= first ? { first, last } : DEFAULT_EPHEMERAL;
  } catch {
    return DEFAULT_EPHEMERAL;
  }
}

/** Size of the ephemeral port range (ports per source address towards one target); 28,232 when unreadable. */
export function ephemeralPortCount(): number {
  const { first, last } = ephemeralPortRange();
  return last - first + 1;
}
