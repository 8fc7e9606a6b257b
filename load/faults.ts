/**
 * Fault injection for `run --fault` (issue 8): what can go wrong, when, and how bad.
 *
 *   restart-server@10s          the reference server is killed (SIGKILL) and started again on the
 *                               same port: a new epoch, so clients must report a reset
 *   cut-connections@15s:25%     the server drops a quarter of its TCP connections abruptly
 *   stall-server@20s:2s         the server's event loop blocks for 2 s (connections stay open)
 *   blackhole@25s:5s            the latency proxy stops every byte both ways for 5 s
 *                               (connections stay open; needs --network other than loopback)
 *
 * Times count from the first client's arrival, like --duration.
 */
import { parseDurationMs, parseFraction } from '../core/units.ts';

export const FAULT_KINDS = ['restart-server', 'cut-connections', 'stall-server', 'blackhole'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** when, ms after the first client's arrival */
  atMs: number;
  /** cut-connections: the share of connections cut (0..1] */
  fraction?: number;
  /** stall-server, blackhole: how long, ms */
  durationMs?: number;
  /** as the user typed it */
  text: string;
}

const NEEDS: Record<FaultKind, 'none' | 'fraction' | 'duration'> = {
  'restart-server': 'none',
  'cut-connections': 'fraction',
  'stall-server': 'duration',
  blackhole: 'duration',
};

/** Parse one `kind@time[:param]`; returns the fault or a sentence saying what is wrong. */
export function parseFault(text: string): { fault?: FaultSpec; problem?: string } {
  const m = /^([a-z-]+)@([^:]+)(?::(.+))?$/.exec(text.trim());
  const usage = 'restart-server@10s, cut-connections@15s:25%, stall-server@20s:2s or blackhole@25s:5s';
  if (!m) return { problem: `--fault "${text}" is not kind@time[:value] (e.g. ${usage})` };
  const kind = m[1] as FaultKind;
  if (!FAULT_KINDS.includes(kind)) return { problem: `--fault "${text}": unknown fault "${m[1]}" (known: ${FAULT_KINDS.join(', ')})` };
  const atMs = parseDurationMs(m[2]);
  if (atMs === undefined) return { problem: `--fault "${text}": "${m[2]}" is not a time like 10s` };
  const fault: FaultSpec = { kind, atMs, text };
  const need = NEEDS[kind];
  if (need === 'none' && m[3] !== undefined) return { problem: `--fault "${text}": ${kind} takes no value` };
  if (need === 'fraction') {
    const f = m[3] === undefined ? undefined : parseFraction(m[3]);
    if (f === undefined || !(f > 0 && f <= 1)) return { problem: `--fault "${text}": ${kind} needs a share like :25%` };
    fault.fraction = f;
  }
  if (need === 'duration') {
    const d = m[3] === undefined ? undefined : parseDurationMs(m[3]);
    if (d === undefined || !(d > 0 && d <= 60_000)) return { problem: `--fault "${text}": ${kind} needs a duration up to 60s like :2s` };
    fault.durationMs = d;
  }
  return { fault };
}

/**
 * Parse and check every --fault against the run: inside the measured window, one reference
 * server to act on (not a --target), a proxy for a blackhole. Problems are appended.
 */
export function parseFaults(
  texts: readonly string[],
  /** `cutHook`: the --target answers `POST /admin/cut?fraction=F` (a Socket.IO target, docs/socketio.md) */
  run: { warmupMs: number; durationMs: number; target: string | null; proxied: boolean; cutHook?: boolean },
  problems: string[],
): FaultSpec[] {
  const faults: FaultSpec[] = [];
  for (const text of texts) {
    const { fault, problem } = parseFault(text);
    if (problem) { problems.push(problem); continue; }
    const f = fault!;
    if (f.atMs < run.warmupMs || f.atMs >= run.durationMs) {
      problems.push(`--fault ${text}: ${f.atMs / 1000} s is outside the measured window (${run.warmupMs / 1000} s … ${run.durationMs / 1000} s)`);
    }
    if (f.kind !== 'blackhole' && run.target && !(f.kind === 'cut-connections' && run.cutHook)) problems.push(`--fault ${text}: ${f.kind} acts on the reference server, not on a --target`);
    if (f.kind === 'blackhole' && !run.proxied) problems.push(`--fault ${text}: a blackhole needs the latency proxy (--network lan, wan, mobile or a custom profile)`);
    faults.push(f);
  }
  faults.sort((a, b) => a.atMs - b.atMs);
  return faults;
}
