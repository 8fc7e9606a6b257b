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
