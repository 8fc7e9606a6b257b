/**
 * The capacity search against a simulated server: p99 grows with the client count and passes the
 * SLO at a known knee; the generator saturates at a known count; the machine allows a known
 * number of clients. Pure: no socket, no process.
 */
import { describe, expect, it } from 'vitest';
import {
  judgeRecord, machineLimitFor, parseSlo, processesFor, searchCapacity, serversFor, sloBreaks,
  type MachineFacts, type MachineLimit, type StepFigures, type StepVerdict,
} from '../../capacity/search.ts';
import { buildRecord } from '../fixtures/records.ts';

const { slo } = parseSlo('p99<250ms,lost=0,errors<0.1%');

/** A server whose p99 crosses 250 ms at `knee` clients (1 ms per 100 clients below, steep above). */
function simulated(knee: number, opts: { generatorAt?: number } = {}) {
  const seen: number[] = [];
  const probe = async (clients: number): Promise<StepVerdict> => {
    seen.push(clients);
    if (opts.generatorAt !== undefined && clients >= opts.generatorAt) return { kind: 'generator-bound', reasons: ['generator saturated: worker 0 event-loop utilization above 90 %'] };
    const p99 = clients <= knee ? 250_000 * (clients / knee) - 1 : 250_000 + (clients - knee) * 50;
    const f: StepFigures = { latencyUs: { p50: p99 / 4, p90: p99 / 2, p99, p999: p99 * 1.2, max: p99 * 2 }, lost: 0, expected: clients * 10, errors: 0, clients, requests: 0, undelivered: 0 };
    const reasons = sloBreaks(slo, f);
    return reasons.length ? { kind: 'fail', reasons } : { kind: 'pass' };
  };
  return { probe, seen };
}

describe('parseSlo', () => {
  it('reads latency, count and percentage terms', () => {
    const { slo: s, problems } = parseSlo('p99<250ms, lost=0, errors<0.1%, p99.9<=1s');
    expect(problems).toEqual([]);
    expect(s.terms.map((t) => [t.metric, t.op, t.value, t.unit])).toEqual([
      ['p99', '<', 250_000, 'us'], ['lost', '=', 0, 'count'], ['errors', '<', 0.001, 'fraction'], ['p99.9', '<=', 1_000_000, 'us'],
    ]);
  });

  it('lists every unreadable term at once', () => {
    const { problems } = parseSlo('p98<1s,lost=-1,errors<200%,p99=3ms');
    expect(problems).toHaveLength(4);
    expect(parseSlo('').problems).toHaveLength(1);
  });

  it('judges a fraction against expected messages (lost) and connections plus requests (errors)', () => {
    const f: StepFigures = { latencyUs: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1 }, lost: 2, expected: 1000, errors: 3, clients: 1000, requests: 1000, undelivered: 0 };
    expect(sloBreaks(parseSlo('lost<0.3%,errors<0.2%').slo, f)).toEqual([]);
    expect(sloBreaks(parseSlo('lost<0.1%,errors<0.1%').slo, f)).toEqual([
      'lost 0.20 % (2 of 1000) breaks lost<0.1%',
      'errors 0.15 % (3 of 2000) breaks errors<0.1%',
    ]);
  });
});

describe('the undelivered term', () => {
  it('judges undelivered against expected messages, and breaks its term when it was not measured', () => {
    const f: StepFigures = { latencyUs: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1 }, lost: 0, expected: 1000, errors: 0, clients: 10, requests: 0, undelivered: 4 };
    const { slo: s, problems } = parseSlo('undelivered=0');
    expect(problems).toEqual([]);
    expect(s.terms.map((t) => [t.metric, t.op, t.value, t.unit])).toEqual([['undelivered', '=', 0, 'count']]);
    expect(sloBreaks(s, f)).toEqual(['undelivered 4 breaks undelivered=0']);
    expect(sloBreaks(parseSlo('undelivered<0.5%').slo, f)).toEqual([]);
    expect(sloBreaks(parseSlo('undelivered<0.3%').slo, f)).toEqual(['undelivered 0.40 % (4 of 1000) breaks undelivered<0.3%']);
    expect(sloBreaks(s, { ...f, undelivered: null })).toEqual(['undelivered not measured (no publish schedule to expect from) breaks undelivered=0']);
  });
});

