/**
 * Short polling: `GET /poll?topic=T&since=S[&epoch=E]` answers at once with every retained
 * message newer than S (at most maxBatch), as a PollAnswer.
 */
import { cursorParam, sendJson, topicParam } from '../http.ts';
import { pollBody } from './poll-body.ts';
import type { ServerTransport, TransportFactory } from './types.ts';

const createShortPoll: TransportFactory = ({ hub, stats, options }) => ({
  handle({ req, res, query }) {
    const topic = topicParam(query);
    const cursor = cursorParam(query);
    const r = hub.since(topic, cursor.since, cursor.epoch, options.maxBatch);
    stats.tag(req.socket, 'short-poll');
    sendJson(res, 200, pollBody(hub.epoch, r));
    stats.delivered['short-poll'] += r.messages.length;
  },
  async close() {},
});

/** Short polling on the reference server (registered in servers/transports/index.ts). */
export const shortPollTransport: ServerTransport = { name: 'short-poll', path: '/poll', create: createShortPoll };
