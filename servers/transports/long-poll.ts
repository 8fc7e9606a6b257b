/**
 * Long polling: `GET /long-poll?topic=T&since=S&timeout=MS[&epoch=E]` is held until at least one
 * message newer than S exists, then answered with all of them (at most maxBatch); at the timeout
 * (clamped to maxLongPollTimeoutMs) it is answered with no messages. Both are a PollAnswer.
 */
import type { ServerResponse } from 'node:http';
import type { HubMessage, SinceResult, Subscriber } from '../hub.ts';
import { cursorParam, HttpError, sendJson, topicParam } from '../http.ts';
import { pollBody } from './poll-body.ts';
import type { ServerTransport, TransportFactory } from './types.ts';

/** Cached per message: the answer to a poll whose cursor is the message's predecessor. */
const SINGLE_BODY = Symbol('long-poll.single');

const createLongPoll: TransportFactory = ({ hub, stats, options }) => {
  const held = new Set<HeldPoll>();

  class HeldPoll implements Subscriber {
    private readonly timer: NodeJS.Timeout;
    private readonly unsubscribe: () => void;
    private done = false;

    constructor(
      private readonly res: ServerResponse,
      private readonly topic: string,
      private readonly since: number,
      timeoutMs: number,
    ) {
      this.unsubscribe = hub.subscribe(topic, this);
      this.timer = setTimeout(() => this.answer({ messages: [], next: since }), timeoutMs);
      res.once('close', () => this.finish());
      held.add(this);
    }

    deliver(m: HubMessage): void {
      if (m.seq === this.since + 1) {
        this.answerBody(m.memo(SINGLE_BODY, () => pollBody(hub.epoch, { messages: [m], next: m.seq })), 1);
      } else {
        this.answer(hub.since(this.topic, this.since, undefined, options.maxBatch));
      }
    }

    answer(r: SinceResult, headers: Record<string, string> = {}): void {
      this.answerBody(pollBody(hub.epoch, r), r.messages.length, headers);
    }

    private answerBody(body: string, count: number, headers: Record<string, string> = {}): void {
      if (this.done) return;
      this.finish();
      sendJson(this.res, 200, body, headers);
      stats.delivered['long-poll'] += count;
    }

    private finish(): void {
      if (this.done) return;
      this.done = true;
      clearTimeout(this.timer);
      this.unsubscribe();
      held.delete(this);
    }

    /** Answer empty and close the connection (server shutdown). */
    shutdown(): void {
      this.answer({ messages: [], next: this.since }, { connection: 'close' });
    }
  }

  return {
    handle({ req, res, query }) {
      const topic = topicParam(query);
      const cursor = cursorParam(query);
      const timeoutText = query.get('timeout');
      let timeoutMs = options.defaultLongPollTimeoutMs;
      if (timeoutText !== null) {
        if (!/^\d{1,10}$/.test(timeoutText)) throw new HttpError(400, 'bad_timeout', 'timeout must be a whole number of milliseconds');
        timeoutMs = Number(timeoutText);
      }
      timeoutMs = Math.min(timeoutMs, options.maxLongPollTimeoutMs);
      stats.tag(req.socket, 'long-poll');
      const r = hub.since(topic, cursor.since, cursor.epoch, options.maxBatch);
      if (r.messages.length > 0 || r.gap || timeoutMs === 0) {
        sendJson(res, 200, pollBody(hub.epoch, r));
        stats.delivered['long-poll'] += r.messages.length;
        return;
      }
      new HeldPoll(res, topic, r.next, timeoutMs);
    },
    async close() {
      for (const p of [...held]) p.shutdown();
    },
  };
};

/** Long polling on the reference server (registered in servers/transports/index.ts). */
export const longPollTransport: ServerTransport = { name: 'long-poll', path: '/long-poll', create: createLongPoll };