describe('judgeRecord', () => {
  it('tells a generator-bound record from a failing server and an interrupted run', () => {
    const ok = buildRecord({ transport: 'ws', clients: 1000 });
    expect(judgeRecord(ok, parseSlo('p99<10s').slo)).toEqual({ kind: 'pass' });
    expect(judgeRecord(ok, parseSlo('p99<1us').slo).kind).toBe('fail');
    const gen = buildRecord({ transport: 'ws', clients: 1000, invalidReasons: ['generator saturated: worker 1 event-loop utilization above 90 % for 3 s'] });
    expect(judgeRecord(gen, parseSlo('p99<10s').slo)).toEqual({ kind: 'generator-bound', reasons: gen.invalidReasons });
    const dead = buildRecord({ transport: 'ws', clients: 1000, invalidReasons: ['no message was delivered in the measured window'] });
    expect(judgeRecord(dead, parseSlo('p99<10s').slo)).toEqual({ kind: 'fail', reasons: dead.invalidReasons });
    expect(judgeRecord(buildRecord({ transport: 'ws', complete: false }), slo)).toEqual({ kind: 'interrupted' });
  });
});

describe('searchCapacity', () => {
  it.each([3000, 12_345, 23_456, 777])('finds a knee at %i within the precision', async (knee) => {
    const sim = simulated(knee);
    const r = await searchCapacity({ startClients: 500, maxClients: 40_000, precision: 0.05 }, sim.probe);
    expect(r.stop.kind).toBe('slo');
    expect(r.lowerBound).toBe(false);
    expect(r.capacity).not.toBeNull();
    expect(r.capacity!).toBeLessThanOrEqual(knee);
    expect(r.stop.atClients).toBeGreaterThan(knee);
    expect((r.stop.atClients - r.capacity!) / r.capacity!).toBeLessThanOrEqual(0.05);
    expect(r.stop.message).toMatch(/^SLO broke at [\d,]+ clients \(p99 .* breaks p99<250ms\); capacity [\d,]+/);
    // doubling first: the opening steps are 500, 1000, 2000, … up to the first failure
    const firstFail = sim.seen.findIndex((n) => n > knee);
    expect(sim.seen.slice(0, firstFail + 1)).toEqual(sim.seen.slice(0, firstFail + 1).map((_, i) => 500 * 2 ** i));
  });

  it('halves below a failing start until a step passes, then bisects', async () => {
    const r = await searchCapacity({ startClients: 8000, maxClients: 40_000, precision: 0.1 }, simulated(1500).probe);
    expect(r.steps.slice(0, 4).map((s) => s.clients)).toEqual([8000, 4000, 2000, 1000]);
    expect(r.capacity!).toBeLessThanOrEqual(1500);
    expect(r.capacity!).toBeGreaterThan(1500 / 1.1);
  });

  it('stops on generator saturation, naming the count and saying it is not the server', async () => {
    const r = await searchCapacity({ startClients: 500, maxClients: 40_000, precision: 0.05 }, simulated(30_000, { generatorAt: 8000 }).probe);
    expect(r.stop.kind).toBe('generator-bound');
    expect(r.stop.atClients).toBe(8000);
    expect(r.stop.message).toMatch(/^generator-bound at 8,000: this is the load generator's limit, not the server's \(generator saturated/);
    expect(r.capacity).toBe(4000);
    expect(r.lowerBound).toBe(true);
  });

  it('stops at a machine limit before the step, after trying the most the limit allows', async () => {
    const fds: MachineLimit = { resource: 'open files', maxClients: 19_800, detail: 'needs more than 19,800 open files per process (hard limit 20,000)' };
    const sim = simulated(100_000);
    const r = await searchCapacity({ startClients: 500, maxClients: 40_000, precision: 0.05 }, sim.probe, (n) => (n > 19_800 ? fds : null));
    expect(sim.seen.every((n) => n <= 19_800)).toBe(true);
    expect(sim.seen.at(-1)).toBe(19_800);
    expect(r.stop.kind).toBe('machine-limit');
    expect(r.stop.atClients).toBe(32_000);
    expect(r.stop.message).toBe('machine limit at 32,000 clients: needs more than 19,800 open files per process (hard limit 20,000); capacity is at least 19,800');
    expect(r.capacity).toBe(19_800);
  });

  it('stops at once when the limit allows no more than what already passed', async () => {
    const mem: MachineLimit = { resource: 'memory', maxClients: 4100, detail: '8,000 clients need about 9.0 GiB, 6.0 GiB available' };
    const sim = simulated(100_000);
    const r = await searchCapacity({ startClients: 4000, maxClients: 40_000, precision: 0.05 }, sim.probe, (n) => (n > 4100 ? mem : null));
    expect(sim.seen).toEqual([4000]);
    expect(r.stop).toMatchObject({ kind: 'machine-limit', atClients: 8000 });
  });

  it('stops at --max when the SLO still holds there', async () => {
    const sim = simulated(100_000);
    const r = await searchCapacity({ startClients: 500, maxClients: 40_000, precision: 0.05 }, sim.probe);
    expect(sim.seen).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 32_000, 40_000]);
    expect(r.stop).toMatchObject({ kind: 'max', atClients: 40_000 });
    expect(r.stop.message).toBe('--max reached: 40,000 clients held the SLO; the capacity is at least this');
    expect(r.capacity).toBe(40_000);
    expect(r.lowerBound).toBe(true);
  });

  it('stops when interrupted and keeps what passed', async () => {
    const r = await searchCapacity({ startClients: 100, maxClients: 1000, precision: 0.05 }, async (n) => (n >= 400 ? { kind: 'interrupted' } : { kind: 'pass' }));
    expect(r.stop).toMatchObject({ kind: 'interrupted', atClients: 400 });
    expect(r.capacity).toBe(200);
  });

  it('plans servers for a million clients', () => {
    expect(serversFor(1_000_000, 20_000)).toBe(50);
    expect(serversFor(1_000_000, 30_000)).toBe(34);
  });
});

