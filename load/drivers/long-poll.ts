/**
 * Long-polling driver: one keep-alive connection; `GET /long-poll?topic=T&timeout=MS[&since=S&epoch=E]`
 * in a loop, re-issued the moment an answer arrives.
 *
 * Reports: `connected(tcpConnectUs)` per new socket; per answer each message, `gap()` if the answer
 * says so, then `request(sent, sent, done, empty)`; a transport error or non-200 answer counts its
 * code and retries after backoff from the same cursor.
 */
import { nowUs } from '../../core/wire.ts';
import { ContractCodec } from './codec.ts';
import { Cursor } from './cursor.ts';
import { Exchange, HttpClientBase } from './http.ts';
import { ContractUpstream } from './publish.ts';
import { pollRules } from './profile-rules.ts';
import type { ClientEvents, ClientSpec, Dialect, Driver } from './types.ts';

/** Slack over the poll's own timeout before the client gives up on an answer. */
const ANSWER_SLACK_MS = 10_000;

export class LongPollClient extends HttpClientBase {
  private readonly exchange: Exchange;
  private sentUs = 0;

  constructor(spec: ClientSpec, events: ClientEvents, dialect?: Dialect) {
    const answerTimeoutMs = spec.longPollTimeoutMs + ANSWER_SLACK_MS;
    const contractPath = `/long-poll?topic=${encodeURIComponent(spec.topic)}&timeout=${spec.longPollTimeoutMs}`;
    super(spec, events, {
      headersTimeoutMs: answerTimeoutMs,
      bodyTimeoutMs: answerTimeoutMs,
      onConnected: (connectUs) => events.connected(connectUs),
    },
    dialect?.codec(spec, events) ?? new ContractCodec(new Cursor(events), contractPath, 'query'),
    dialect?.upstream(spec, events) ?? new ContractUpstream(spec, events));
    this.exchange = new Exchange(this.http, this.onAnswer);
  }

  start(): void {
    this.poll();
  }

  protected reconnect(): void {
    this.poll();
  }

  protected stop(): void {
    this.exchange.abort();
  }

  private poll(): void {
    if (this.closed) return;
    this.sentUs = nowUs();
    this.exchange.send('GET', this.codec.path(), undefined, this.codec.headers());
  }

  private readonly onAnswer = (err: Error | null, status: number, body: Buffer): void => {
    if (this.pollAnswered(err, status, body, this.exchange, this.sentUs, this.sentUs)) this.poll();
  };
}

export const longPollDriver: Driver = {
  transport: 'long-poll',
  title: 'long polling',
  claimRank: 3,
  colour: '#54a24b',
  traits: { pollInterval: false, longPollTimeout: true, publishesInBand: false },
  profile: pollRules({
    placeholders: ['topic', 'timeoutMs'],
    // re-issued the moment an answer arrives: a long poll drains by itself
    drain: 'always',
    reference: { url: '/long-poll?topic={topic}&timeout={timeoutMs}', json: 'messages[].data', cursor: { style: 'query', param: 'since', from: 'json:next' } },
  }),
  create: (spec, events, dialect) => new LongPollClient(spec, events, dialect),
};
