/**
 * Short-polling driver: one keep-alive connection; `GET /poll?topic=T[&since=S&epoch=E]` on a fixed
 * schedule — the first at start + `pollOffsetMs`, then every `pollIntervalMs` on the planned grid,
 * never Δ after the last answer. An answer that comes late sends the next poll at once, still
 * charged from its planned time, skipping nothing (the wrk2 rule). `pollIntervalMs = 0` polls back
 * to back (closed loop; planned = sent). After a failure the backoff wait is taken and polling
 * resumes at the next grid point (the outage shows as errors and reconnects, not as a burst).
 *
 * Drain (a codec that `drains`: a profile's `drain` for a server that answers a few messages per
 * request): after an answer that was not empty the next poll goes at once, off the grid and charged
 * from its own send time, until an answer is empty; then polling resumes at the next grid point
 * still ahead (the grid points the drain overlapped were served by it).
 *
 * Reports: `connected(tcpConnectUs)` per new socket; per answer each message, `gap()` if the answer
 * says so, then `request(planned, sent, done, empty)`.
 */
import { nowUs } from '../../core/wire.ts';
import { ContractCodec } from './codec.ts';
import { Cursor } from './cursor.ts';
import { Exchange, HttpClientBase } from './http.ts';
import { ContractUpstream } from './publish.ts';
import { pollScheduler, type Waiting } from './poll-scheduler.ts';
import { pollRules } from './profile-rules.ts';
import type { ClientEvents, ClientSpec, Dialect, Driver } from './types.ts';

/**
 * A poll waits for its planned time in the thread's {@link pollScheduler} (one timer for all the
 * thread's clients), not in a timer of its own: see poll-scheduler.ts for why.
 */
export class ShortPollClient extends HttpClientBase implements Waiting {
  private readonly exchange: Exchange;
  private readonly intervalUs: number;
  private plannedUs = 0;
  private sentUs = 0;
  /** draining (see the header): the grid point the drain started from, else -1 */
  private drainFromUs = -1;
  /** {@link Waiting}: owned by the scheduler */
  dueUs = 0;
  heapIndex = -1;

  constructor(spec: ClientSpec, events: ClientEvents, dialect?: Dialect) {
    super(spec, events, {
      headersTimeoutMs: 30_000,
      bodyTimeoutMs: 30_000,
      // Keep the socket across the gap between polls even when Δ is long.
      keepAliveTimeoutMs: Math.max(10_000, 2 * spec.pollIntervalMs),
      onConnected: (connectUs) => events.connected(connectUs),
    },
    dialect?.codec(spec, events) ?? new ContractCodec(new Cursor(events), `/poll?topic=${encodeURIComponent(spec.topic)}`, 'query'),
    dialect?.upstream(spec, events) ?? new ContractUpstream(spec, events));
    this.intervalUs = spec.pollIntervalMs * 1000;
    this.exchange = new Exchange(this.http, this.onAnswer);
  }

  start(): void {
    this.plannedUs = nowUs() + this.spec.pollOffsetMs * 1000;
    this.schedule();
  }

  protected reconnect(): void {
    const now = nowUs();
    if (this.drainFromUs >= 0) {
      this.plannedUs = this.drainFromUs;
      this.drainFromUs = -1;
    }
    if (this.intervalUs > 0 && this.plannedUs < now) {
      this.plannedUs += Math.ceil((now - this.plannedUs) / this.intervalUs) * this.intervalUs;
    }
    this.schedule();
  }

  protected stop(): void {
    pollScheduler.cancel(this);
    this.exchange.abort();
  }

  /** Send the poll planned for `plannedUs`: now if that time has come, else when it comes. */
  private schedule(): void {
    if (this.plannedUs <= nowUs()) this.send();
    else pollScheduler.at(this, this.plannedUs);
  }

  /** {@link Waiting}: the planned time has come. */
  due(): void {
    this.send();
  }

  private send(): void {
    if (this.closed) return;
    this.sentUs = nowUs();
    if (this.intervalUs === 0) this.plannedUs = this.sentUs;
    this.exchange.send('GET', this.codec.path(), undefined, this.codec.headers());
  }

  private readonly onAnswer = (err: Error | null, status: number, body: Buffer): void => {
    if (!this.pollAnswered(err, status, body, this.exchange, this.plannedUs, this.sentUs)) return;
    if (this.intervalUs === 0) {
      this.send(); // closed loop: the next poll is due now
      return;
    }
    if (this.codec.drains && !this.answeredEmpty) {
      if (this.drainFromUs < 0) this.drainFromUs = this.plannedUs;
      this.plannedUs = nowUs();
      this.send();
      return;
    }
    if (this.drainFromUs >= 0) {
      const from = this.drainFromUs;
      this.drainFromUs = -1;
      this.plannedUs = from + Math.max(1, Math.ceil((nowUs() - from) / this.intervalUs)) * this.intervalUs;
    } else this.plannedUs += this.intervalUs;
    this.schedule();
  };
}

export const shortPollDriver: Driver = {
  transport: 'short-poll',
  title: 'short polling',
  claimRank: 4,
  colour: '#e45756',
  traits: { pollInterval: true, longPollTimeout: false, publishesInBand: false },
  profile: pollRules({ reference: { url: '/poll?topic={topic}', json: 'messages[].data', cursor: { style: 'query', param: 'since', from: 'json:next' } } }),
  create: (spec, events, dialect) => new ShortPollClient(spec, events, dialect),
};
