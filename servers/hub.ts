/**
 * The hub: topics, per-topic sequence numbers, the server's epoch, a replay ring per topic and
 * fan-out to subscribers. Transports never see each other; they read the ring with {@link Hub.since}
 * and receive new messages through {@link Subscriber.deliver}.
 *
 * Threading: single event loop; nothing here blocks. `deliver` is called synchronously from
 * `publish` (or from the delay timer when `delayMs > 0`) and must not throw.
 */
import { randomBytes } from 'node:crypto';
import { encodeMessage, nowUs, type WireMessage } from '../core/wire.ts';

/**
 * A published message plus its serializations. `json` is built once; transports cache their own
 * frames (SSE event, WebSocket frame, poll body) with {@link HubMessage.memo}, so a message is
 * serialized once per transport, never once per subscriber.
 */
export class HubMessage implements WireMessage {
  readonly seq: number;
  readonly ts: number;
  readonly topic: string;
  readonly epoch: string;
  readonly data: string;
  /** the contract JSON text (core/wire.ts encodeMessage) */
  readonly json: string;
  private readonly frames = new Map<symbol, unknown>();

  constructor(m: WireMessage) {
    this.seq = m.seq;
    this.ts = m.ts;
    this.topic = m.topic;
    this.epoch = m.epoch;
    this.data = m.data;
    this.json = encodeMessage(m);
  }

  /** The value `build` makes for this message, built on first use under `key` and kept. */
  memo<T>(key: symbol, build: (m: HubMessage) => T): T {
    let v = this.frames.get(key) as T | undefined;
    if (v === undefined) {
      v = build(this);
      this.frames.set(key, v);
    }
    return v;
  }
}

/** Receives every message of the topics it subscribed to, in seq order. */
export interface Subscriber {
  deliver(m: HubMessage): void;
}

/** What a resume cursor yields: the retained messages after it, the next cursor and any gap. */
export interface SinceResult {
  messages: HubMessage[];
  /** the seq to resume from next time (`since=next`) */
  next: number;
  /** messages `from`…`to` (inclusive) fell out of the ring before the client asked */
  gap?: { from: number; to: number };
}

export interface HubOptions {
  /** messages kept per topic for resume */
  ringSize: number;
  /** hold every message this long (ms) before it becomes visible and is fanned out; ts unchanged */
  delayMs: number;
  /** the epoch to use; a random id by default (one per server start) */
  epoch?: string;
}

/** One topic: the seq counter, the replay ring (a circular buffer) and the subscribers. */
class Topic {
  /** last seq assigned by publish */
  assigned = 0;
  /** last seq visible (in the ring, fanned out); lags `assigned` by the delay */
  visible = 0;
  readonly subscribers = new Set<Subscriber>();
  private readonly ring: (HubMessage | undefined)[];
  private count = 0;

  constructor(
    readonly name: string,
    ringSize: number,
  ) {
    this.ring = new Array<HubMessage | undefined>(ringSize);
  }

  push(m: HubMessage): void {
    if (this.ring.length > 0) {
      this.ring[m.seq % this.ring.length] = m;
      this.count = Math.min(this.count + 1, this.ring.length);
    }
    this.visible = m.seq;
  }

  /** seq of the oldest retained message (visible + 1 when the ring is empty) */
  oldest(): number {
    return this.visible - this.count + 1;
  }

  /** retained messages with seq in [from, to] (both within the ring) */
  slice(from: number, to: number): HubMessage[] {
    const out: HubMessage[] = [];
    for (let s = from; s <= to; s++) out.push(this.ring[s % this.ring.length] as HubMessage);
    return out;
  }
}

export class Hub {
  /** random id of this server run; clients detect a restart by its change */
  readonly epoch: string;
  private readonly topics = new Map<string, Topic>();
  private readonly ringSize: number;
  private readonly delayMs: number;
  /** delayed messages in publish order (the delay is constant, so one timer serves them all) */
  private readonly delayed: { dueMs: number; m: HubMessage }[] = [];
  private delayedHead = 0;
  private delayTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** messages published since start */
  published = 0;
  /** messages answered from the replay ring (a resume, a poll) since start, in this process */
  replayed = 0;
  /** resumes that asked for messages the ring no longer held (answered with a gap) */
  replayGaps = 0;

  constructor(opts: HubOptions) {
    this.epoch = opts.epoch ?? randomBytes(6).toString('base64url');
    this.ringSize = opts.ringSize;
    this.delayMs = opts.delayMs;
  }

  /** The topic `name`, created on first use. The caller has validated the name (TOPIC_RE). */
  private topic(name: string): Topic {
    let t = this.topics.get(name);
    if (!t) {
      t = new Topic(name, this.ringSize);
      this.topics.set(name, t);
    }
    return t;
  }

  /** Number of topics that exist. */
  get topicCount(): number {
    return this.topics.size;
  }

