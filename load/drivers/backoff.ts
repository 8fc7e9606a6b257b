/**
 * Reconnect timing shared by every driver: exponential backoff with jitter, and the one place a
 * driver schedules its next attempt after losing a connection.
 *
 * Threading: one instance belongs to one client on one event loop; nothing here blocks.
 */
import type { ClientEvents } from './types.ts';

/** Default fraction by which each wait is jittered either way (±20 %). */
export const BACKOFF_JITTER = 0.2;

/**
 * Exponential backoff: the first wait is `minMs`, each further wait doubles, capped at `maxMs`,
 * and every wait is spread uniformly over ±`jitter` of its nominal value so that clients dropped
 * together do not reconnect together. `reset()` after a success.
 */
export class Backoff {
  private nominalMs: number;

  constructor(
    private minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
    private readonly jitter = BACKOFF_JITTER,
  ) {
    this.nominalMs = minMs;
  }

  /** The next wait in ms (jittered), then doubles the nominal wait up to the cap. */
  nextDelayMs(): number {
    const nominalMs = Math.min(this.nominalMs, this.maxMs);
    this.nominalMs = Math.min(this.nominalMs * 2, this.maxMs);
    return nominalMs * (1 - this.jitter + 2 * this.jitter * this.random());
  }

  /** Back to the first wait (call once a connection works again). */
  reset(): void {
    this.nominalMs = this.minMs;
  }

  /** Change the first wait (SSE `retry:`), clamped to the cap; applies now if no wait was taken since the last reset. */
  setMinMs(minMs: number): void {
    const atFirstWait = this.nominalMs === this.minMs;
    this.minMs = Math.min(minMs, this.maxMs);
    if (atFirstWait) this.nominalMs = this.minMs;
  }
}

/**
 * The reconnect loop of one client: after a failure it reports `error(code)` and `reconnecting()`,
 * waits the next backoff delay and calls `attempt`. At most one attempt is pending at a time;
 * `stop()` cancels it so nothing is left scheduled.
 */
export class Reconnector {
  private timer: NodeJS.Timeout | undefined;
  readonly backoff: Backoff;

  constructor(
    private readonly events: ClientEvents,
    minMs: number,
    maxMs: number,
    private readonly attempt: () => void,
    jitter = BACKOFF_JITTER,
  ) {
    this.backoff = new Backoff(minMs, maxMs, Math.random, jitter);
  }

  /** Count `code`, announce the reconnect and schedule the next attempt (ignored if one is pending). */
  fail(code: string): void {
    this.events.error(code);
    if (this.timer !== undefined) return;
    this.events.reconnecting();
    this.timer = setTimeout(this.fire, this.backoff.nextDelayMs());
  }

  /** True while an attempt is scheduled. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Cancel the scheduled attempt, if any. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.attempt();
  };
}
