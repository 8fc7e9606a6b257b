/**
 * A Socket.IO run's Engine.IO figures in one worker's recorder (ClientEvents.engine): sessions
 * opened, heartbeats answered, upgrades to WebSocket and their time, sessions the server's
 * connection-state recovery restored or not, and each client's loss. Only counts and an encoded
 * histogram cross the thread boundary ({@link EngineTally}); the runner adds them (load/run/run-extras.ts).
 *
 * Threading: one book per recorder, on its worker thread.
 */
import { createHistogram, encodeHistogram } from '../core/histogram.ts';
import type { EngineEvent } from './drivers/types.ts';

/** What one worker's clients did at the Engine.IO level, over the whole run. */
export interface EngineTally {
  sessions: number;
  heartbeats: number;
  upgrades: number;
  upgradeFailures: number;
  /** clients that upgraded at least once */
  clientsUpgraded: number;
  /** time from a session's open to its upgrade packet, µs (encoded HDR) */
  upgradeUs: string;
  recovered: number;
  notRecovered: number;
  /** each client's messages lost in the window (gaps), for the clients that lost any */
  lostByClient: number[];
}

export class EngineBook {
  private sessions = 0;
  private heartbeats = 0;
  private upgrades = 0;
  private upgradeFailures = 0;
  private recovered = 0;
  private notRecovered = 0;
  private readonly upgradedClients = new Set<object>();
  private readonly upgradeUs = createHistogram();

  /** Client `who` reported `event` (`us`: the upgrade's time). */
  record(who: object, event: EngineEvent, us: number): void {
    switch (event) {
      case 'open': this.sessions++; break;
      case 'heartbeat': this.heartbeats++; break;
      case 'upgraded':
        this.upgrades++;
        this.upgradedClients.add(who);
        this.upgradeUs.recordValue(Math.max(1, Math.round(us)));
        break;
      case 'upgrade-failed': this.upgradeFailures++; break;
      case 'recovered': this.recovered++; break;
      case 'not-recovered': this.notRecovered++; break;
    }
  }

  /** The tally, with the loss of each client in `lost` (one count per client) that lost any. */
  tally(lost: Iterable<number>): EngineTally {
    return {
      sessions: this.sessions, heartbeats: this.heartbeats, upgrades: this.upgrades, upgradeFailures: this.upgradeFailures,
      clientsUpgraded: this.upgradedClients.size, upgradeUs: encodeHistogram(this.upgradeUs),
      recovered: this.recovered, notRecovered: this.notRecovered,
      lostByClient: [...lost].filter((n) => n > 0),
    };
  }
}
