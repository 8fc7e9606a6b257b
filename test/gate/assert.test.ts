/**
 * `--assert`: parsing every metric's units and operators, every problem listed at once, and
 * evaluation on fixture records (counts, rates, unmeasured figures, invalid runs); and `run --assert`
 * end to end through the CLI, on a bound no run can meet (p99 < 1 ms behind a 5 ms server delay).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkAssertions, evaluateAssertions, parseAssertions } from '../../gate/assert.ts';
import { buildRecord } from '../fixtures/records.ts';
import { parseThresholds } from '../../gate/compare.ts';
import { repeat } from './helpers.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushbench } from '../cli.ts';

const parse = (text: string) => {
  const r = parseAssertions(text);
  expect(r.problems).toEqual([]);
  return r.assertions;
};

describe('parseAssertions', () => {
  it('reads each metric in its unit: latency (bare = ms), cpu (bare = µs), sizes, counts and rates', () => {
    expect(parse('p99<50ms, p50 <= 800us, max<1s, p90<2').map((a) => [a.metric, a.op, a.value])).toEqual([
      ['p99', '<', 50_000], ['p50', '<=', 800], ['max', '<', 1_000_000], ['p90', '<', 2000],
    ]);
    expect(parse('cpu<20us,cpu<20µs,cpu<20,bytes<2KB,rss<=4096,requests<1.5').map((a) => a.value)).toEqual([20, 20, 20, 2048, 4096, 1.5]);
    expect(parse('lost=0,errors<0.1%,duplicates==0,delivered>=99.9%').map((a) => [a.metric, a.op, a.value, a.rate])).toEqual([
      ['lost', '=', 0, false], ['errors', '<', 0.001, true], ['duplicates', '=', 0, false], ['delivered', '>=', 0.999, true],
    ]);
  });

  it('lists every problem at once, one sentence each', () => {
    const { assertions, problems } = parseAssertions('p99<fast,latency<5ms,lost~0,errors<200%,bytes<lots,lost=1.5');
    expect(assertions).toEqual([]);
    expect(problems).toEqual([
      '--assert: p99: "fast" is not a duration like 50ms, 800us or 1s',
      '--assert: unknown metric "latency" in "latency<5ms"; the metrics are p50, p90, p99, p999, max, lost, undelivered, duplicates, errors, delivered, cpu, bytes, rss, requests',
      '--assert: "lost~0" is not METRIC OP VALUE (e.g. p99<50ms; OP is <, <=, >, >= or =)',
      '--assert: errors: 200% is more than 100 %',
      '--assert: bytes: "lots" is not a size like 200 or 2KB',
      '--assert: lost: "1.5" is not a count like 0 or a rate like 0.1%',
    ]);
    expect(parseAssertions(' , ').problems).toEqual(['--assert is empty; give e.g. "p99<50ms,lost=0"']);
  });
});

describe('fuzzed input', () => {
  const piece = fc.oneof(fc.constantFrom('p99', 'lost', 'errors', 'cpu', 'bytes', '<', '<=', '=', '>', ',', '%', 'ms', '50', '0.1', 'off', '='), fc.string({ maxLength: 6 }));
  it('parseAssertions and parseThresholds never throw; every problem is a sentence naming the option', () => {
    fc.assert(fc.property(fc.array(piece, { maxLength: 10 }), (pieces) => {
      const text = pieces.join('');
      const a = parseAssertions(text);
      for (const p of a.problems) expect(p).toMatch(/^--assert/);
      for (const x of a.assertions) expect(Number.isFinite(x.value)).toBe(true);
      const t = parseThresholds(text);
      for (const p of t.problems) expect(p).toMatch(/^--max-regression: /);
      for (const v of Object.values(t.thresholds)) expect(v === null || Number.isFinite(v)).toBe(true);
    }), { numRuns: 300 });
  });
});

describe('evaluateAssertions', () => {
  const ws = repeat({ transport: 'ws', name: 'ws-r1' }, { p99Us: 61_200, cpuUs: 4 });

  it('passes and fails with the run\'s numbers', () => {
    const out = evaluateAssertions(parse('p99<50ms,p99<70ms,lost=0,cpu<5us,cpu>=5'), ws);
    expect(out.map((o) => o.passed)).toEqual([false, true, true, true, false]);
    expect(out[0].message).toBe('p99<50ms: ws-r1 had 61.2ms');
    expect(out[4].message).toBe('cpu>=5: ws-r1 had 4µs per message');
  });

  it('judges a % as the rate of its denominator: errors of requests + connections, lost of expected', () => {
    const sp = buildRecord({ transport: 'short-poll', name: 'sp' });
    const ops = sp.counters.requests + sp.counters.connectionsOpened;
    const rate = 3 / ops;
    const out = evaluateAssertions(parse(`errors<0.1%,errors=3,errors<${(rate * 100 * 0.99).toFixed(6)}%,lost<0.2%,lost<0.05%`), sp);
    expect(out.map((o) => o.passed)).toEqual([true, true, false, true, false]);
    expect(out[4].message).toBe('lost<0.05%: sp had 0.1 % of expected messages');
  });

  it('undelivered: a count or a rate of expected, and unmeasured where expected did not come from the schedule', () => {
    const r = buildRecord({ transport: 'short-poll', name: 'behind' });
    const counters = { ...r.counters, undelivered: 40, expected: r.counters.expected + 40 };
    const behind = { ...r, counters, summary: { ...r.summary, undelivered: 40, expected: counters.expected } };
    const pct = (100 * 40) / counters.expected;
    const out = evaluateAssertions(parse(`undelivered=0,undelivered<50,undelivered<${(pct * 1.01).toFixed(6)}%,undelivered<${(pct * 0.99).toFixed(6)}%`), behind);
    expect(out.map((o) => o.passed)).toEqual([false, true, true, false]);
    expect(out[0].message).toBe('undelivered=0: behind had 40');
    const seen = { ...r, summary: { ...r.summary, undelivered: null } };
    expect(evaluateAssertions(parse('undelivered=0'), seen)[0]).toMatchObject({ passed: false, actual: null, message: 'undelivered=0: behind did not measure undelivered' });
  });

  it('a figure the run did not measure fails, and so does an invalid run', () => {
    const external = buildRecord({ transport: 'ws', name: 'ext', serverKnown: false });
    expect(evaluateAssertions(parse('cpu<100us'), external)[0]).toMatchObject({ passed: false, actual: null, message: 'cpu<100us: ext did not measure cpu' });
    const invalid = buildRecord({ transport: 'ws', name: 'sat', invalidReasons: ['generator saturated'] });
    const out = evaluateAssertions(parse('lost=0'), invalid);
    expect(out.map((o) => o.passed)).toEqual([true, false]);
    expect(out[1].message).toBe('sat is invalid (generator saturated): its figures cannot pass a gate');
  });

  it('checkAssertions over several runs: every failure listed; no assertions says nothing', () => {
    const other = repeat({ transport: 'sse', name: 'sse-r1' }, { p99Us: 40_000 });
    const gate = checkAssertions(parse('p99<50ms,lost=0'), [ws, other]);
    expect(gate).toEqual({ passed: false, lines: ['assertions: 1 of 4 failed:', '  FAILED p99<50ms: ws-r1 had 61.2ms'] });
    expect(checkAssertions(parse('lost=0'), [ws, other])).toEqual({ passed: true, lines: ['assertions: all 2 passed (lost=0)'] });
    expect(checkAssertions([], [ws])).toEqual({ passed: true, lines: [] });
  });
});

describe('run --assert through the CLI', () => {
  it('a failed assertion exits 1 with the number; a bad one exits 2 before any run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-assert-'));
    const r = await pushbench(['run', '--transport', 'ws', '--clients', '20', '--duration', '1500ms', '--warmup', '500ms', '--rate', '10', '--delay', '5', '--out', out, '--no-report', '--assert', 'p99<1ms,lost=0'], 60_000);
    expect(r.stderr).toMatch(/assertions: 1 of 2 failed:\n {2}FAILED p99<1ms: ws-broadcast-20c-\S+ had \d+\.\d+ms/);
    expect(r.status).toBe(1);
    const bad = await pushbench(['run', '--transport', 'ws', '--out', out, '--assert', 'p99<soon'], 60_000);
    expect(bad.stderr).toContain('--assert: p99: "soon" is not a duration like 50ms, 800us or 1s');
    expect(bad.status).toBe(2);
  });
});
