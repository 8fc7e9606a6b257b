/**
 * Faults injected into a running run (`run --fault`, load/faults.ts), one action per kind. Each
 * fires at its time on the run's clock, and its note (what was done, or why it failed) goes to the
 * fault log the record's fault results are read from.
 *
 * A server restart splits the server's counters into segments: what the old process counted until
 * it died is banked, and the new process is measured from its own start.
 */
import { nowUs } from '../../core/wire.ts';
import type { FaultKind, FaultSpec } from '../faults.ts';
import { sampleProcessTree } from '../resources.ts';
import { timeoutAt } from '../seconds.ts';
import type { RunEnvironment } from './environment.ts';
import type { RunSampler } from './sampler.ts';
import { addStatsDelta, fetchStats, type BankedServer } from './server-stats.ts';
import { controlFetch } from './control.ts';

/** One injection: which fault (its index in the run's faults), when it fired, what it did. */
export interface FaultLogEntry {
  index: number;
  firedUs: number;
  note: string;
}

/** What a fault acts on. */
export interface FaultContext {
  env: RunEnvironment;
  sampler: RunSampler;
  /** the old server's counters, kept across a restart */
  banked: BankedServer;
  /** tell the workers the old epoch of fault `index` ended now */
  epochEnded(index: number): void;
}

/** Inject one fault; resolves with what was done, or null when the fault does not apply to this run. */
export type FaultAction = (f: FaultSpec, index: number, ctx: FaultContext) => Promise<string | null>;

export const FAULT_ACTIONS: Record<FaultKind, FaultAction> = {
  'restart-server': restartServer,
  'cut-connections': async (f, _index, { env }) => {
    const res = await controlFetch(`${env.serverUrl}/admin/cut?fraction=${f.fraction}`, { method: 'POST' });
    return `cut ${((await res.json()) as { cut: number }).cut} connections`;
  },
  'stall-server': async (f, _index, { env }) => {
    await controlFetch(`${env.serverUrl}/admin/stall?ms=${f.durationMs}`, { method: 'POST' });
    return `server event loop blocked for ${f.durationMs} ms`;
  },
  blackhole: async (f, _index, { env }) => (env.blackhole(f.durationMs) ? `proxy blackholed both ways for ${f.durationMs} ms` : null),
};

/** Bank what the old server counted in the window so far, kill it, start a new one on its port. */
async function restartServer(_f: FaultSpec, index: number, { env, sampler, banked, epochEnded }: FaultContext): Promise<string | null> {
  if (!env.canRestart) return null;
  const m = sampler.meters[0];
  const last = await fetchStats(env.serverUrl);
  const lastProc = env.serverPid ? sampleProcessTree(env.serverPid) : null;
  if (m.statsFrom && last) addStatsDelta(banked.stats, m.statsFrom, last);
  if (m.procFrom && lastProc) banked.cpuUs += lastProc.cpuUs - m.procFrom.cpuUs;
  // The end of the old epoch, for counting what a reset client can never get back.
  const next = await env.restartServer(() => epochEnded(index));
  const proc = sampleProcessTree(next.pid);
  sampler.rebase(proc);
  m.procFrom = proc;
  m.statsFrom = await fetchStats(env.serverUrl);
  return `server killed and restarted as pid ${next.pid}`;
}

/** A run's faults on timers from t0; {@link FaultInjector.log} fills as they fire. */
export class FaultInjector {
  readonly log: FaultLogEntry[] = [];
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly faults: readonly FaultSpec[],
    private readonly ctx: FaultContext,
    private readonly logLine: (line: string) => void,
  ) {}

  start(t0Us: number): void {
    this.timers = this.faults.map((f, i) => timeoutAt(t0Us + f.atMs * 1000, () => void this.inject(f, i)));
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  private async inject(f: FaultSpec, index: number): Promise<void> {
    const firedUs = nowUs();
    try {
      const note = await FAULT_ACTIONS[f.kind](f, index, this.ctx);
      if (note !== null) this.log.push({ index, firedUs, note });
      // the log's newest note (another fault's, when this one did not apply)
      this.logLine(`fault ${f.text}: ${this.log.at(-1)?.note ?? 'not applicable'}`);
    } catch (err) {
      this.log.push({ index, firedUs, note: `injection failed: ${(err as Error).message}` });
      this.logLine(`fault ${f.text}: injection failed: ${(err as Error).message}`);
    }
  }
}
