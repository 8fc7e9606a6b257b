/**
 * A server shaped nothing like the reference servers (shaped-server.ts: PUT with a JSON envelope,
 * ETag polls answering 304, SSE with its own ids and event type, a WebSocket endpoint), load-tested
 * through examples/profiles/shaped-server.json on every transport, run after run on one that
 * replays each topic's history to new subscribers. (Chat, cursor resume and wrongly shaped
 * answers: shaped-profile.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { TRANSPORTS, traitsOf } from '../../../load/drivers/index.ts';
import { runOnce } from '../../../load/runner.ts';
import type { ResultRecord } from '../../../core/record.ts';
import { expectCleanRun, runSettings } from '../settings.ts';
import { SHAPED_CLIENTS, SHAPED_DURATION_S, SHAPED_RATE, SHAPED_WARMUP_S, shapedRunArgs, shapedServerPerFile } from './shaped-server.ts';

// SSE over HTTP/2 runs over TLS only (test/load/sse-h2.test.ts); these servers speak plain HTTP
const PLAIN = TRANSPORTS.filter((t) => !traitsOf(t).tlsOnly);
const CLIENTS = SHAPED_CLIENTS;
const RATE = SHAPED_RATE;
/** measured seconds of a profile run */
const MEASURED_S = SHAPED_DURATION_S - SHAPED_WARMUP_S;

/** What every run of the shaped server must be: valid, nothing lost, duplicated or undelivered, the expected messages delivered. */
function expectClean(r: ResultRecord): void {
  expect(r.config.profile).toBe('shaped-server');
  // expected came from the publisher's schedule, and all of it arrived
  expect(r.summary.undelivered).toBe(0);
  // the measured seconds × 10 msg/s to 20 clients
  expectCleanRun(r, MEASURED_S, RATE, CLIENTS);
}

describe('a differently-shaped server that keeps each topic\'s history and replays it to new subscribers, run after run', () => {
  // the last 40 notes of a topic: more than one run publishes to it (20 per topic in a 2 s run)
  const keeping = shapedServerPerFile({ history: 40 });

  it.each(PLAIN)('%s twice in a row on fixed topic names: each valid, 0 lost, 0 duplicates, 0 undelivered; the earlier run\'s messages foreign, ignored', async (transport) => {
    const server = keeping();
    const runs: ResultRecord[] = [];
    for (const n of [1, 2]) {
      const s = runSettings(transport, shapedRunArgs(server.url, { extra: ['--poll-interval', '100ms', '--long-poll-timeout', '2s', '--topic-prefix', ''] }), `${transport}-${n}`);
      const before = server.published();
      runs.push(await runOnce(s));
      // the generator published 2 topics × 10 msg/s over the whole run (the probe's few come on top)
      expect(server.published() - before).toBeGreaterThanOrEqual(2 * RATE * SHAPED_DURATION_S);
    }
    const [first, second] = runs;
    for (const r of runs) {
      expectClean(r);
      expect(r.config.topicPrefix).toBe('');
      expect(r.publisher).toMatchObject({ published: 2 * RATE * SHAPED_DURATION_S, failed: 0 });
      // no /stats: server figures unknown, bytes from the generator's own sockets
      expect(r.server).toBeNull();
      expect(r.summary.serverCpuUsPerMessage).toBeNull();
      expect(r.summary.serverRssBytesPerConnection).toBeNull();
      expect(r.summary.bytesPerMessage).toBeGreaterThan(r.config.payloadBytes);
      expect(r.counters.connectionsOpened).toBeGreaterThanOrEqual(CLIENTS);
    }
    expect(second.runId).not.toBe(first.runId);
    // every client of the second run was handed the first run's messages first (seq 1…20 again,
    // which without run ids were taken for duplicates) and counted them apart
    expect(second.counters.foreign).toBeGreaterThanOrEqual(CLIENTS);
    expect(second.notes?.join('\n')).toMatch(/message\(s\) of other runs arrived .* and were ignored/);
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
    const r = await runOnce(runSettings('sse', shapedRunArgs(server.url)));
    expectClean(r);
    expect(r.config.topicPrefix).toBe(`pb-${r.runId}-`);
    expect(r.counters.foreign).toBe(0);
    expect(server.topicNotes().get(`pb-${r.runId}-t0`)).toBeGreaterThan(0);
  }, 20_000);
});
