/**
 * The pure comparison: thresholds, the regression rule at its edges, matching and refusing
 * configurations, environment warnings, and whole comparisons of synthetic repeats.
 */
import { describe, expect, it } from 'vitest';
import { absoluteChange, compareRuns, defaultThresholds, judgeChange, parseThresholds, planComparison, type ComparisonResult } from '../../gate/compare.ts';
import type { ResultRecord } from '../../core/record.ts';
import { buildRecord } from '../fixtures/records.ts';
import { repeat, repeats } from './helpers.ts';

const metric = (r: ComparisonResult, key: string, group = 0) => r.groups[group].metrics.find((m) => m.metric.key === key)!;
const compare = (b: ResultRecord[], c: ResultRecord[], thresholds?: Record<string, number | null>) => {
  const plan = planComparison(b, c);
  expect(plan.problems).toEqual([]);
  return compareRuns(plan, { thresholds });
};

describe('parseThresholds', () => {
  it('starts from the defaults and overrides the keys given, in percent or as a fraction', () => {
    const { thresholds, problems } = parseThresholds('p99=20%,cpu=0.3,lost=0,rss=off');
    expect(problems).toEqual([]);
    expect(thresholds).toEqual({ ...defaultThresholds(), p99: 0.2, cpu: 0.3, lost: 0, rss: null });
  });

  it('lists every bad item: unknown metric, missing =, bad value', () => {
    const { problems } = parseThresholds('p98=10%,cpu,bytes=lots');
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/unknown metric "p98"; the metrics are p50, p99/);
    expect(problems[1]).toMatch(/"cpu" is not METRIC=PERCENT/);
    expect(problems[2]).toMatch(/bytes=lots is not a percentage/);
  });
});

describe('judgeChange: regression = the whole interval above the threshold', () => {
  const t = 0.1;
  it('lo exactly at the threshold is not a regression, just above it is', () => {
    expect(judgeChange(0.2, 0.1, 0.3, t)).toBe('unclear');
    expect(judgeChange(0.2, 0.1000001, 0.3, t)).toBe('regression');
  });
  it('a significant change (interval above 0) that may still be within the threshold is only unclear', () => {
    expect(judgeChange(0.15, 0.02, 0.28, t)).toBe('unclear');
  });
  it('a point estimate at or within the threshold is ok, whatever the interval', () => {
    expect(judgeChange(0.1, 0.05, 0.15, t)).toBe('ok');
    expect(judgeChange(0.05, 0.01, 0.09, t)).toBe('ok');
  });
  it('improvements mirror it: hi exactly at −t is not one, just below is', () => {
    expect(judgeChange(-0.2, -0.3, -0.1, t)).toBe('unclear');
    expect(judgeChange(-0.2, -0.3, -0.1000001, t)).toBe('improvement');
  });
  it('without an interval (one run a side) the threshold alone decides', () => {
    expect(judgeChange(0.1000001, null, null, t)).toBe('regression');
    expect(judgeChange(0.1, null, null, t)).toBe('ok');
    expect(judgeChange(-0.2, null, null, t)).toBe('improvement');
  });
  it('a metric without a threshold is reported, not judged', () => {
    expect(judgeChange(5, 4, 6, null)).toBe('info');
  });
  it('threshold 0 (lost=0): any change confidently above 0 is a regression', () => {
    expect(judgeChange(0.001, 0.0005, 0.002, 0)).toBe('regression');
    expect(judgeChange(0.001, 0, 0.002, 0)).toBe('unclear');
  });
});

describe('absoluteChange', () => {
  it('is the difference of the means with a bootstrap interval around it, deterministic for a seed', () => {
    const c = absoluteChange([0, 0, 0], [0.01, 0.012, 0.011]);
    expect(c.change).toBeCloseTo(0.011, 10);
    expect(c.lo).toBeGreaterThanOrEqual(0.01);
    expect(c.hi).toBeLessThanOrEqual(0.012 + 1e-12);
    expect(absoluteChange([0, 0, 0], [0.01, 0.012, 0.011])).toEqual(c);
  });
  it('has no interval with a single value on a side', () => {
    expect(absoluteChange([1], [2, 3])).toMatchObject({ change: 1.5, lo: null, hi: null });
  });
});

