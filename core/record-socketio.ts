/** The result record's part for a Socket.IO run (docs/socketio.md, docs/result-schema.md). */
/** A Socket.IO run's Engine.IO figures (ResultRecord.socketio), over the whole run. */
export interface SocketioFigures {
  namespace: string;
  event: string;
  /** Engine.IO sessions opened (handshakes done), reconnects included */
  sessions: number;
  /** server pings answered with a pong */
  heartbeats: number;
  /** sessions upgraded from polling to WebSocket, and upgrade probes that failed (they stay on polling) */
  upgrades: number;
  upgradeFailures: number;
  /** clients that upgraded at least once ÷ clients (0 for a transport that does not upgrade) */
  upgradeShare: number;
  /** from a session's open to its upgrade packet, ms; null without upgrades */
  upgradeMs: { p50: number; p99: number; max: number } | null;
  /** reconnected sessions the server's connection-state recovery restored (same pid), and those it did not */
  recovered: number;
  notRecovered: number;
  /** loss per client: how many clients lost messages in the window, and their losses, most first (at most 100) */
  lossByClient: { clients: number; lost: number[] };
}

/**
 * The `socketio` parts of records taken in parallel, merged (core/record-merge.ts): counts add, the
 * upgrade share is weighted by each record's clients, the upgrade-time percentiles keep the worst
 * (no histogram travels with them: a bound), the losses per client are listed together.
 * Undefined when no record has one.
 */
export function mergeSocketio(parts: readonly { figures: SocketioFigures | undefined; clients: number }[]): SocketioFigures | undefined {
  const have = parts.filter((p): p is { figures: SocketioFigures; clients: number } => p.figures !== undefined);
  if (have.length === 0) return undefined;
  const f = have.map((p) => p.figures);
  const sum = (k: 'sessions' | 'heartbeats' | 'upgrades' | 'upgradeFailures' | 'recovered' | 'notRecovered') => f.reduce((n, x) => n + x[k], 0);
  const clients = have.reduce((n, p) => n + p.clients, 0);
  const times = f.map((x) => x.upgradeMs).filter((u) => u !== null);
  const lost = f.flatMap((x) => x.lossByClient.lost).sort((a, b) => b - a);
  return {
    namespace: f[0].namespace,
    event: f[0].event,
    sessions: sum('sessions'), heartbeats: sum('heartbeats'), upgrades: sum('upgrades'), upgradeFailures: sum('upgradeFailures'),
    upgradeShare: clients > 0 ? have.reduce((n, p) => n + p.figures.upgradeShare * p.clients, 0) / clients : 0,
    upgradeMs: times.length === 0 ? null : { p50: Math.max(...times.map((u) => u.p50)), p99: Math.max(...times.map((u) => u.p99)), max: Math.max(...times.map((u) => u.max)) },
    recovered: sum('recovered'), notRecovered: sum('notRecovered'),
    lossByClient: { clients: f.reduce((n, x) => n + x.lossByClient.clients, 0), lost: lost.slice(0, 100) },
  };
}
