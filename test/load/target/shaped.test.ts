/**
 * A server shaped nothing like the reference servers (shaped-server.ts: PUT with a JSON envelope,
 * ETag polls answering 304, SSE with its own ids and event type, a WebSocket endpoint), load-tested
 * through examples/profiles/shaped-server.json on every transport, run after run on one that
 * replays each topic's history to new subscribers. (Chat, cursor resume and wrongly shaped
 * answers: shaped-profile.test.ts.)
 *
 * Heavy: a run of every transport against a second server process, replaying history to each new subscriber.
 */
import { describe, expect, it } from 'vitest';
import { TRANSPORTS, traitsOf } from '../../../load/drivers/index.ts';
import { runOnce } from '../../../load/runner.ts';
import type { ResultRecord } from '../../../core/record.ts';
import { nowUs, type TransportName } from '../../../core/wire.ts';
import { encodeToken } from '../../../load/target/token.ts';
import { expectCleanRun, runSettings } from '../settings.ts';
import { SHAPED_CLIENTS, SHAPED_RATE, SHAPED_WARMUP_S, shapedRunArgs, shapedServerPerFile } from './shaped-server.ts';

// SSE over HTTP/2 runs over TLS only (test/load/sse-h2.test.ts); these servers speak plain HTTP
const PLAIN = TRANSPORTS.filter((t) => !traitsOf(t).tlsOnly);
const CLIENTS = SHAPED_CLIENTS;
const RATE = SHAPED_RATE;
/**
 * A run's length, s: the default warm-up (every client's first poll is within Δ = 100 ms of its
 * start) and 1 measured second, 10 messages a topic to each of 20 clients: counts, not timings.
 */
const DURATION_S = SHAPED_WARMUP_S + 1;
/** measured seconds of a run */
const MEASURED_S = DURATION_S - SHAPED_WARMUP_S;
/** what one run publishes to each fixed topic name */
const PER_TOPIC = RATE * DURATION_S;

/** What every run of the shaped server must be: valid, nothing lost, duplicated or undelivered, the expected messages delivered. */
function expectClean(r: ResultRecord): void {
  expect(r.config.profile).toBe('shaped-server');
  // expected came from the publisher's schedule, and all of it arrived
  expect(r.summary.undelivered).toBe(0);
  // the measured second × 10 msg/s to 20 clients
  expectCleanRun(r, MEASURED_S, RATE, CLIENTS);
}

describe('a differently-shaped server that keeps each topic\'s history and replays it to new subscribers, run after run', () => {
  // the last 40 notes of a topic: more than one run publishes to it (PER_TOPIC = 15)
  const keeping = shapedServerPerFile({ history: 40 });

  /** A run on the fixed topic names t0, t1 against `server`: its record, the publisher's count checked. */
  async function fixedNamesRun(server: ReturnType<typeof keeping>, transport: TransportName, name: string): Promise<ResultRecord> {
    const s = runSettings(transport, shapedRunArgs(server.url, { durationS: DURATION_S, extra: ['--poll-interval', '100ms', '--long-poll-timeout', '2s', '--topic-prefix', ''] }), name);
    const before = server.published();
    const r = await runOnce(s);
    // the generator published 2 topics × 10 msg/s over the whole run (the probe's few come on top)
    expect(server.published() - before).toBeGreaterThanOrEqual(2 * PER_TOPIC);
    expectClean(r);
    expect(r.config.topicPrefix).toBe('');
    expect(r.publisher).toMatchObject({ published: 2 * PER_TOPIC, failed: 0 });
    // no /stats: server figures unknown, bytes from the generator's own sockets
    expect(r.server).toBeNull();
    expect(r.summary.serverCpuUsPerMessage).toBeNull();
    expect(r.summary.serverRssBytesPerConnection).toBeNull();
    expect(r.summary.bytesPerMessage).toBeGreaterThan(r.config.payloadBytes);
    expect(r.counters.connectionsOpened).toBeGreaterThanOrEqual(CLIENTS);
    return r;
  }

  /** Every client was handed the earlier messages first (seq 1…PER_TOPIC again, which without run ids were taken for duplicates) and counted them apart. */
  function expectEarlierIgnored(r: ResultRecord): void {
    expect(r.counters.foreign).toBeGreaterThanOrEqual(CLIENTS);
    expect(r.notes?.join('\n')).toMatch(/message\(s\) of other runs arrived .* and were ignored/);
  }

  it('ws twice in a row on fixed topic names: each valid, 0 lost, 0 duplicates, 0 undelivered; the earlier run\'s messages foreign, ignored', async () => {
    const server = keeping();
    const first = await fixedNamesRun(server, 'ws', 'ws-1');
    const second = await fixedNamesRun(server, 'ws', 'ws-2');
    expect(second.runId).not.toBe(first.runId);
    expectEarlierIgnored(second);
  }, 30_000);

  // The other transports meet the same history without the first run: the topics hold what a
  // run before would have left (PER_TOPIC messages a topic, tokens of another run id, as ws's
  // first run published them), so each transport's decode path is held to the same claim in one run.
  it.each(PLAIN.filter((t) => t !== 'ws'))('%s after an earlier run\'s history on fixed topic names: valid, 0 lost, 0 duplicates, 0 undelivered; that history foreign, ignored', async (transport) => {
    const server = keeping();
    const earlier = `e${transport.replace(/[^a-z]/g, '')}`.slice(0, 16);
    for (const topic of ['t0', 't1']) {
      for (let seq = 1; seq <= PER_TOPIC; seq++) {
        const body = encodeToken(earlier, seq, nowUs() - 5_000_000, topic, 64);
        const res = await fetch(`${server.url}/topics/${topic}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope: { body } }) });
        expect(res.status).toBe(201);
      }
    }
    const r = await fixedNamesRun(server, transport, `${transport}-after`);
    expect(r.runId).not.toBe(earlier);
    expectEarlierIgnored(r);
  }, 30_000);

  it('by default each run publishes to topics of its own: another run\'s history on t0, t1 never reaches it', async () => {
    const server = keeping();
    // history on the fixed names, from a run of the format before run ids
    for (const topic of ['t0', 't1']) {
      for (let seq = 1; seq <= 5; seq++) {
        const res = await fetch(`${server.url}/topics/${topic}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelope: { body: `pb|${seq}|1000|${topic}|xx` } }) });
        expect(res.status).toBe(201);
      }
    }
    const r = await runOnce(runSettings('sse', shapedRunArgs(server.url, { durationS: DURATION_S })));
    expectClean(r);
    expect(r.config.topicPrefix).toBe(`pb-${r.runId}-`);
    expect(r.counters.foreign).toBe(0);
    expect(server.topicNotes().get(`pb-${r.runId}-t0`)).toBeGreaterThan(0);
  }, 20_000);
});
