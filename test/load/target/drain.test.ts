/**
 * A server that answers one message per poll (shaped-server.ts `onePerPoll`), as some pub/sub
 * servers do: a short poll every 250 ms at 10 msg/s per topic falls six messages further behind
 * every second. Expected comes from the publisher's schedule, so what had not arrived by the end of the
 * drain is `undelivered` and the run says so; the profile's `drain: true` (poll again at once while
 * the answer was not empty, as such a server's own clients do) keeps up. A long poll re-polls at
 * once anyway. And the probe before a run, on such a server that also keeps each topic's history:
 * an earlier run's probe messages come first, and pass it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRANSPORTS, traitsOf } from '../../../load/drivers/index.ts';
import { runOnce } from '../../../load/runner.ts';
import { loadProfile } from '../../../load/target/profile.ts';
import { PROBE_TOPIC, probeTarget } from '../../../load/target/probe.ts';
import { encodeToken } from '../../../load/target/token.ts';
import { runSettings } from '../settings.ts';
import { SHAPED_CLIENTS, SHAPED_PROFILE, shapedRunArgs, shapedServerPerFile } from './shaped-server.ts';

// SSE over HTTP/2 runs over TLS only (test/load/sse-h2.test.ts); these servers speak plain HTTP
const PLAIN = TRANSPORTS.filter((t) => !traitsOf(t).tlsOnly);
const CLIENTS = SHAPED_CLIENTS;
const RATE = 10;
/** the polls' Δ, ms (the short poll's period; the drain after the window lasts 2Δ) */
const POLL_MS = 250;
/**
 * a run's length and warm-up, s: the warm-up covers the clients' arrival (20 ms at 1,000/s) and
 * every client's first poll (within Δ of its start)
 */
const DURATION_S = 2;
const WARMUP_S = 0.5;
const MEASURED_S = DURATION_S - WARMUP_S;
/** each client's topic carries RATE msg/s; the window holds exactly MEASURED_S × RATE of them */
const EXPECTED = CLIENTS * MEASURED_S * RATE;
const onePerPoll = shapedServerPerFile({ onePerPoll: true });

const dir = mkdtempSync(join(tmpdir(), 'pb-drain-'));
const draining = join(dir, 'drain.json');
const p = JSON.parse(readFileSync(SHAPED_PROFILE, 'utf8'));
p.transports['short-poll'].drain = true;
writeFileSync(draining, JSON.stringify(p));

const args = (url: string, profile?: string) => shapedRunArgs(url, { profile, durationS: DURATION_S, warmupS: WARMUP_S, extra: ['--rate', String(RATE), '--poll-interval', `${POLL_MS}ms`, '--long-poll-timeout', '2s'] });

describe('one message per poll', () => {
  it('short-poll at Δ = 250 ms without drain: the backlog is undelivered, aged, and makes the run invalid', async () => {
    const r = await runOnce(runSettings('short-poll', args(onePerPoll().url)));
    expect(r.summary.lost).toBe(0);
    expect(r.summary.duplicates).toBe(0);
    expect(r.summary.expected).toBe(EXPECTED);
    expect(r.summary.expected).toBe(r.summary.delivered + r.summary.lost + r.summary.undelivered!);
    // A topic's seq k is published (k − 1) × 100 ms after t0. A client's first poll, within Δ of its
    // arrival (by 0.27 s), sets its ETag at seq ≤ 3; then a poll every 250 ms, one message each,
    // until the end of the drain (the 2 s run + 2Δ = 0.5 s) answers at most 10 more, so it holds at
    // most seq 13 of its topic's, whose window ends at seq 20 (1.9 s): every client is at least
    // seven behind
    expect(r.summary.undelivered).toBeGreaterThanOrEqual(7 * CLIENTS);
    expect(r.backlogAgeMs).toBeGreaterThan(0);
    expect(r.summary.backlogAgeMs).toBe(r.backlogAgeMs);
    expect(r.valid).toBe(false);
    expect(r.invalidReasons.join('\n')).toMatch(new RegExp(`^${r.summary.undelivered} of ${EXPECTED} expected messages \\(.* %\\) had not arrived by the end of the drain; the oldest had waited .* since its scheduled time`, 'm'));
    console.log(`one message per poll, no drain: ${r.summary.delivered} delivered, ${r.summary.undelivered} undelivered of ${r.summary.expected}, backlog ${r.backlogAgeMs?.toFixed(0)} ms, p50 ${(r.summary.latencyUs.p50 / 1000).toFixed(1)} ms`);
  }, 20_000);

  it('short-poll with "drain": true polls again at once while there is more: all delivered, valid', async () => {
    const r = await runOnce(runSettings('short-poll', args(onePerPoll().url, draining)));
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.summary).toMatchObject({ expected: EXPECTED, delivered: EXPECTED, lost: 0, duplicates: 0, undelivered: 0, backlogAgeMs: null });
    // a drain ends on an empty answer: about one a grid poll
    expect(r.counters.emptyResponses).toBeGreaterThan(0);
    expect(r.counters.requests).toBeGreaterThan(r.counters.delivered);
    console.log(`one message per poll, drain: ${r.summary.delivered} delivered, ${r.summary.undelivered} undelivered of ${r.summary.expected}, ${r.counters.requests} requests, p50 ${(r.summary.latencyUs.p50 / 1000).toFixed(1)} ms`);
  }, 20_000);

  it('long-poll re-polls at once after every answer: nothing undelivered without being told', async () => {
    const r = await runOnce(runSettings('long-poll', args(onePerPoll().url)));
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.summary).toMatchObject({ expected: EXPECTED, delivered: EXPECTED, lost: 0, duplicates: 0, undelivered: 0 });
  }, 20_000);
});

describe('the probe on a server that keeps history and answers one message per poll', () => {
  const RETAINED = 40;
  const keeping = shapedServerPerFile({ history: RETAINED, onePerPoll: true });

  it.each(PLAIN)('%s: an earlier run\'s probe messages, handed over first, pass it at once', async (transport) => {
    const server = keeping();
    for (let seq = 1; seq <= RETAINED; seq++) {
      const body = JSON.stringify({ envelope: { body: encodeToken('earlier', seq, seq * 1000, PROBE_TOPIC, 64) } });
      expect((await fetch(`${server.url}/topics/${PROBE_TOPIC}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body })).status).toBe(201);
    }
    const { profile } = loadProfile(SHAPED_PROFILE);
    const started = performance.now();
    await probeTarget(server.url, profile, transport, { run: 'later', longPollTimeoutMs: 2000, payloadBytes: 64 });
    // The probe's short poll asks every 100 ms without drain, so walking the 40 retained messages
    // to its own would take 4 s; passing on the first (another run's) takes a connect and the
    // probe's 100 ms pause before it publishes.
    expect(performance.now() - started).toBeLessThan(2000);
  }, 10_000);
});
