/** A Socket.IO run's Engine.IO figures for its record (ResultRecord.socketio), from the workers' tallies. */
import { addEncoded, decodeHistogram, percentiles } from '../../core/histogram.ts';
import type { SocketioFigures } from '../../core/record.ts';
import type { WorkerResult } from '../worker-task.ts';

/** Losses listed per client in the record, at most (the count of such clients is always whole). */
const LOSS_LISTED = 100;

/** The record's `socketio` from every worker's tally (clients that upgraded ÷ the run's clients). */
export function socketioFigures(target: { namespace: string; event: string }, results: readonly WorkerResult[]): SocketioFigures {
  const t = results.map((r) => r.engine).filter((e) => e !== undefined);
  const sum = (f: (e: (typeof t)[number]) => number) => t.reduce((n, e) => n + f(e), 0);
  const clients = results.reduce((n, r) => n + r.clients, 0);
  const upgrades = sum((e) => e.upgrades);
  const up = upgrades > 0 ? percentiles(decodeHistogram(addEncoded(t.map((e) => e.upgradeUs)))) : null;
  const lost = t.flatMap((e) => e.lostByClient).sort((a, b) => b - a);
  return {
    namespace: target.namespace,
    event: target.event,
    sessions: sum((e) => e.sessions),
    heartbeats: sum((e) => e.heartbeats),
    upgrades,
    upgradeFailures: sum((e) => e.upgradeFailures),
    upgradeShare: clients > 0 ? sum((e) => e.clientsUpgraded) / clients : 0,
    upgradeMs: up && { p50: up.p50 / 1000, p99: up.p99 / 1000, max: up.max / 1000 },
    recovered: sum((e) => e.recovered),
    notRecovered: sum((e) => e.notRecovered),
    lossByClient: { clients: lost.length, lost: lost.slice(0, LOSS_LISTED) },
  };
}

/** The console's lines for a Socket.IO run's figures. */
export function formatSocketio(f: SocketioFigures, clients: number): string {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const lines = [
    `socket.io ${f.namespace} "${f.event}": ${f.sessions} Engine.IO sessions, ${f.heartbeats} heartbeats answered`,
    `  upgrades to WebSocket: ${f.upgrades} (${(f.upgradeShare * 100).toFixed(1)} % of ${clients} clients)${f.upgradeMs ? `, time p50 ${ms(f.upgradeMs.p50)}, p99 ${ms(f.upgradeMs.p99)}, max ${ms(f.upgradeMs.max)}` : ''}${f.upgradeFailures ? `; ${f.upgradeFailures} probe(s) failed` : ''}`,
    `  reconnects recovered by the server: ${f.recovered}, not recovered: ${f.notRecovered}`,
    `  loss per client: ${f.lossByClient.clients === 0 ? 'none' : `${f.lossByClient.clients} client(s) lost messages: ${f.lossByClient.lost.slice(0, 20).join(', ')}${f.lossByClient.clients > 20 ? ', …' : ''}`}`,
  ];
  return lines.join('\n');
}
