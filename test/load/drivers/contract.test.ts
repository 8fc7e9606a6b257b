/**
 * The shared driver contract: every driver in the registry against the real reference server
 * (servers/server.ts) on port 0, over real loopback sockets.
 * The poll drivers' timing (a grid Δ apart, re-issue at once) is in poll-timing.test.ts, which runs
 * alone (test/lanes.ts).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DRIVERS, driverFor } from '../../../load/drivers/index.ts';
import type { Client, ClientSpec, Driver } from '../../../load/drivers/types.ts';
import { nowUs } from '../../../core/wire.ts';
import { TRANSPORTS } from '../../../load/drivers/index.ts';
import { activeResources, contractSpec, EventLog, serverWithProxy, sleep, waitFor } from './helpers.ts';

/**
 * Messages a second on each topic. The tests wait for counts of messages (8, 4 + 6, 2), so this
 * sets how long they take; at 50/s a topic is a message every 20 ms, a light load for one client.
 */
const RATE_PER_S = 50;
const PAYLOAD_BYTES = 16;

const env = serverWithProxy({ ratePerS: RATE_PER_S, topics: 4, payloadBytes: PAYLOAD_BYTES, ringSize: 1000, heartbeatMs: 500, sseRetryMs: 150 });

function spec(overrides: Partial<ClientSpec> = {}): ClientSpec {
  return contractSpec(env.server.url, overrides);
}

/** Asserts the seqs are consecutive: nothing lost, nothing repeated, nothing out of order. */
function expectConsecutive(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== seqs[i - 1] + 1) expect.fail(`seq ${seqs[i - 1]} followed by ${seqs[i]} in [${seqs.join(',')}]`);
  }
}

describe('driver registry', () => {
  it('has one driver per transport, found by name', () => {
    expect(Object.keys(DRIVERS).sort()).toEqual([...TRANSPORTS].sort());
    for (const name of TRANSPORTS) expect(driverFor(name).transport).toBe(name);
  });
});