describe('planComparison', () => {
  const ws = (o: Partial<Parameters<typeof buildRecord>[0]> = {}) => buildRecord({ transport: 'ws', samples: 200, ...o });

  it('refuses different configurations, naming each difference, and --force turns them into warnings', () => {
    const b = [ws({ name: 'b1' })];
    const c = [structuredClone(ws({ name: 'c1' }))];
    c[0].config.clients = 500;
    c[0].config.ratePerS = 20;
    c[0].config.payloadBytes = 1024;
    const plan = planComparison(b, c);
    expect(plan.problems).toEqual([
      'ws broadcast on loopback: the configurations differ (clients: baseline 1000, current 500); compare like with like, or pass --force',
      'ws broadcast on loopback: the configurations differ (rate (msg/s per topic): baseline 10, current 20); compare like with like, or pass --force',
      'ws broadcast on loopback: the configurations differ (payload: baseline 64 B, current 1024 B); compare like with like, or pass --force',
    ]);
    const forced = planComparison(b, c, { force: true });
    expect(forced.problems).toEqual([]);
    expect(forced.groups).toHaveLength(1);
    expect(forced.warnings.filter((w) => w.includes('compared anyway (--force)'))).toHaveLength(3);
  });

  it('names repeats that mix configurations within one side', () => {
    const b = [ws({ name: 'b1' }), structuredClone(ws({ name: 'b2' }))];
    b[1].config.topics = 3;
    expect(planComparison(b, [ws({ name: 'c1' })]).problems).toEqual([
      'ws broadcast on loopback: the configurations differ (topics: baseline 10 / 3, current 10); compare like with like, or pass --force',
    ]);
  });

  it('warns (never refuses) on different environments and on the server\'s --delay', () => {
    const c = structuredClone(ws({ name: 'c1' }));
    c.environment.node = 'v20.19.1';
    c.environment.cpuModel = 'Intel Xeon';
    c.environment.serverCpus = null;
    c.config.serverDelayMs = 5;
    const plan = planComparison([ws({ name: 'b1' })], [c]);
    expect(plan.problems).toEqual([]);
    expect(plan.warnings).toEqual(expect.arrayContaining([
      'ws broadcast on loopback: the reference server\'s --delay: baseline 0 ms, current 5 ms',
      'the environments differ: CPU model: baseline AMD EPYC 7B13, current Intel Xeon; the figures may not be comparable',
      'the environments differ: Node version: baseline v20.18.0, current v20.19.1; the figures may not be comparable',
      'the environments differ: server pinning: baseline CPU 0, current none; the figures may not be comparable',
    ]));
  });

  it('matches by transport and network, warns about the unmatched, refuses when nothing matches', () => {
    const lan = structuredClone(buildRecord({ transport: 'sse', samples: 200 }));
    lan.config.network = 'lan';
    const plan = planComparison([ws(), buildRecord({ transport: 'sse', samples: 200 })], [ws(), lan]);
    expect(plan.groups.map((g) => g.label)).toEqual(['ws broadcast on loopback']);
    expect(plan.warnings).toEqual(expect.arrayContaining([
      'sse broadcast on loopback is only in the baseline; not compared',
      'sse broadcast on lan is only in the current runs; not compared',
    ]));
    expect(planComparison([ws()], [lan]).problems).toEqual([
      'BASELINE and CURRENT have no transport, workload and network in common (baseline: ws broadcast on loopback; current: sse broadcast on lan)',
    ]);
  });

  it('leaves invalid and incomplete runs out, and refuses a group with no valid run left', () => {
    const bad = ws({ name: 'b-bad', invalidReasons: ['generator saturated: ELU 0.99'] });
    const partial = ws({ name: 'c-partial', complete: false });
    const plan = planComparison([ws({ name: 'b1' }), bad], [partial]);
    expect(plan.warnings).toEqual(expect.arrayContaining([
      'baseline run b-bad is left out: generator saturated: ELU 0.99',
      'current run c-partial is left out: incomplete',
    ]));
    expect(plan.problems).toEqual(['ws broadcast on loopback has no valid current run (1 left out as invalid or incomplete)']);
  });
});

