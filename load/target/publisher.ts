/**
 * The generator-side publisher of a profile run: publishes `ratePerS` messages per second to
 * every topic over HTTP, as the profile's `publish` says, each body carrying pushbench's token
 * (token.ts) with its per-topic seq and its *scheduled* send time (the wrk2 rule: a publisher or
 * server that stalls is charged for the stall, never hidden by a late timestamp).
 *
 * Topics take turns on one schedule: message g (g = 0, 1, …) goes to topic g mod T at
 * startUs + g / (T × rate) — one timer serves any number of topics. Requests go out on a small
 * keep-alive pool; how late the publisher sent against its schedule is tracked so the runner can
 * mark a run invalid when the publisher, not the server, fell behind.
 *
 * Threading: runs on the runner's main thread; nothing here blocks.
 */
import { Pool } from 'undici';
import { nowUs } from '../../core/wire.ts';
import { codeOf } from '../../core/errors.ts';
import { httpStatusCode } from '../drivers/http.ts';
import { expand, type PublishProfile } from './profile.ts';
import { encodeToken } from './token.ts';
import { createHistogram, percentiles } from '../../core/histogram.ts';

export interface PublisherOptions {
  /** origin of the target: `http://127.0.0.1:PORT` */
  baseUrl: string;
  publish: PublishProfile;
  topics: readonly string[];
  /** messages per second on each topic */
  ratePerS: number;
  payloadBytes: number;
  /** first message's scheduled time and the end of the schedule (µs on nowUs's clock) */
  startUs: number;
  stopUs: number;
  /** lateness counts from here on (the measured window's start); default startUs */
  judgeFromUs?: number;
  /** keep-alive connections to publish on */
  connections?: number;
  /** the run id every token carries (token.ts) */
  run: string;
  /** CA certificates (PEM) an https:// target is verified against; absent: the system's roots */
  ca?: string;
}

/** What the publisher did, for the record's validity checks. */
export interface PublisherStats {
  published: number;
  failed: number;
  /** failures by code (`HTTP_500`, `ECONNREFUSED`, …) */
  errors: Record<string, number>;
  /** worst lateness of a send against its schedule (scheduled from judgeFromUs on), µs */
  maxLateUs: number;
  /** sends scheduled from judgeFromUs on, and those of them later than {@link PUBLISHER_MAX_LATE_MS} */
  judged: number;
  lateSends: number;
  /** lateness of the judged sends, µs: how much of each delivery latency is the publisher's own */
  lateUs: { p50: number; p99: number };
  /** requests sent and not yet answered (now) */
  inFlight: number;
}

/**
 * The publisher's validity rule mirrors the runner's rule for a worker's event loop (delay p99
 * above 100 ms): a run is invalid when more than 1 % of its judged sends went out more than
 * 100 ms after their scheduled time (a stall either way is the generator's error, not the server's).
 */
export const PUBLISHER_MAX_LATE_MS = 100;
export const PUBLISHER_LATE_SHARE = 0.01;

export class ProfilePublisher {
  private readonly pool: Pool;
  private readonly seqs: number[];
  private readonly paths: string[];
  private readonly stepUs: number;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private closing: Promise<void> | undefined;
  private readonly s: PublisherStats = { published: 0, failed: 0, errors: {}, maxLateUs: 0, judged: 0, lateSends: 0, lateUs: { p50: 0, p99: 0 }, inFlight: 0 };
  private readonly late = createHistogram();

  constructor(private readonly o: PublisherOptions) {
    this.pool = new Pool(o.baseUrl, { connections: o.connections ?? 8, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000, ...(o.ca ? { connect: { ca: o.ca } } : {}) });
    this.seqs = o.topics.map(() => 0);
    this.paths = o.topics.map((topic) => expand(o.publish.url, { topic }, true));
    this.stepUs = o.ratePerS > 0 && o.topics.length > 0 ? 1e6 / (o.ratePerS * o.topics.length) : Infinity;
  }

  /** Begin publishing on the schedule (returns at once). */
  start(): void {
    if (Number.isFinite(this.stepUs)) this.tick();
  }

  stats(): PublisherStats {
    const p = percentiles(this.late);
    return { ...this.s, errors: { ...this.s.errors }, lateUs: { p50: p.p50, p99: p.p99 } };
  }

  /** Send every message whose time has come, then sleep until the next one. */
  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.stopped) return;
    const now = nowUs();
    for (;;) {
      const plannedUs = this.o.startUs + this.next * this.stepUs;
      if (plannedUs >= this.o.stopUs) return;
      if (plannedUs > now) {
        this.timer = setTimeout(this.tick, Math.max(0, (plannedUs - nowUs()) / 1000));
        return;
      }
      const i = this.next % this.o.topics.length;
      this.next++;
      this.send(i, plannedUs, now);
    }
  };

  private send(i: number, plannedUs: number, now: number): void {
    const topic = this.o.topics[i];
    const seq = ++this.seqs[i];
    if (plannedUs >= (this.o.judgeFromUs ?? this.o.startUs)) {
      const lateUs = now - plannedUs;
      this.s.judged++;
      if (lateUs > PUBLISHER_MAX_LATE_MS * 1000) this.s.lateSends++;
      if (lateUs > this.s.maxLateUs) this.s.maxLateUs = lateUs;
      this.late.recordValue(Math.max(1, Math.round(lateUs)));
    }
    const p = this.o.publish;
    const body = expand(p.body, { payload: encodeToken(this.o.run, seq, plannedUs, topic, this.o.payloadBytes), topic });
    this.s.inFlight++;
    this.pool.request({ method: p.method, path: this.paths[i], headers: p.headers, body }).then(
      async (res) => {
        await res.body.dump();
        this.done(res.statusCode >= 200 && res.statusCode <= 299 ? undefined : httpStatusCode(res.statusCode));
      },
      (err: unknown) => this.done(codeOf(err)),
    );
  }

  private done(code: string | undefined): void {
    this.s.inFlight--;
    if (code === undefined) this.s.published++;
    else {
      this.s.failed++;
      this.s.errors[code] = (this.s.errors[code] ?? 0) + 1;
    }
  }

  /** Stop scheduling; resolves once the requests in flight are answered (or the pool is destroyed). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopped = true;
      if (this.timer !== undefined) clearTimeout(this.timer);
      await this.pool.close().catch(() => this.pool.destroy());
    })();
    return this.closing;
  }
}

/** Why a run whose publisher did `st` is not a measurement of the server, or nothing. */
export function publisherProblems(st: PublisherStats): string[] {
  const out: string[] = [];
  if (st.failed > 0) {
    const codes = Object.entries(st.errors).map(([c, n]) => `${c} × ${n}`).join(', ');
    out.push(`the publisher failed to publish ${st.failed} message(s) (${codes}); they count as lost although the server never took them`);
  }
  if (st.judged > 0 && st.lateSends / st.judged > PUBLISHER_LATE_SHARE) {
    out.push(`the publisher fell behind its schedule: ${st.lateSends} of ${st.judged} messages went out more than ${PUBLISHER_MAX_LATE_MS} ms late (at worst ${(st.maxLateUs / 1000).toFixed(0)} ms; limit ${PUBLISHER_LATE_SHARE * 100} %); latencies include its lateness — use a lower --rate, fewer topics or a less busy machine`);
  }
  return out;
}
