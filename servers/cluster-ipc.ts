/**
 * The cluster's IPC (servers/cluster.ts): the messages between the primary and its workers, and
 * the two hubs that speak them. The primary's hub alone assigns seqs and reports every message it
 * sequenced; a worker's hub sends upstream publishes to the primary and publishes what the primary
 * sequenced into its own ring and subscribers, where it must get the same seq.
 */
import type { AdminAction } from './admin.ts';
import { Hub } from './hub.ts';
import type { StatsSnapshot } from '../core/wire.ts';

/** One sequenced message: [topic, seq, ts, data]. */
export type Sequenced = [string, number, number, string];

/** Primary → worker. */
export type ToWorker =
  | { t: 'msgs'; list: Sequenced[] }
  | { t: 'seq'; id: number; seq: number }
  | { t: 'collect'; id: number }
  | { t: 'stats'; id: number; snapshot: StatsSnapshot }
  /** inject a fault here; `from`/`ask` name the worker and request that asked (its socket is spared) */
  | { t: 'inject'; id: number; action: AdminAction; from: number; ask: number }
  /** the answer to an `admin` ask: connections cut over every worker (a stall: workers stalled) */
  | { t: 'admin-done'; ask: number; n: number }
  | { t: 'close' };

/** Worker → primary. */
export type ToPrimary =
  | { t: 'listening'; port: number }
  | { t: 'publish'; id: number; topic: string; data: string; ts: number }
  | { t: 'ask-stats'; id: number }
  | { t: 'snapshot'; id: number; snapshot: StatsSnapshot }
  /** an admin endpoint was called here: every worker must inject `action` */
  | { t: 'admin'; ask: number; action: AdminAction }
  | { t: 'injected'; id: number; n: number };

/** The primary's hub: assigns seqs (and keeps no ring worth the name) and reports every message. */
export class SequencingHub extends Hub {
  constructor(private readonly onMessage: (m: Sequenced) => void) {
    super({ ringSize: 1, delayMs: 0 });
  }

  override publish(topic: string, data: string, tsUs: number): number {
    const seq = super.publish(topic, data, tsUs);
    if (seq > 0) this.onMessage([topic, seq, tsUs, data]);
    return seq;
  }
}

/** A worker's hub: upstream publishes go to the primary; sequenced messages come back via {@link apply}. */
export class WorkerHub extends Hub {
  private nextId = 1;
  private readonly waiting = new Map<number, (seq: number) => void>();

  constructor(opts: ConstructorParameters<typeof Hub>[0], private readonly send: (m: ToPrimary) => void) {
    super(opts);
  }

  override publishUpstream(topic: string, data: string, tsUs: number): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.send({ t: 'publish', id, topic, data, ts: tsUs });
    });
  }

  /** The primary's answer to an upstream publish. */
  answered(id: number, seq: number): void {
    this.waiting.get(id)?.(seq);
    this.waiting.delete(id);
  }

  /** A message the primary sequenced: publish it here, where it must get the same seq. */
  apply([topic, seq, ts, data]: Sequenced): void {
    const got = this.publish(topic, data, ts);
    if (got !== 0 && got !== seq) {
      throw new Error(`cluster worker ${process.pid}: topic ${topic} got seq ${got} for the primary's ${seq}; a message was missed`);
    }
  }
}
