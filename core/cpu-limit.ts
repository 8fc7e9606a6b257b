/**
 * A CPU limit on a process tree, as a Kubernetes pod's CPU limit is: a CFS bandwidth quota in a
 * cgroup of its own — `cpu.cfs_quota_us` / `cpu.cfs_period_us` (cgroup v1) or `cpu.max`
 * (cgroup v2) — of `fraction` × the period, that is `fraction` of one CPU per period, however
 * many CPUs the tree may run on. The processes added stay in it with every child they fork.
 *
 * No library does this for Node (the cgroup files are the kernel's whole interface, four writes),
 * so it is done here by hand. Every call is synchronous and may block on the cgroup filesystem
 * for microseconds. Needs write access to the cgroup filesystem (root, or a delegated subtree).
 *
 * {@link CpuLimit.remove} moves what is left in the cgroup to its parent and removes it; it runs
 * on process exit too, so a Ctrl-C or a crash leaves no cgroup behind.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The CFS period used, µs (the kernel's default: the quota is spent within every 100 ms). */
export const CFS_PERIOD_US = 100_000;
/** The smallest quota the kernel takes, µs (1 ms per period). */
const MIN_QUOTA_US = 1000;

/** Where the cgroup filesystems are mounted. */
const CGROUP_ROOT = '/sys/fs/cgroup';

/** Where a cpu cgroup can be made, and which version's files it has. */
interface CpuHierarchy {
  version: 1 | 2;
  /** the folder new cgroups are made in */
  parent: string;
}

/** The cgroup v1 cpu hierarchy, when mounted and writable. */
function v1Hierarchy(root: string): CpuHierarchy | null {
  for (const dir of ['cpu', 'cpu,cpuacct']) {
    const parent = join(root, dir);
    if (existsSync(join(parent, 'cpu.cfs_quota_us')) && writable(parent)) return { version: 1, parent };
  }
  return null;
}

/**
 * The cgroup v2 hierarchy, when its `cpu` controller is there and can be passed down: new cgroups
 * are made at the mount's root (a non-root cgroup holding processes cannot pass controllers down).
 */
function v2Hierarchy(root: string): CpuHierarchy | null {
  for (const mount of [root, join(root, 'unified')]) {
    const controllers = join(mount, 'cgroup.controllers');
    if (!existsSync(controllers) || !readFileSync(controllers, 'utf8').split(/\s+/).includes('cpu')) continue;
    if (!writable(mount) || !passesCpuDown(mount)) continue;
    return { version: 2, parent: mount };
  }
  return null;
}

/** v2 gives a child cgroup `cpu.max` only once its parent passes the controller down; turned on here if need be. */
function passesCpuDown(dir: string): boolean {
  const control = join(dir, 'cgroup.subtree_control');
  try {
    if (!readFileSync(control, 'utf8').split(/\s+/).includes('cpu')) writeFileSync(control, '+cpu');
    return true;
  } catch {
    // a non-root cgroup holding processes cannot pass controllers down (v2's no-internal-process rule)
    return false;
  }
}

function writable(dir: string): boolean {
  const probe = join(dir, `pushbench-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** The hierarchy this machine offers (v2 first, as systemd machines mount it), or a sentence why none. */
export function cpuHierarchy(root = CGROUP_ROOT): CpuHierarchy | string {
  const found = v2Hierarchy(root) ?? v1Hierarchy(root);
  if (found) return found;
  return `no writable cgroup with a cpu controller under ${root} (cgroup v1 cpu/cpu.cfs_quota_us or v2 cgroup.controllers with cpu): a CPU limit needs root or a delegated cgroup`;
}

/** Problems with `--server-cpu-limit F` on this machine (empty: usable). */
export function cpuLimitProblems(flag: string, fraction: number, cpus: number, root = CGROUP_ROOT): string[] {
  const out: string[] = [];
  if (!(fraction * CFS_PERIOD_US >= MIN_QUOTA_US)) out.push(`${flag} must be at least ${MIN_QUOTA_US / CFS_PERIOD_US} (1 ms of CPU per 100 ms period)`);
  if (fraction > cpus) out.push(`${flag} ${fraction} is more than the ${cpus} CPU(s) the server may run on: it would limit nothing`);
  const h = cpuHierarchy(root);
  if (typeof h === 'string') out.push(`${flag}: ${h}`);
  return out;
}

let made = 0;
const live = new Set<CpuLimit>();
let exitHook = false;

/** One cgroup with a CPU quota; made by {@link CpuLimit.create}. */
export class CpuLimit {
  private removed = false;

  private constructor(
    /** the cgroup's folder */
    readonly path: string,
    readonly version: 1 | 2,
    private readonly parent: string,
    /** the limit, in CPUs */
    readonly fraction: number,
  ) {}

  /** Make a cgroup limited to `fraction` of one CPU. Throws a sentence when the machine has none to give. */
  static create(fraction: number, root = CGROUP_ROOT): CpuLimit {
    const h = cpuHierarchy(root);
    if (typeof h === 'string') throw new Error(h);
    const path = join(h.parent, `pushbench-${process.pid}-${made++}`);
    mkdirSync(path);
    const quotaUs = Math.round(fraction * CFS_PERIOD_US);
    if (h.version === 1) {
      writeFileSync(join(path, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
      writeFileSync(join(path, 'cpu.cfs_quota_us'), String(quotaUs));
    } else {
      writeFileSync(join(path, 'cpu.max'), `${quotaUs} ${CFS_PERIOD_US}`);
    }
    const limit = new CpuLimit(path, h.version, h.parent, fraction);
    live.add(limit);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const l of live) l.remove();
      });
    }
    return limit;
  }

  /** Put process `pid` (and every child it forks from now on) in the cgroup. */
  add(pid: number): void {
    writeFileSync(join(this.path, 'cgroup.procs'), String(pid));
  }

  /** The processes in the cgroup now. */
  pids(): number[] {
    if (this.removed) return [];
    return readFileSync(join(this.path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  }

  /** The quota as the kernel holds it, in CPUs (read back from the cgroup's files). */
  appliedFraction(): number {
    if (this.version === 1) {
      const quota = Number(readFileSync(join(this.path, 'cpu.cfs_quota_us'), 'utf8'));
      return quota / Number(readFileSync(join(this.path, 'cpu.cfs_period_us'), 'utf8'));
    }
    const [quota, period] = readFileSync(join(this.path, 'cpu.max'), 'utf8').trim().split(/\s+/);
    return Number(quota) / Number(period);
  }

  /** Periods the cgroup's processes were held back for lack of quota (cpu.stat nr_throttled). */
  throttledPeriods(): number {
    const stat = readFileSync(join(this.path, 'cpu.stat'), 'utf8');
    return Number(/nr_throttled (\d+)/.exec(stat)?.[1] ?? 0);
  }

  /** Move what is left to the parent and remove the cgroup. Idempotent; never throws. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    live.delete(this);
    try {
      for (const pid of readFileSync(join(this.path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          writeFileSync(join(this.parent, 'cgroup.procs'), pid);
        } catch {
          // exited meanwhile
        }
      }
      rmdirSync(this.path);
    } catch {
      // already gone
    }
  }
}