  /** Create `name` now (the publisher's topics exist before anyone subscribes). */
  ensureTopic(name: string): void {
    this.topic(name);
  }

  /**
   * Publish `data` on `topic` with timestamp `tsUs` (µs, nowUs clock). Returns the assigned seq.
   * The message becomes visible (ring, subscribers) at once, or `delayMs` later.
   */
  publish(topic: string, data: string, tsUs: number): number {
    if (this.closed) return 0;
    const t = this.topic(topic);
    const m = new HubMessage({ seq: ++t.assigned, ts: tsUs, topic, epoch: this.epoch, data });
    this.published++;
    if (this.delayMs > 0) {
      // Held `delayMs` from the message's own ts (its scheduled or sent time), so the injected
      // delay comes out as itself; a ts from an unrelated clock falls back to now.
      const nowMs = nowUs() / 1000;
      const tsMs = tsUs / 1000;
      const fromMs = tsMs <= nowMs && tsMs > nowMs - this.delayMs ? tsMs : nowMs;
      this.delayed.push({ dueMs: fromMs + this.delayMs, m });
      if (!this.delayTimer) this.armDelayTimer();
    } else {
      this.release(t, m);
    }
    return m.seq;
  }

  /**
   * A publish that came from a client (`POST /publish`, a WebSocket publish frame). In one process
   * this is {@link publish}; a cluster worker's hub (servers/cluster.ts) overrides it so that the
   * primary assigns the seq. Resolves with the assigned seq.
   */
  publishUpstream(topic: string, data: string, tsUs: number): Promise<number> {
    return Promise.resolve(this.publish(topic, data, tsUs));
  }

  private release(t: Topic, m: HubMessage): void {
    t.push(m);
    // Copy-free iteration is safe: a subscriber that unsubscribes itself during deliver is fine
    // for a Set (deleted entries not yet visited are skipped, the current one is done).
    for (const s of t.subscribers) s.deliver(m);
  }

  private armDelayTimer(): void {
    const next = this.delayed[this.delayedHead];
    if (!next) {
      this.delayTimer = undefined;
      return;
    }
    // Aim at the due time itself (see Publisher.arm): a release up to half a millisecond early
    // is closer to the asked delay than the millisecond a rounded-up timer adds.
    const waitMs = Math.max(0, next.dueMs - nowUs() / 1000);
    this.delayTimer = setTimeout(() => this.releaseDue(), Math.round(waitMs));
  }

  private releaseDue(): void {
    const nowMs = nowUs() / 1000 + 0.5;
    while (this.delayedHead < this.delayed.length && this.delayed[this.delayedHead].dueMs <= nowMs) {
      const { m } = this.delayed[this.delayedHead++];
      this.release(this.topic(m.topic), m);
    }
    if (this.delayedHead > 1024 && this.delayedHead * 2 > this.delayed.length) {
      this.delayed.splice(0, this.delayedHead);
      this.delayedHead = 0;
    }
    this.armDelayTimer();
  }

  /** Deliver every later message of `topic` to `s` until the returned function is called. */
  subscribe(topic: string, s: Subscriber): () => void {
    const t = this.topic(topic);
    t.subscribers.add(s);
    return () => {
      t.subscribers.delete(s);
    };
  }

  /** Number of subscribers of `topic` (0 when it does not exist). */
  subscriberCount(topic: string): number {
    return this.topics.get(topic)?.subscribers.size ?? 0;
  }

  /** The newest visible seq of `topic` (0 when nothing was published). */
  lastSeq(topic: string): number {
    return this.topics.get(topic)?.visible ?? 0;
  }

  /**
   * Resume cursor (core/wire.ts cursor rules): the retained messages with seq > `since`, at
   * most `max` of them, oldest first. `since` undefined means "from now" (no messages). A
   * `clientEpoch` other than ours means a reset: the answer starts at the ring's oldest message
   * and reports no gap (the client sees the new epoch). A `since` older than the ring reports the
   * lost range as a gap.
   */
  since(topic: string, since: number | undefined, clientEpoch: string | undefined, max: number): SinceResult {
    const t = this.topic(topic);
    if (since === undefined) return { messages: [], next: t.visible };
    const reset = clientEpoch !== undefined && clientEpoch !== this.epoch;
    const oldest = t.oldest();
    let from = reset ? oldest : since + 1;
    let gap: SinceResult['gap'];
    if (from < oldest) {
      gap = { from, to: oldest - 1 };
      from = oldest;
      this.replayGaps++;
    }
    const to = Math.min(t.visible, from + max - 1);
    if (to < from) return gap ? { messages: [], next: gap.to, gap } : { messages: [], next: t.visible };
    this.replayed += to - from + 1;
    return { messages: t.slice(from, to), next: to, gap };
  }

  /** Stop delayed deliveries; later publishes are ignored. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
  }
}
