/**
 * What every part of bench:generator shares: the output helpers, one pushbench run built and run
 * as `pushbench run` would, the reference server for a peer generator, the pinning seen from /proc,
 * and the figures read from a run's record.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { measuredTimeline, writeJsonAtomic, type ResultRecord } from '../../core/record.ts';
import { validationError } from '../../core/errors.ts';
import { parseOptions } from '../../core/options.ts';
import type { Spawned } from '../../core/spawn.ts';
import type { TransportName } from '../../core/wire.ts';
import { formatProgress } from '../../cli/progress.ts';
import { RUN_OPTION_SPECS, fileSafe, loadSettings } from '../../cli/run-options.ts';
import { runOnce, spawnReferenceServer, type Progress, type RunSettings } from '../../load/runner.ts';
import type { Spread } from '../ladder.ts';
import type { Config } from './config.ts';

/** A server above this share of its core is what limits the step, not the client. */
export const SERVER_BOUND_PCT = 90;

export const log = (line: string) => process.stderr.write(`${line}\n`);
export const out = (line = '') => process.stdout.write(`${line}\n`);
export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const pct = (n: number | null) => (n === null ? 'unknown' : `${n.toFixed(0)} %`);
export const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');

/**
 * RunSettings for one pushbench run, built exactly as `pushbench run` builds them (same option
 * table, same validator), so the bench measures what users run.
 */
export function runSettings(cfg: Config, transport: TransportName, name: string, flags: Record<string, string>): RunSettings {
  const argv = [
    '--transport', transport, '--server-cpus', cfg.serverCpus, '--load-cpus', cfg.loadCpus, '--workers', '1', '--out', cfg.out,
    ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]),
  ];
  const parsed = parseOptions(argv, RUN_OPTION_SPECS);
  const problems = [...parsed.problems];
  const s = loadSettings(parsed.values, transport, problems);
  if (problems.length) throw validationError(problems, `bench:generator: settings of ${name}`);
  s.name = name;
  // Each connection is one open file in the server too: let the cap admit every client.
  s.serverArgs = ['--max-connections', String(s.clients + 1000)];
  return s;
}

/**
 * The reference server for a peer generator: the child runOnce starts for `s` (load/run/children.ts),
 * so the peer meets the same arguments and pinning as pushbench.
 */
export function startPeerServer(s: RunSettings): Promise<Spawned> {
  return spawnReferenceServer(s, 0);
}

export function cpusAllowed(pid: number | 'self'): string {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Pinning seen from /proc, per role (what taskset actually did, not what was asked). */
export const pinning = { server: new Set<string>(), generator: new Set<string>(), autocannon: new Set<string>() };

let lastProgressS = -1;
export async function pushbench(cfg: Config, s: RunSettings): Promise<ResultRecord> {
  log(`· pushbench ${s.name}: ${s.clients} ${s.transport} clients, ${s.ratePerS} msg/s per topic, ${(s.durationMs / 1000).toFixed(0)} s (warm-up ${(s.warmupMs / 1000).toFixed(0)} s)`);
  lastProgressS = -1;
  const record = await runOnce(s, {
    log: (line) => {
      const pid = /server: pid (\d+)/.exec(line)?.[1];
      if (pid) pinning.server.add(cpusAllowed(Number(pid)));
      pinning.generator.add(cpusAllowed('self'));
    },
    onProgress: !cfg.progress ? undefined : (p: Progress) => {
      const sec = Math.floor(p.elapsedS);
      if (sec % 5 === 0 && sec !== lastProgressS) {
        lastProgressS = sec;
        log(`  ${formatProgress(p)}`);
      }
    },
  });
  writeJsonAtomic(join(cfg.out, `${fileSafe(s.name)}.json`), record);
  if (!record.valid) for (const r of record.invalidReasons) log(`  INVALID: ${r}`);
  return record;
}

/** Seconds of the measured window. */
export const measuredS = (r: ResultRecord) => (r.config.durationMs - r.config.warmupMs) / 1000;
/** Server CPU over the measured window, % of one core. */
export const serverCpuPct = (r: ResultRecord) => (r.server ? (100 * r.server.cpuUs) / 1e6 / measuredS(r) : null);
/** Mean CPU of the generator process over the measured seconds, % of one core (timeline). */
export function generatorCpuPct(r: ResultRecord): number | null {
  const pts = measuredTimeline(r);
  return pts.length ? pts.reduce((a, p) => a + p.generatorCpuPct, 0) / pts.length : null;
}
export const eluMean = (r: ResultRecord) => r.generator.workers.reduce((a, w) => a + w.eluMean, 0) / Math.max(1, r.generator.workers.length);
export const errorsText = (r: ResultRecord) => Object.entries(r.counters.errors).map(([k, n]) => `${k}×${n}`).join(' ') || '0';

/** CPU µs per delivery or request: a CPU share (% of one core) over a rate (per second). */
export const usPer = (cpuPct: number | null, perS: number, digits = 2) => (cpuPct === null || perS <= 0 ? 'unknown' : `${(((cpuPct / 100) * 1e6) / perS).toFixed(digits)} µs`);

export const rangeText = (x: Spread, digits = 2) => (x.n > 1 ? ` (${x.min!.toFixed(digits)}–${x.max!.toFixed(digits)}, ${x.n} rounds)` : '');
