/**
 * The built-in reference profile describes the reference servers: for every transport the probe
 * publishes by the profile's request and receives it through the transport as the profile says
 * (the same check every profile run makes before its load); reference-latency.test.ts holds one
 * ws run through the profile to what the native path gives. The profile path runs every transport end to end in shaped.test.ts; the native
 * path in test/load/run.test.ts. And the profile's WebSocket resumes after a cut through its
 * query cursor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSPORTS, traitsOf } from '../../../load/drivers/index.ts';
import { runOnce } from '../../../load/runner.ts';
import { loadProfile } from '../../../load/target/profile.ts';
import { probeTarget } from '../../../load/target/probe.ts';
import { startServer, type RunningServer } from '../../../servers/server.ts';
import { runSettings } from '../settings.ts';

// SSE over HTTP/2 runs over TLS only (test/load/sse-h2.test.ts); these servers speak plain HTTP
const PLAIN = TRANSPORTS.filter((t) => !traitsOf(t).tlsOnly);
const CLIENTS = 20;
/** 1 measured second; every client connected within the warm-up (20 at 1,000/s) */
const MEASURED_S = 1;
const ARGS = ['--clients', String(CLIENTS), '--topics', '2', '--rate', '10', '--duration', '1500ms', '--warmup', '500ms', '--poll-interval', '100ms', '--long-poll-timeout', '2s'];

describe('builtin:reference describes every transport of the reference server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', ratePerS: 0, topics: 1 });
  });
  afterAll(() => server.close());

  it.each(PLAIN)('%s: a message published by the profile\'s request arrives through the profile\'s subscription', async (transport) => {
    const { profile, problems } = loadProfile('builtin:reference');
    expect(problems).toEqual([]);
    await probeTarget(server.url, profile, transport, { run: 'probe1', longPollTimeoutMs: 2000, payloadBytes: 64 });
  });
});

describe('--profile builtin:reference resumes a cut WebSocket', () => {
  it('every connection cut mid-run: clients reconnect with ?since=<seq of the last message>; nothing lost but the cut publishes, 0 duplicates', async () => {
    // the cut half a second into the window, after every client is connected (20 at 1,000/s); the
    // second after it holds the ~100 ms backoff, the resume and ten publishes a topic
    const r = await runOnce(runSettings('ws', ['--clients', String(CLIENTS), '--topics', '2', '--rate', '10', '--duration', '2000ms', '--warmup', '500ms',
      '--profile', 'builtin:reference', '--fault', 'cut-connections@1000ms:100%'], 'ws-profile-cut'));
    const [f] = r.faults!;
    expect(f.injected).toMatch(/cut \d+ connections/);
    expect(f.disconnects).toBe(CLIENTS);
    // the messages published while the clients were away (~100 ms backoff at 10 msg/s) came back on resume
    expect(f.recovered).toBeGreaterThan(0);
    expect(r.summary.duplicates).toBe(0);
    // The fault cuts every connection of the server, the generator publisher's keep-alive ones
    // too: a publish in flight then fails. Its seq was spent, so when the server never took it,
    // each of the topic's CLIENTS/2 subscribers misses that one message; when the server took it
    // before the answer was cut, nobody misses it. The resume itself loses nothing: loss comes
    // in whole failed publishes only. (A resume without the cursor loses what each client missed
    // while away, a number that differs from client to client: no multiple of 10.)
    const failed = r.publisher!.failed;
    console.log(`profile cut: ${f.disconnects} disconnects, ${f.recovered} recovered, publisher failed ${failed}, lost ${r.summary.lost}`);
    expect(r.summary.lost % (CLIENTS / 2)).toBe(0);
    expect(r.summary.lost).toBeLessThanOrEqual(failed * (CLIENTS / 2));
    if (failed === 0) expect(r.invalidReasons.join('; ')).toBe('');
    else expect(r.invalidReasons.join('; ')).toMatch(/the publisher failed to publish/);
  }, 20_000);
});

describe('a long-lived reference server as --target, run after run (the native contract)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // its own publisher on t0, t1 at 10 msg/s from its start, as `pushbench serve` runs it
    server = await startServer({ port: 0, host: '127.0.0.1', ratePerS: 10, topics: 2 });
  });
  afterAll(() => server.close());

  it('ws twice: each valid, 0 lost, 0 duplicates, expected from the timetable in its /stats, nothing undelivered', async () => {
    const runs = [];
    for (const n of [1, 2]) runs.push(await runOnce(runSettings('ws', ['--target', server.url, ...ARGS], `ws-target-${n}`)));
    for (const r of runs) {
      expect(r.invalidReasons.join('; ')).toBe('');
      expect(r.summary).toMatchObject({ lost: 0, duplicates: 0, undelivered: 0, foreign: 0 });
      expect(r.summary.expected).toBe(r.summary.delivered);
      // the measured seconds at 10 msg/s to 20 clients, ± one message per client at each edge
      expect(r.summary.delivered).toBeGreaterThanOrEqual(MEASURED_S * 10 * CLIENTS - 2 * CLIENTS);
      expect(r.summary.delivered).toBeLessThanOrEqual(MEASURED_S * 10 * CLIENTS + 2 * CLIENTS);
    }
    expect(runs[1].runId).not.toBe(runs[0].runId);
    // the server's seqs went on from the first run's: the second run's clients saw none of them
    expect(runs[1].counters.resets).toBe(0);
  }, 20_000);
});