describe('machineLimitFor', () => {
  const facts: MachineFacts = {
    openFilesPerProcess: 20_000, referenceServer: true, serverProcs: null, generatorProcs: null, maxAutoProcs: 8,
    socketsPerClient: 1, ephemeralPorts: 28_232, sourceAddresses: () => 10, memAvailableBytes: 20 * 1024 ** 3, bytesPerClient: 80 * 1024,
  };

  it('splits over processes by the open-files limit, and names the limit when the processes are fixed', () => {
    expect(processesFor(19_000, 1, 20_000)).toBe(1);
    expect(processesFor(20_000, 1, 20_000)).toBe(2);
    expect(processesFor(40_000, 2, 20_000)).toBe(5);
    expect(machineLimitFor(40_000, facts)).toBeNull();
    const fixed = machineLimitFor(25_000, { ...facts, serverProcs: 1 });
    expect(fixed).toEqual({
      resource: 'open files', maxClients: 19_000,
      detail: '25,000 clients need about 26,000 open files in each of 1 server process(es) (--server-procs 1), above the hard limit of 20,000 per process',
    });
    expect(machineLimitFor(25_000, { ...facts, referenceServer: false, generatorProcs: 1 })?.detail).toMatch(/generator process\(es\) \(--generator-procs 1\)/);
    expect(machineLimitFor(200_000, facts)?.detail).toBe('200,000 clients need 11 server processes of 20,000 open files each, more than the 8 chosen automatically at most (set --server-procs)');
  });

  it('names the ephemeral ports when one source address cannot open the connections', () => {
    const l = machineLimitFor(30_000, { ...facts, sourceAddresses: () => 1 });
    expect(l).toMatchObject({ resource: 'ephemeral ports', maxClients: 28_232 });
    expect(l?.detail).toBe('30,000 clients need 30,000 connections to one address and port, above 1 source address(es) × 28,232 ephemeral ports');
  });

  it('names the memory with the estimate per client', () => {
    const l = machineLimitFor(40_000, { ...facts, memAvailableBytes: 2 * 1024 ** 3 });
    expect(l?.resource).toBe('memory');
    expect(l?.maxClients).toBe(Math.floor((0.8 * 2 * 1024 ** 3) / (80 * 1024)));
    expect(l?.detail).toMatch(/^40,000 clients need about 3\.1 GiB \(80 KiB each, server and generator\), above 80 % of the 2\.0 GiB available$/);
  });
});
