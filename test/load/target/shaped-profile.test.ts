/**
 * The shaped server (shaped-server.ts) through examples/profiles/shaped-server.json beyond
 * subscribing: chat, where every client publishes by the profile's PUT; WebSocket resume through
 * the profile's query cursor; and targets that answer in a shape the profile does not describe,
 * refused before any load with a sentence that says where. (Every transport, run after run:
 * shaped.test.ts.)
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../../load/runner.ts';
import { PushbenchError } from '../../../core/errors.ts';
import { runSettings } from '../settings.ts';
import { pushbench } from '../../cli.ts';
import { SHAPED_CLIENTS, SHAPED_DURATION_S, SHAPED_PROFILE, SHAPED_RATE, SHAPED_WARMUP_S, shapedRunArgs, shapedServerPerFile } from './shaped-server.ts';

const PROFILE = SHAPED_PROFILE;
const CLIENTS = SHAPED_CLIENTS;
const RATE = SHAPED_RATE;
/** measured seconds of a profile run */
const MEASURED_S = SHAPED_DURATION_S - SHAPED_WARMUP_S;
const shaped = shapedServerPerFile();

describe('chat through the profile: every client publishes by the profile\'s PUT', () => {
  it.each(['ws'] as const)('%s: valid, 0 lost, 0 duplicates, each room\'s messages to all its members', async (transport) => {
    const server = shaped();
    const s = runSettings(transport, shapedRunArgs(server.url, { extra: ['--workload', 'chat', '--poll-interval', '100ms'] }));
    const before = server.published();
    const r = await runOnce(s);
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.config.workload).toBe('chat');
    expect(r.summary.lost).toBe(0);
    expect(r.summary.duplicates).toBe(0);
    expect(r.counters.outOfOrder).toBe(0);
    // Each room carries 10 msg/s from its 10 members in turn, and every member receives all of
    // them: the measured seconds × 10 msg/s to 20 clients, ± one message per client at each edge.
    expect(r.summary.delivered).toBeGreaterThanOrEqual(MEASURED_S * RATE * CLIENTS - 2 * CLIENTS);
    expect(r.summary.delivered).toBeLessThanOrEqual(MEASURED_S * RATE * CLIENTS + 2 * CLIENTS);
    // The clients published (no generator publisher): 2 rooms × 10 msg/s over the whole run, less
    // the first second's staggered starts; the probe adds at most 50.
    expect(r.publisher).toBeUndefined();
    expect(server.published() - before).toBeGreaterThanOrEqual(2 * RATE * (SHAPED_DURATION_S - 1));
    expect(server.published() - before).toBeLessThanOrEqual(2 * RATE * (SHAPED_DURATION_S + 1) + 50);
    expect(Object.keys(r.counters.errors)).toEqual([]);
  }, 20_000);
});

describe('WebSocket resume through the profile\'s query cursor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-wsresume-'));
  /**
   * A ws run of the shaped server with every socket cut 1.25 s and 2 s into the run's timeline
   * (inside its 0.5–2.5 s window): timed from the run's start, not from the call, whose setup a
   * loaded machine stretches. A client's first reconnect waits 100 ms ± 20 % (RECONNECT_DELAY_MS),
   * so it is back well before the next cut and the window's end, 0.75 s and 0.5 s on.
   */
  const cutRun = async (profile: string) => {
    const server = shaped();
    const s = runSettings('ws', shapedRunArgs(server.url, { profile, durationS: 2.5 }));
    const cuts: number[] = [];
    const timers: NodeJS.Timeout[] = [];
    const onStarted = (lateUs: number) => {
      for (const ms of [1250, 2000]) timers.push(setTimeout(() => cuts.push(server.cutSockets()), ms - lateUs / 1000));
    };
    try {
      return { r: await runOnce(s, { onStarted }), cuts };
    } finally {
      for (const t of timers) clearTimeout(t);
    }
  };

  it('a client cut mid-run reconnects with ?since=<last id>: 0 lost, 0 duplicates', async () => {
    const { r, cuts } = await cutRun(PROFILE);
    // both cuts hit every client (the probe's socket is long closed by then)
    expect(cuts).toEqual([CLIENTS, CLIENTS]);
    expect(r.invalidReasons.join('; ')).toBe('');
    expect(r.counters.reconnects).toBeGreaterThanOrEqual(2 * CLIENTS);
    expect(r.summary.lost).toBe(0);
    expect(r.summary.duplicates).toBe(0);
    // 2 measured seconds × 10 msg/s to 20 clients, ± one message per client at each window edge
    expect(r.summary.delivered).toBeGreaterThanOrEqual(2 * RATE * CLIENTS - 2 * CLIENTS);
    expect(r.summary.delivered).toBeLessThanOrEqual(2 * RATE * CLIENTS + 2 * CLIENTS);
  }, 20_000);

  it('the same cuts without the cursor lose what was published while the clients were away', async () => {
    // The control: proves the cuts above did cost messages that only the resume brought back.
    const p = JSON.parse(readFileSync(PROFILE, 'utf8'));
    delete p.transports.ws.cursor;
    const file = join(dir, 'no-cursor.json');
    writeFileSync(file, JSON.stringify(p));
    const { r, cuts } = await cutRun(file);
    expect(cuts).toEqual([CLIENTS, CLIENTS]);
    expect(r.counters.reconnects).toBeGreaterThanOrEqual(2 * CLIENTS);
    expect(r.summary.lost).toBeGreaterThan(0);
  }, 20_000);
});

describe('a target that answers in an unexpected shape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-shape-'));
  const variant = (name: string, edit: (p: Record<string, any>) => void): string => {
    const p = JSON.parse(JSON.stringify(require(PROFILE)));
    edit(p);
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(p));
    return file;
  };

  it('names the transport, the URL and what was expected (wrong JSON field, in-process)', async () => {
    const file = variant('field', (p) => (p.transports.sse.json = 'message.text'));
    const server = shaped();
    const s = runSettings('sse', ['--target', server.url, '--profile', file, '--clients', '2', '--duration', '4s', '--warmup', '1s']);
    const err = await runOnce(s).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PushbenchError);
    expect((err as PushbenchError).code).toBe('PB_TARGET_SHAPE');
    expect((err as PushbenchError).message).toContain(`sse at ${server.url}/topics/pushbench-probe/stream: expected a JSON object with a field "message" (path message.text) (got "{\\"note\\":`);
  }, 20_000);

  it('exits 2 from the command line when the subscription is refused (wrong header)', async () => {
    const file = variant('accept', (p) => (p.transports.sse.headers = { accept: 'application/json' }));
    const server = shaped();
    const r = await pushbench(['run', '--transport', 'sse', '--target', server.url, '--profile', file, '--clients', '2', '--duration', '4s', '--out', dir, '--no-report'], 30_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`sse at ${server.url}/topics/pushbench-probe/stream: expected the messages published by PUT /topics/pushbench-probe to arrive within 5 s; none did \\(the subscription failed with HTTP_406`));
  }, 30_000);
});