describe('compareRuns', () => {
  const ws = { transport: 'ws' as const };

  it('three repeats a side within noise: no regression, every gated metric ok', () => {
    const r = compare(repeats(ws, 'p50Us', [1000, 1020, 990], 'b'), repeats(ws, 'p50Us', [1010, 985, 1005], 'c'));
    expect(r.regressions).toBe(0);
    expect(r.improvements).toBe(0);
    expect(metric(r, 'p50').status).toBe('ok');
    expect(r.groups[0].metrics.filter((m) => m.threshold !== null).every((m) => m.status === 'ok')).toBe(true);
  });

  it('p50 up 25 % on every repeat is a regression with the numbers', () => {
    const r = compare(repeats(ws, 'p50Us', [1000, 1020, 990], 'b'), repeats(ws, 'p50Us', [1250, 1270, 1240], 'c'));
    const p50 = metric(r, 'p50');
    expect(r.regressions).toBe(1);
    expect(p50.status).toBe('regression');
    expect(p50.change).toBeCloseTo(3760 / 3010 - 1, 10);
    expect(p50.lo).toBeGreaterThan(0.1);
    expect(p50.baseline.mean).toBeCloseTo(3010 / 3, 10);
    expect(p50.explanation).toMatch(/^p50 \+24\.9 % \[\+2\d\.?\d* %, \+2\d\.?\d* %\] is worse than the 10 % threshold with 95 % confidence$/);
  });

  it('a noisy +25 % whose interval reaches inside the threshold is unclear, not a regression', () => {
    const r = compare(repeats(ws, 'p99Us', [10_000, 14_000, 8000], 'b'), repeats(ws, 'p99Us', [10_000, 18_000, 12_000], 'c'));
    expect(metric(r, 'p99').change).toBeCloseTo(0.25, 10);
    expect(metric(r, 'p99').status).toBe('unclear');
    expect(r.regressions).toBe(0);
    expect(r.unclear).toBe(1);
  });

  it('an improvement is reported as one', () => {
    const r = compare(repeats(ws, 'cpuUs', [10, 10.2, 9.9], 'b'), repeats(ws, 'cpuUs', [7, 7.1, 6.9], 'c'));
    expect(metric(r, 'cpu').status).toBe('improvement');
    expect(r.improvements).toBe(1);
  });

  it('loss rising from 0 to 0.5 % of expected is a regression in percentage points', () => {
    const r = compare(repeats(ws, 'lossRate', [0, 0, 0], 'b'), repeats(ws, 'lossRate', [0.005, 0.005, 0.005], 'c'));
    const lost = metric(r, 'lost');
    expect(lost.status).toBe('regression');
    expect(lost.change).toBeCloseTo(0.005, 5);
    expect(lost.explanation).toMatch(/^lost \+0\.5 pp .* worse than the 0\.1 pp threshold/);
  });

  it('one run a side: significance unknown, the threshold alone decides, with a warning', () => {
    const r = compare([repeat({ ...ws, name: 'b' }, { p50Us: 1000 })], [repeat({ ...ws, name: 'c' }, { p50Us: 1200 })]);
    expect(metric(r, 'p50')).toMatchObject({ status: 'regression', lo: null, hi: null });
    expect(metric(r, 'p50').explanation).toMatch(/significance unknown, threshold only/);
    expect(r.warnings.join('\n')).toMatch(/1 baseline and 1 current run\(s\); with a single run on a side the significance is unknown/);
  });

  it('a metric one side did not measure is unknown, and the thresholds given replace the defaults', () => {
    const b = [buildRecord({ transport: 'ws', name: 'b1', samples: 200 }), buildRecord({ transport: 'ws', name: 'b2', seed: 7, samples: 200 })];
    const c = [buildRecord({ transport: 'ws', name: 'c1', serverKnown: false, samples: 200 }), buildRecord({ transport: 'ws', name: 'c2', serverKnown: false, seed: 9, samples: 200 })];
    const r = compare(b, c, { p50: null });
    expect(metric(r, 'cpu').status).toBe('unknown');
    expect(metric(r, 'cpu').explanation).toBe('cpu: not measured in the current runs');
    expect(metric(r, 'p50')).toMatchObject({ threshold: null, status: 'info' });
  });

  it('is deterministic: the same inputs give the same intervals', () => {
    const b = repeats(ws, 'p99Us', [10_000, 14_000, 8000], 'b');
    const c = repeats(ws, 'p99Us', [10_000, 18_000, 12_000], 'c');
    expect(metric(compare(b, c), 'p99')).toEqual(metric(compare(b, c), 'p99'));
  });
});
