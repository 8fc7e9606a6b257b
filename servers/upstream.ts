/**
 * Upstream publishes (chat workload, external publishers): the PublishRequest JSON of
 * `POST /publish` bodies and WebSocket publish frames (core/wire.ts).
 */
import { HttpError } from './http.ts';
import { nowUs, TOPIC_RE } from '../core/wire.ts';

export interface ParsedPublish {
  topic: string;
  data: string;
  /** the sender's send time (µs, nowUs clock), or the server's receive time when it sent none */
  ts: number;
}

/** Parse and validate a PublishRequest; `defaultTopic` applies when the body names none. */
export function parsePublishRequest(text: string, defaultTopic: string | undefined): ParsedPublish {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad_json', 'the body must be JSON: {"data":"…","ts":<µs>}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'bad_json', 'the body must be a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.data !== 'string') throw new HttpError(400, 'bad_publish', 'data must be a string');
  if (o.ts !== undefined && (typeof o.ts !== 'number' || !Number.isFinite(o.ts) || o.ts < 0)) {
    throw new HttpError(400, 'bad_publish', 'ts must be a non-negative number of µs');
  }
  const topic = o.topic === undefined ? defaultTopic : o.topic;
  if (typeof topic !== 'string' || !TOPIC_RE.test(topic)) throw new HttpError(400, 'bad_topic', `topic must match ${TOPIC_RE.source}`);
  return { topic, data: o.data, ts: typeof o.ts === 'number' ? o.ts : nowUs() };
}