// SSE over HTTP/2 runs over TLS only (test/load/sse-h2.test.ts); these servers speak plain HTTP
describe.each(Object.values(DRIVERS).filter((d) => !d.traits.tlsOnly))('driver $transport', (driver: Driver) => {
  const clients: Client[] = [];
  const make = (overrides: Partial<ClientSpec> = {}, log = new EventLog()) => {
    const client = driver.create(spec(overrides), log);
    clients.push(client);
    return { client, log };
  };

  // a failed test must not leave its client open for the next one to trip over
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  it('connects and delivers messages in order with the contract fields; bytes grow', async () => {
    const { client, log } = make({ topic: 't1' });
    expect(client.open).toBe(false);
    client.start();
    await waitFor(() => log.messages.length >= 8, '8 messages');
    expect(log.connects.length).toBeGreaterThanOrEqual(1);
    expect(log.connects[0]).toBeGreaterThan(0);
    expect(log.connects[0]).toBeLessThan(1e6);
    expect(client.open).toBe(true);
    expectConsecutive(log.seqs());
    for (const { msg, recvUs } of log.messages) {
      expect(msg.topic).toBe('t1');
      expect(msg.epoch).toBe(env.server.hub.epoch);
      expect(msg.data).toHaveLength(PAYLOAD_BYTES);
      expect(recvUs).toBeGreaterThanOrEqual(msg.ts);
      expect(recvUs - msg.ts).toBeLessThan(2e6);
    }
    const first = client.bytes();
    expect(first.read).toBeGreaterThan(log.messages.length * PAYLOAD_BYTES);
    expect(first.written).toBeGreaterThan(0);
    const seen = log.messages.length;
    await waitFor(() => log.messages.length > seen, 'one more message');
    expect(client.bytes().read).toBeGreaterThan(first.read);
    expect(log.errors).toEqual([]);
    await client.close();
    expect(client.open).toBe(false);
  });

  it('resumes after the server side drops the connection: no loss, no duplicates', async () => {
    // The first reconnect waits ≥ 120 ms (SSE: the server's retry: 150), long enough for messages
    // to be published meanwhile.
    const { client, log } = make({ baseUrl: env.proxy.url, topic: 't2', reconnectMinMs: 150 });
    client.start();
    await waitFor(() => log.messages.length >= 4, '4 messages');
    const bytesBefore = client.bytes();
    env.proxy.cut();
    const cutAt = log.messages.length;
    await waitFor(() => log.messages.length >= cutAt + 6, '6 messages after the cut');
    expectConsecutive(log.seqs());
    expect(log.connects.length).toBeGreaterThanOrEqual(2);
    const after = client.bytes();
    expect(after.read).toBeGreaterThan(bytesBefore.read);
    expect(after.written).toBeGreaterThan(bytesBefore.written);
    await client.close();
  });

  it('close() is idempotent and leaves no socket, timer or server-side connection', async () => {
    await waitFor(() => env.server.stats().open[driver.transport] === 0, 'earlier clients gone from /stats');
    const before = activeResources();
    const { client, log } = make({ topic: 't3' });
    client.start();
    await waitFor(() => log.messages.length >= 2, '2 messages');
    client.publish('x', nowUs()); // HTTP transports open their publish connection: it must close too
    await waitFor(() => log.messages.some((m) => m.msg.data === 'x'), 'its own publish back');
    const first = client.close();
    const second = client.close();
    await Promise.all([first, second]);
    await client.close();
    expect(client.open).toBe(false);
    await waitFor(() => env.server.stats().open[driver.transport] === 0 && env.server.stats().tcpOpen === 0, 'server sees no open connection');
    // Nothing of the client's may remain: no resource type above its count before it started
    // (earlier tests' leftovers may still be winding down, so fewer is fine).
    await waitFor(
      () => Object.entries(activeResources()).every(([type, n]) => n <= (before[type] ?? 0)),
      `resources back within ${JSON.stringify(before)} (now ${JSON.stringify(activeResources())})`,
      2000,
    );
    const messages = log.messages.length;
    const bytes = client.bytes();
    await sleep(150);
    expect(log.messages.length).toBe(messages);
    expect(client.bytes()).toEqual(bytes);
  });

  it('publishes upstream to the other subscribers of its topic', async () => {
    const topic = `room-${driver.transport}`;
    // the server publishes nothing on this topic, so a long poll's first answer is its timeout's
    const sender = make({ topic, longPollTimeoutMs: 200 });
    const receiver = make({ topic, longPollTimeoutMs: 200 });
    receiver.client.start();
    sender.client.start();
    // a poll is subscribed once it has been answered; a stream once it is connected
    const polls = driver.traits.pollInterval || driver.traits.longPollTimeout;
    const ready = (log: EventLog) => log.connects.length > 0 && (log.requests.length > 0 || !polls);
    await waitFor(() => ready(sender.log) && ready(receiver.log), 'both subscribed');
    await sleep(100);
    const sentTs: number[] = [];
    for (let i = 0; i < 5; i++) {
      sentTs.push(Math.round(nowUs()));
      sender.client.publish(`hello-${i}`, sentTs[i]);
    }
    await waitFor(() => receiver.log.messages.length >= 5, '5 messages at the receiver');
    expect(receiver.log.messages.map((m) => m.msg.data)).toEqual(['hello-0', 'hello-1', 'hello-2', 'hello-3', 'hello-4']);
    expect(receiver.log.messages.map((m) => m.msg.ts)).toEqual(sentTs);
    expectConsecutive(receiver.log.seqs());
    await waitFor(() => sender.log.messages.length >= 5, 'the sender sees its own messages');
    expect(sender.log.errors).toEqual([]);
    await Promise.all([sender.client.close(), receiver.client.close()]);
  });
});
