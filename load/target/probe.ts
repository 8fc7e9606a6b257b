/**
 * Before a profile run: check that the target speaks the profile. One subscriber on a probe topic,
 * a few messages published to it; the probe passes when one comes back decoded, and otherwise
 * throws PB_TARGET_SHAPE with a sentence naming the transport, the URL and what was expected —
 * so a wrong profile fails in seconds instead of producing a run of errors.
 */
import { nowUs, type TransportName } from '../../core/wire.ts';
import { PushbenchError } from '../../core/errors.ts';
import type { ClientEvents, ClientTls } from '../drivers/types.ts';
import { profileDriver } from './drivers.ts';
import { expand, type Profile } from './profile.ts';
import { ProfilePublisher } from './publisher.ts';

/** The topic the probe publishes to (kept apart from the run's topics, whose seqs it would disturb). */
export const PROBE_TOPIC = 'pushbench-probe';

export interface ProbeOptions {
  /** the run id its tokens carry: the probe topic's history (earlier runs' probes) decodes as foreign */
  run: string;
  timeoutMs?: number;
  longPollTimeoutMs: number;
  payloadBytes: number;
  /** TLS (an https:// target): how the probe verifies it, as the run's clients do */
  tls?: ClientTls;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves when `transport` of `profile` delivers a probe message from `baseUrl`; throws PB_TARGET_SHAPE otherwise. */
export async function probeTarget(baseUrl: string, profile: Profile, transport: TransportName, o: ProbeOptions): Promise<void> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const problems: string[] = [];
  const errors = new Map<string, number>();
  let received = 0;
  let connected = false;
  const events: ClientEvents = {
    connected: () => (connected = true),
    message: () => received++,
    messageView: () => received++,
    request: () => (connected = true),
    gap: () => {},
    error: (code) => errors.set(code, (errors.get(code) ?? 0) + 1),
    reconnecting: () => {},
    // another run's message in the probe topic's history: the target answers as the profile says
    foreign: (n) => (received += n),
  };
  // A 4xx refuses the subscription as described: no retry will change that, so stop waiting.
  const refused = () => [...errors.keys()].some((code) => /^HTTP_4\d\d$/.test(code));
  const driver = profileDriver(transport, { profile, run: o.run, onProblem: (s) => problems.push(s) });
  const client = driver.create({
    id: 0, baseUrl, topic: PROBE_TOPIC, pollIntervalMs: 100, pollOffsetMs: 0,
    longPollTimeoutMs: Math.min(o.longPollTimeoutMs, timeoutMs), reconnectMinMs: 200, reconnectMaxMs: 1000, tls: o.tls,
  }, events);
  const deadline = Date.now() + timeoutMs;
  let publisher: ProfilePublisher | undefined;
  try {
    client.start();
    // Subscribe first: many servers deliver only what is published after the subscription.
    while (!connected && problems.length === 0 && !refused() && Date.now() < deadline) await sleep(10);
    await sleep(100);
    const startUs = nowUs();
    publisher = new ProfilePublisher({
      baseUrl, publish: profile.publish, topics: [PROBE_TOPIC], ratePerS: 10, payloadBytes: o.payloadBytes,
      startUs, stopUs: startUs + Math.max(0, deadline - Date.now()) * 1000, connections: 1, run: o.run, ca: o.tls?.ca,
    });
    publisher.start();
    while (received === 0 && problems.length === 0 && !refused() && Date.now() < deadline) await sleep(10);
  } finally {
    await Promise.all([client.close(), publisher?.close()]);
  }
  const does = profile.socketio ? 'the target does not answer as a Socket.IO server does' : `the target does not answer as profile "${profile.name}" says`;
  if (problems.length > 0) throw new PushbenchError('PB_TARGET_SHAPE', `${does}: ${problems[0]}`);
  if (received > 0) return;
  const path = profile.socketio ? `/socket.io/ (namespace ${profile.socketio.namespace}, event "${profile.socketio.event}")` : profile.transports[transport]!.url;
  const sub = `${baseUrl}${expand(path, { topic: PROBE_TOPIC, timeoutMs: o.longPollTimeoutMs }, true)}`;
  const pubErrors = Object.entries(publisher?.stats().errors ?? {}).map(([c, n]) => `${c} × ${n}`);
  const subErrors = [...errors].map(([c, n]) => `${c} × ${n}`);
  const seen = [
    subErrors.length ? `the subscription failed with ${subErrors.join(', ')}` : '',
    pubErrors.length ? `publishing by ${profile.publish.method} ${expand(profile.publish.url, { topic: PROBE_TOPIC }, true)} failed with ${pubErrors.join(', ')}` : '',
  ].filter(Boolean).join('; ');
  throw new PushbenchError('PB_TARGET_SHAPE', `${does}: ${transport} at ${sub}: expected the messages published by ${profile.publish.method} ${expand(profile.publish.url, { topic: PROBE_TOPIC }, true)} to arrive within ${timeoutMs / 1000} s; none did${seen ? ` (${seen})` : ''}`);
}
