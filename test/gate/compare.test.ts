/**
 * The pure comparison: thresholds, matching and refusing configurations, environment warnings,
 * and whole comparisons of synthetic repeats: the verdict against its test, the detectable
 * change, too few runs, pairs, and the adjustment over many figures.
 *
 * Heavy: comparisons over many random inputs, each with its own t quantiles.
 */
import { describe, expect, it } from 'vitest';
import { GRID_RECORDS } from '../fixtures/rank-grid.ts';
import { compareRuns, defaultThresholds, pairedThresholds, parseThresholds, planComparison, type ComparisonResult } from '../../gate/compare.ts';
import { pairRuns } from '../../gate/match.ts';
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

  it('over the paired defaults (ab, --paired): server CPU at 5 %, what is given still wins', () => {
    expect(pairedThresholds()).toEqual({ ...defaultThresholds(), cpu: 0.05 });
    expect(parseThresholds('p99=20%', pairedThresholds()).thresholds).toMatchObject({ cpu: 0.05, p99: 0.2 });
    expect(parseThresholds('cpu=15%', pairedThresholds()).thresholds.cpu).toBe(0.15);
  });

  it('lists every bad item: unknown metric, missing =, bad value', () => {
    const { problems } = parseThresholds('p98=10%,cpu,bytes=lots');
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/unknown metric "p98"; the metrics are p50, p99/);
    expect(problems[1]).toMatch(/"cpu" is not METRIC=PERCENT/);
    expect(problems[2]).toMatch(/bytes=lots is not a percentage/);
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

  it('matches two rank grids cell by cell (rate and clients), each cell a group of its own', () => {
    const current = GRID_RECORDS.filter((r) => !(r.config.network === 'wan' && r.config.ratePerS === 10)).map((r) => ({ ...r, name: `c-${r.name}` }));
    const plan = planComparison(GRID_RECORDS, current);
    expect(plan.problems).toEqual([]);
    // 4 transports in the 3 cells both sides ran; the fourth cell is named as baseline-only
    expect(plan.groups).toHaveLength(4 * 3);
    for (const g of plan.groups) expect(new Set([...g.baseline, ...g.current].map((r) => `${r.config.ratePerS}/${r.config.clients}`)).size).toBe(1);
    expect(plan.groups.map((g) => g.label)).toContain('ws broadcast on loopback at 10 msg/s, 500 clients');
    expect(plan.warnings).toContain('ws broadcast on wan at 10 msg/s, 250 clients is only in the baseline; not compared');
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
  const geo = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

  it('three repeats a side within noise: no regression, every gated metric ok, with what the spread could catch', () => {
    const r = compare(repeats(ws, 'p50Us', [1000, 1020, 990], 'b'), repeats(ws, 'p50Us', [1010, 985, 1005], 'c'));
    expect(r.regressions).toBe(0);
    expect(r.improvements).toBe(0);
    const p50 = metric(r, 'p50');
    expect(p50).toMatchObject({ status: 'ok', test: 'welch-log', n: { baseline: 3, current: 3 }, paired: false });
    expect(r.groups[0].metrics.filter((m) => m.threshold !== null).every((m) => m.status === 'ok')).toBe(true);
    // a spread of ~1.5 % catches a change of a little more than the 10 % threshold, no less
    expect(p50.detectable!).toBeGreaterThan(0.1);
    expect(p50.detectable!).toBeLessThan(0.3);
    expect(p50.explanation).toMatch(/^p50 [+−]\d.* is within the 10 % threshold; this spread catches a change of ≥ \+\d/);
  });

  it('p50 up 25 % on every repeat is a regression: its p below α, its interval above the threshold', () => {
    const b = [1000, 1020, 990];
    const c = [1250, 1270, 1240];
    const r = compare(repeats(ws, 'p50Us', b, 'b'), repeats(ws, 'p50Us', c, 'c'));
    const p50 = metric(r, 'p50');
    expect(r.regressions).toBe(1);
    expect(p50.status).toBe('regression');
    expect(p50.change).toBeCloseTo(geo(c) / geo(b) - 1, 10);
    expect(p50.baseline.mean).toBeCloseTo(geo(b), 10);
    expect(p50.lo).toBeGreaterThan(0.1);
    expect(p50.p!).toBeLessThan(r.alpha);
    expect(p50.explanation).toMatch(/^p50 \+24\.\d % \[\+2\d\.?\d* %, \+2\d\.?\d* %\] is worse than the 10 % threshold: Welch t on log values, 3\|3 runs, one-sided p /);
  });

  it('a noisy +25 % whose interval reaches inside the threshold is unclear, not a regression', () => {
    const r = compare(repeats(ws, 'p99Us', [10_000, 14_000, 8000], 'b'), repeats(ws, 'p99Us', [10_000, 18_000, 12_000], 'c'));
    expect(metric(r, 'p99').change).toBeCloseTo(geo([10_000, 18_000, 12_000]) / geo([10_000, 14_000, 8000]) - 1, 10);
    expect(metric(r, 'p99').status).toBe('unclear');
    expect(metric(r, 'p99').p!).toBeGreaterThanOrEqual(r.alpha);
    expect(r.regressions).toBe(0);
    expect(r.unclear).toBe(1);
  });

  it('an improvement is reported as one', () => {
    const r = compare(repeats(ws, 'cpuUs', [10, 10.2, 9.9], 'b'), repeats(ws, 'cpuUs', [7, 7.1, 6.9], 'c'));
    expect(metric(r, 'cpu').status).toBe('improvement');
    expect(r.improvements).toBe(1);
  });

  it('loss rising from 0 to 0.5 % on every run is a regression in percentage points (no spread: exact)', () => {
    const r = compare(repeats(ws, 'lossRate', [0, 0, 0], 'b'), repeats(ws, 'lossRate', [0.005, 0.005, 0.005], 'c'));
    const lost = metric(r, 'lost');
    expect(lost).toMatchObject({ status: 'regression', test: 'exact' });
    expect(lost.change).toBeCloseTo(0.005, 5);
    expect(lost.explanation).toMatch(/^lost \+0\.5 pp .* worse than the 0\.1 pp threshold/);
  });

  it('fewer than 3 runs a side: no test, a change beyond the threshold is unclear — needs ≥ 3 runs a side', () => {
    const r = compare(repeats(ws, 'p50Us', [1000, 1001], 'b'), repeats(ws, 'p50Us', [2000, 2001], 'c'));
    expect(metric(r, 'p50')).toMatchObject({ status: 'unclear', lo: null, hi: null, test: null, needsRuns: 3, p: null });
    expect(metric(r, 'p50').explanation).toMatch(/no test .* unclear — needs ≥ 3 runs a side/);
    expect(r.regressions).toBe(0);
    expect(r.warnings.join('\n')).toMatch(/2 baseline and 2 current run\(s\); a test needs 3 or more runs a side/);
  });

  it('pairs: the drift between pairs falls out; the same values as two sets are unclear', () => {
    // the machine halves its speed between pairs; within each pair current is 20 % slower
    const b = [1000, 2000, 1000, 2000];
    const c = [1200, 2400, 1200, 2400].map((x, i) => x * (1 + 0.01 * (i % 2)));
    const plan = planComparison(repeats(ws, 'cpuUs', b, 'p'), repeats(ws, 'cpuUs', c, 'p'));
    const paired = compareRuns(pairRuns(plan, (x) => x.name));
    expect(metric(paired, 'cpu')).toMatchObject({ status: 'regression', test: 'paired-log', paired: true, n: { baseline: 4, current: 4 } });
    const sets = compareRuns(plan);
    expect(metric(sets, 'cpu').status).toBe('unclear');
  });

  it('a pair missing a side is left out with a warning', () => {
    const b = repeats(ws, 'p50Us', [1000, 1010, 990], 'p');
    const c = repeats(ws, 'p50Us', [1000, 1010], 'p');
    const plan = pairRuns(planComparison(b, c), (x) => x.name);
    expect(plan.groups[0].baseline.map((x) => x.name)).toEqual(['ws-p-r1', 'ws-p-r2']);
    expect(plan.warnings.join('\n')).toMatch(/baseline run ws-p-r3 has no valid partner/);
  });

  it('many figures a little worse each: adjusted for the family, a lone borderline one is not a regression', () => {
    // p99 just significant on its own (one-sided p ≈ 0.02), compared with 3 other transports' figures
    const groups = (['ws', 'sse', 'long-poll', 'short-poll'] as const).map((t) => ({ transport: t }));
    const b = groups.flatMap((g) => repeats(g, 'p99Us', [1000, 1100, 1050], 'b'));
    const c = groups.flatMap((g, i) => repeats(g, 'p99Us', i === 0 ? [1290, 1400, 1330] : [1000, 1100, 1050], 'c'));
    const r = compare(b, c);
    const alone = compare(b.slice(0, 3), c.slice(0, 3));
    expect(metric(alone, 'p99').status).toBe('regression');
    expect(metric(r, 'p99', 0).status).toBe('unclear');
    expect(metric(r, 'p99', 0).p!).toBeGreaterThan(metric(alone, 'p99').p!);
    expect(r.family).toBeGreaterThan(alone.family);
  });

  it('families by metric (the default): a figure is adjusted against its metric on the other groups only', () => {
    const groups = (['ws', 'sse', 'long-poll', 'short-poll'] as const).map((t) => ({ transport: t }));
    // p99 and CPU with a spread on every transport: two metrics of 4 figures each
    const side = (p99: (i: number) => number[], name: string) => groups.flatMap((g, i) => p99(i).map((v, k) => repeat({ ...g, name: `${g.transport}-${name}-r${k + 1}` }, { p99Us: v, cpuUs: 10 + k })));
    const plan = planComparison(side(() => [1000, 1100, 1050], 'b'), side((i) => (i === 0 ? [1290, 1400, 1330] : [1000, 1100, 1050]), 'c'));
    const byMetric = compareRuns(plan);
    const whole = compareRuns(plan, { familyBy: 'comparison' });
    expect(byMetric.familyBy).toBe('metric');
    // p99 on 4 transports (and no more in any one family)
    expect(byMetric.family).toBe(4);
    expect(whole.family).toBe(8);
    expect(metric(whole, 'p99').p!).toBeGreaterThanOrEqual(metric(byMetric, 'p99').p!);
  });

  it('no verdict contradicts its test: a regression always has p < α and its interval above the threshold', () => {
    for (let k = 0; k < 40; k++) {
      const shift = 1 + k * 0.01;
      const r = compare(repeats(ws, 'p50Us', [1000, 1030, 980], 'b'), repeats(ws, 'p50Us', [1000 * shift, 1045 * shift, 990 * shift], 'c'));
      const p50 = metric(r, 'p50');
      expect(p50.status === 'regression').toBe(p50.p! < r.alpha);
      if (p50.status === 'regression') expect(p50.lo!).toBeGreaterThan(0.1);
    }
  });

  it('a metric one side did not measure is unknown, and the thresholds given replace the defaults', () => {
    const b = [1, 2, 3].map((i) => buildRecord({ transport: 'ws', name: `b${i}`, seed: i, samples: 200 }));
    const c = [1, 2, 3].map((i) => buildRecord({ transport: 'ws', name: `c${i}`, serverKnown: false, seed: 10 + i, samples: 200 }));
    const r = compare(b, c, { p50: null });
    expect(metric(r, 'cpu').status).toBe('unknown');
    expect(metric(r, 'cpu').explanation).toBe('cpu: not measured in the current runs');
    expect(metric(r, 'p50')).toMatchObject({ threshold: null, status: 'info', p: null });
  });

  it('is deterministic: the same inputs give the same intervals', () => {
    const b = repeats(ws, 'p99Us', [10_000, 14_000, 8000], 'b');
    const c = repeats(ws, 'p99Us', [10_000, 18_000, 12_000], 'c');
    expect(metric(compare(b, c), 'p99')).toEqual(metric(compare(b, c), 'p99'));
  });
});
