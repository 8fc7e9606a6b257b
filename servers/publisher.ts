/**
 * The scheduled publisher: `ratePerS` messages per second on each of the topics `t0 … t{N-1}`,
 * each carrying `payloadBytes` of data, stamped with its *scheduled* time (the wrk2 rule: when the
 * server stalls, the messages it owes are published late but keep their planned `ts`, so the
 * stall shows up as latency).
 *
 * One timer serves every topic: the topics' schedules are interleaved into a single sequence with
 * period 1 / (N · ratePerS), message j going to topic j mod N, so 5,000 topics at 1 msg/s cost one
 * timer, not 5,000.
 */
import type { Hub } from './hub.ts';
import { nowUs, type PublishSchedule } from '../core/wire.ts';
import { CpuCost } from './cpu-cost.ts';
import { payloadSource, type PayloadKind } from './payload.ts';

export { makePayload } from './payload.ts';

export interface PublisherOptions {
  /** messages per second per topic; 0 publishes nothing */
  ratePerS: number;
  /** length of each message's `data` in characters (ASCII) */
  payloadBytes: number;
  /** what the data holds (servers/payload.ts); absent: `text` */
  payloadKind?: PayloadKind;
  /** data length of topic t0's messages alone (a large-message tab); absent or 0: `payloadBytes` */
  largeTopicBytes?: number;
  /** number of topics, named t0 … t{topics-1} */
  topics: number;
  /** an injected CPU regression: the share of the CPU used to spin after each publish (servers/cpu-cost.ts); 0 or absent: none */
  cpuCost?: number;
}

/** Name of the publisher's i-th topic. */
export function topicName(i: number): string {
  return `t${i}`;
}

/** how early (µs) a timer may fire and still publish the messages it was aimed at */
export const EARLY_US = 500;

export class Publisher {
  private readonly periodUs: number;
  private readonly payload: () => string;
  /** topic t0's payload (the same source when there is no large topic) */
  private readonly firstPayload: () => string;
  private readonly names: string[];
  private startUs = 0;
  /** index of the next message of the interleaved schedule */
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private cost: CpuCost | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly opts: PublisherOptions,
  ) {
    this.periodUs = opts.ratePerS > 0 && opts.topics > 0 ? 1e6 / (opts.ratePerS * opts.topics) : 0;
    this.payload = payloadSource(opts.payloadKind ?? 'text', opts.payloadBytes);
    const large = opts.largeTopicBytes ?? 0;
    this.firstPayload = large > 0 ? payloadSource(opts.payloadKind ?? 'text', large) : this.payload;
    this.names = Array.from({ length: opts.topics }, (_, i) => topicName(i));
    for (const n of this.names) hub.ensureTopic(n);
  }

  /** Start the schedule now: the first message is due one period from now. */
  start(): void {
    if (this.periodUs === 0 || this.stopped || this.timer) return;
    this.startUs = nowUs();
    this.next = 1;
    // counted from here: the CPU of starting the server is not the messages'
    if ((this.opts.cpuCost ?? 0) > 0) this.cost = new CpuCost(this.opts.cpuCost!);
    this.arm();
  }

  /**
   * The timetable (in /stats): message j (from 1) is due at start + j periods on topic (j − 1) mod N,
   * so a client can tell which of its topic's seqs were scheduled in a window, provided nothing
   * else publishes to `t0…`. A message may be stamped up to EARLY_US before its due time (see
   * {@link arm}). Null before the start or when it publishes nothing.
   */
  schedule(): PublishSchedule | null {
    if (this.periodUs === 0 || this.startUs === 0) return null;
    return { firstUs: this.startUs + this.periodUs, stepUs: this.periodUs, topics: this.names.length };
  }

  private dueUs(j: number): number {
    return this.startUs + j * this.periodUs;
  }

  /**
   * Node timers have millisecond resolution and fire a fraction of a millisecond late; rounding
   * the wait up would add up to a millisecond to every message's latency, always in the same
   * direction. So the timer aims at the due time itself (rounded to the nearest ms): it fires at
   * most EARLY_US early and usually a little late. A late publish keeps its scheduled ts (wrk2's
   * rule: the lateness is charged to latency); an early one is stamped with the time it really
   * left, never with a future ts, or a fast client would see a negative latency.
   */
  private arm(): void {
    const waitMs = Math.max(0, (this.dueUs(this.next) - nowUs()) / 1000);
    this.timer = setTimeout(() => this.tick(), Math.round(waitMs));
  }

  /** Publish every message that is due (or due within EARLY_US), each with ts = max(scheduled, now). */
  private tick(): void {
    const now = nowUs();
    const n = this.names.length;
    for (let due = this.dueUs(this.next); due <= now + EARLY_US; due = this.dueUs(this.next)) {
      const i = (this.next - 1) % n;
      this.hub.publish(this.names[i], i === 0 ? this.firstPayload() : this.payload(), due > now ? now : due);
      this.next++;
    }
    this.cost?.spend();
    if (!this.stopped) this.arm();
  }

  /** Stop publishing. Idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
