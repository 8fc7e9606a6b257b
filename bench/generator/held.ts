/**
 * Part 1 of bench:generator: `--held-clients` clients of every transport held for `--held-window`,
 * one pushbench run each, and the table of what each run's record says.
 */
import { TRANSPORTS } from '../../load/drivers/index.ts';
import type { ResultRecord } from '../../core/record.ts';
import { formatBytes, formatUs } from '../../core/units.ts';
import type { TransportName } from '../../core/wire.ts';
import type { RunSettings } from '../../load/runner.ts';
import { errorsText, eluMean, generatorCpuPct, int, out, pct, pushbench, runSettings, serverCpuPct } from './common.ts';
import type { Config } from './config.ts';

export interface HeldRow { transport: TransportName; record: ResultRecord }

export function heldPlan(cfg: Config): RunSettings[] {
  const arrival = 2000;
  const rampMs = (cfg.heldClients / arrival) * 1000;
  // Connecting thousands of clients is the generator's heaviest moment: give it time to settle.
  const warmupMs = Math.ceil((rampMs + cfg.heldSettleMs) / 1000) * 1000;
  return cfg.heldTransports.map((transport) =>
    runSettings(cfg, transport, `held-${transport}-${cfg.heldClients}`, {
      clients: String(cfg.heldClients), workload: 'broadcast', topics: String(cfg.heldTopics), rate: '1', payload: '64',
      'poll-interval': '1000ms', 'arrival-rate': `${arrival}/s`,
      warmup: `${warmupMs}ms`, duration: `${warmupMs + cfg.heldWindowMs}ms`,
    }));
}

export async function heldClients(cfg: Config, plan: RunSettings[]): Promise<HeldRow[]> {
  const rows: HeldRow[] = [];
  for (const s of plan) rows.push({ transport: s.transport, record: await pushbench(cfg, s) });
  return rows;
}

export function printHeld(cfg: Config, rows: HeldRow[]): void {
  out(`### 1. ${int(cfg.heldClients)} clients of each transport held for ${(cfg.heldWindowMs / 1000).toFixed(0)} s`);
  out();
  const perTopic = Math.round(cfg.heldClients / cfg.heldTopics);
  out(`broadcast over ${cfg.heldTopics} topic${cfg.heldTopics > 1 ? 's' : ''} (${int(perTopic)} clients each), 1 msg/s per topic, 64 B payload: ${int(cfg.heldClients)} deliveries/s${cfg.heldTopics > 1 ? ', published in ' + cfg.heldTopics + ' staggered bursts of ' + int(perTopic) + ' rather than one burst of ' + int(cfg.heldClients) : ' in one burst a second'}; short poll Δ = 1 s; clients arrive at 2,000/s; the ramp and ${(cfg.heldSettleMs / 1000).toFixed(1)} s after it (rounded up to a whole second) are warm-up, not measured; one generator worker thread on one core.`);
  out();
  out('| transport | valid | open (max) | delivered | lost | dup | p50 | p99 | gen ELU mean / max | gen loop delay p99, worst second | gen longest GC pause | gen CPU | server CPU | server RSS/conn | errors |');
  out('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const { transport, record: r } of rows) {
    const s = r.summary;
    out(`| ${transport} | ${s.valid ? 'yes' : 'NO'} | ${int(r.server?.openConnectionsMax ?? 0)} | ${int(s.delivered)} | ${s.lost} | ${s.duplicates} | ${formatUs(s.latencyUs.p50)} | ${formatUs(s.latencyUs.p99)} | ${(eluMean(r) * 100).toFixed(0)} % / ${(r.generator.eluMax * 100).toFixed(0)} % | ${r.generator.loopDelayP99MaxMs === undefined ? 'unknown' : `${r.generator.loopDelayP99MaxMs.toFixed(0)} ms`} | ${r.generator.gcMaxMs === undefined ? 'unknown' : `${r.generator.gcMaxMs.toFixed(1)} ms`} | ${pct(generatorCpuPct(r))} | ${pct(serverCpuPct(r))} | ${s.serverRssBytesPerConnection === null ? 'unknown' : formatBytes(s.serverRssBytesPerConnection)} | ${errorsText(r)} |`);
  }
  for (const { record: r } of rows) for (const reason of r.invalidReasons) out(`\nINVALID ${r.name}: ${reason}`);
  const ok = rows.every(({ record: r }) => r.valid && r.summary.lost === 0 && r.summary.delivered > 0);
  out();
  const all = TRANSPORTS.every((t) => rows.some((r) => r.transport === t));
  if (all) out(`Held-clients acceptance (valid, 0 lost, every transport): **${ok ? 'met' : 'NOT met'}**`);
  else out(`Held-clients acceptance: not judged, only ${rows.map((r) => r.transport).join(', ')} held (every transport is the acceptance); valid and 0 lost for these: **${ok ? 'yes' : 'NO'}**`);
  out();
}
