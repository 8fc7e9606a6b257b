/**
 * `npm run profile:summary -- FILE [--top N]`: the top sites of a worker profile written under
 * `PUSHBENCH_WORKER_CPU_PROF` (`.cpuprofile`: self time, as a share of the thread's busy time —
 * idle left out) or `PUSHBENCH_WORKER_HEAP_PROF` (`.heapprofile`: bytes allocated, garbage
 * included, with the caller that allocated most of each). The figures README.md and docs/generator-bench.md quote from
 * profiles are what this prints; DevTools shows the same files as trees.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface CpuProfile { nodes: { id: number; callFrame: CallFrame }[]; samples: number[]; timeDeltas: number[] }
interface HeapNode { callFrame: CallFrame; selfSize: number; children: HeapNode[] }
interface HeapProfile { head: HeapNode }

export interface Site {
  site: string;
  /** µs of self time, or bytes allocated */
  amount: number;
  /** share of the busy time, or of all bytes allocated */
  share: number;
  /** heap only: the caller that allocated most of it, and its share */
  from?: string;
}

export interface Summary {
  kind: 'cpu' | 'heap';
  /** cpu: busy µs (sampled time less idle); heap: bytes allocated */
  total: number;
  /** cpu: idle µs */
  idle?: number;
  sites: Site[];
}

function siteOf(cf: CallFrame): string {
  const file = cf.url ? cf.url.replace(/\?.*$/, '').split('/').slice(-2).join('/') : '';
  return `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
}

/** Self time per site, from a V8 CPU profile, busiest first. */
export function summarizeCpuProfile(p: CpuProfile): Summary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let idle = 0;
  let all = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    all += dt;
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') idle += dt;
    else self.set(siteOf(cf), (self.get(siteOf(cf)) ?? 0) + dt);
  });
  const total = all - idle;
  const sites = [...self].map(([site, amount]) => ({ site, amount, share: total > 0 ? amount / total : 0 }));
  return { kind: 'cpu', total, idle, sites: sites.sort((a, b) => b.amount - a.amount) };
}

/** Bytes allocated per site, from a V8 sampling heap profile, largest first. */
export function summarizeHeapProfile(p: HeapProfile): Summary {
  const self = new Map<string, { amount: number; from: Map<string, number> }>();
  let total = 0;
  const walk = (n: HeapNode, parent: string) => {
    const site = siteOf(n.callFrame);
    if (n.selfSize > 0) {
      total += n.selfSize;
      const e = self.get(site) ?? { amount: 0, from: new Map<string, number>() };
      e.amount += n.selfSize;
      e.from.set(parent, (e.from.get(parent) ?? 0) + n.selfSize);
      self.set(site, e);
    }
    for (const c of n.children) walk(c, site);
  };
  walk(p.head, '');
  const sites = [...self].map(([site, e]) => {
    const [from, fromBytes] = [...e.from].sort((a, b) => b[1] - a[1])[0];
    return { site, amount: e.amount, share: total > 0 ? e.amount / total : 0, from: `${from || '(root)'} ${Math.round((100 * fromBytes) / e.amount)} %` };
  });
  return { kind: 'heap', total, sites: sites.sort((a, b) => b.amount - a.amount) };
}

export function summarizeFile(file: string): Summary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | HeapProfile;
  return 'head' in profile ? summarizeHeapProfile(profile) : summarizeCpuProfile(profile);
}

export function formatSummary(name: string, s: Summary, top: number): string {
  const lines = s.kind === 'cpu'
    ? [`${name}: busy ${(s.total / 1e6).toFixed(2)} s (idle ${((s.idle ?? 0) / 1e6).toFixed(2)} s); self time as a share of busy time`]
    : [`${name}: ${(s.total / 1e6).toFixed(1)} MB allocated (sampled, garbage included)`];
  lines.push('', ...(s.kind === 'cpu'
    ? ['| share | self time | site |', '|---:|---:|---|']
    : ['| share | allocated | site | mostly from |', '|---:|---:|---|---|']));
  for (const x of s.sites.slice(0, top)) {
    const pct = `${(100 * x.share).toFixed(1)} %`;
    lines.push(s.kind === 'cpu'
      ? `| ${pct} | ${(x.amount / 1000).toFixed(0)} ms | ${x.site} |`
      : `| ${pct} | ${(x.amount / 1e6).toFixed(1)} MB | ${x.site} | ${x.from} |`);
  }
  return lines.join('\n');
}

/** The command line `FILE… [--top N]`: the files, N (25 unless given) and every problem found. */
export function parseArgs(args: readonly string[]): { files: string[]; top: number; problems: string[] } {
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const files = args.filter((a, i) => a !== '--top' && (topAt < 0 || i !== topAt + 1));
  const problems = [
    ...(files.length === 0 ? ['give one or more .cpuprofile / .heapprofile files'] : []),
    ...(!(Number.isInteger(top) && top > 0) ? [`--top must be a whole number above 0 (got "${args[topAt + 1]}")`] : []),
    ...files.filter((f) => !/\.(cpuprofile|heapprofile)$/.test(f)).map((f) => `${f}: not a .cpuprofile or .heapprofile`),
  ];
  return { files, top, problems };
}

if (process.argv[1] && /bench[\\/]profile-summary\.ts$/.test(process.argv[1])) {
  const { files, top, problems } = parseArgs(process.argv.slice(2));
  if (problems.length) {
    process.stderr.write(`profile:summary: invalid arguments:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exitCode = 2;
  } else {
    try {
      for (const f of files) process.stdout.write(`${formatSummary(basename(f), summarizeFile(f), top)}\n\n`);
    } catch (err) {
      process.stderr.write(`profile:summary: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  }
}
