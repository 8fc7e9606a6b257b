/**
 * The rank's grid, map, expectations and charts from fixture records (pure functions, no run):
 * test/fixtures/rank-grid.ts's 2 × 2 grid, whose requests per message follow the formulas, so the
 * long-poll > short-poll step holds at 1 msg/s and is contradicted at 10 msg/s.
 */
import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { CLAIMED_ORDER } from '../../load/drivers/index.ts';
import { cellLabel, rankGrid } from '../../reports/rank-grid.ts';
import { flipsAlong, rankMap } from '../../reports/rank-map.ts';
import { crossoverChecks, expectedRequestCrossover, expectedRequestsPerMessage, requestExpectations } from '../../reports/rank-expect.ts';
import { formatMapMarkdown, formatMapText } from '../../reports/rank-map-format.ts';
import { rankCharts, rankingChartRows } from '../../reports/rank-charts.ts';
import { RANK_METRICS } from '../../reports/ranking.ts';
import { ratioOfMeansCi } from '../../reports/stats.ts';
import { reportRuns, spansClientCounts } from '../../reports/runs.ts';
import { CELLS, DELTA_MS, GRID_RECORDS } from '../fixtures/rank-grid.ts';

const [WS, SSE, LONG, SHORT] = CLAIMED_ORDER;
const records = GRID_RECORDS;
const grid = rankGrid(records, CELLS);
const map = rankMap(grid);
const step = (metric: string, better: string) => map.find((s) => s.metric === metric && s.better === better)!;

describe('rankGrid and rankMap', () => {
  it('ranks each cell on its own runs, in the grid\'s order', () => {
    expect(grid.cells.map(cellLabel)).toEqual(CELLS.map(cellLabel));
    expect(grid.rates).toEqual([1, 10]);
    expect(grid.networks).toEqual(['loopback', 'wan']);
    for (const c of grid.cells) expect(c.ranking.runs.valid).toBe(12);
    expect(grid.cells[0].pollIntervalMs).toBe(DELTA_MS);
  });

  it('maps every metric and claimed step over every cell', () => {
    expect(map).toHaveLength(RANK_METRICS.length * 3);
    for (const s of map) expect(s.cells).toHaveLength(4);
    // p50 ordered as claimed with repeats 2 % apart: every step holds everywhere, the ratio as built
    const p50 = step('latencyP50Us', WS);
    expect(p50.cells.map((c) => c.verdict)).toEqual(['holds', 'holds', 'holds', 'holds']);
    expect(p50.cells[0].ratio).toBeCloseTo(4000 / 3000, 6);
    expect(p50.cells[0].lo!).toBeLessThan(p50.cells[0].ratio!);
    expect(p50.cells[0].hi!).toBeGreaterThan(p50.cells[0].ratio!);
    // ws and sse cost the same CPU: a tie in every cell
    expect(step('serverCpuUsPerMessage', WS).cells.every((c) => c.verdict === 'tie')).toBe(true);
  });

  it('finds the polls\' requests-per-message crossover between 1 and 10 msg/s on each network', () => {
    const req = step('requestsPerMessage', LONG);
    expect(req.worse).toBe(SHORT);
    expect(req.cells.map((c) => [c.network, c.ratePerS, c.verdict])).toEqual([
      ['loopback', 1, 'holds'], ['loopback', 10, 'contradicted'], ['wan', 1, 'holds'], ['wan', 10, 'contradicted'],
    ]);
    // short poll 4 requests per message at 1 msg/s against the held poll's 1; 0.4 against 1 at 10 msg/s
    expect(req.cells[0].ratio).toBeCloseTo(4, 2);
    expect(req.cells[1].ratio).toBeCloseTo(0.4, 2);
    expect(req.crossovers.filter((c) => c.axis === 'rate').map((c) => [c.along, c.from, c.to])).toEqual([
      ['loopback, 500 clients', '1 msg/s', '10 msg/s'], ['wan, 250 clients', '1 msg/s', '10 msg/s'],
    ]);
    // across networks at one rate the verdict does not change: no crossover on that axis
    expect(req.crossovers.filter((c) => c.axis === 'network')).toEqual([]);
  });

  it('places a flip across unclear points between the clear ones around them', () => {
    const flips = flipsAlong([{ label: 'a', verdict: 'holds' }, { label: 'b', verdict: 'tie' }, { label: 'c', verdict: 'unknown' }, { label: 'd', verdict: 'contradicted' }]);
    expect(flips).toEqual([{ from: 'a', to: 'd', fromVerdict: 'holds', toVerdict: 'contradicted', through: ['b', 'c'] }]);
    expect(flipsAlong([{ label: 'a', verdict: 'holds' }, { label: 'b', verdict: 'tie' }, { label: 'c', verdict: 'holds' }])).toEqual([]);
  });
});

describe('ratioOfMeansCi', () => {
  it('takes the delta-method interval on the log with Welch degrees of freedom', () => {
    // var = 1²/(3·10²) = 1/300 (the bottom side has no spread), df = 2, t = 4.3027: half-width 0.24842
    const r = ratioOfMeansCi({ n: 3, mean: 10, sd: 1 }, { n: 3, mean: 5, sd: 0 })!;
    expect(r.ratio).toBe(2);
    expect(r.lo!).toBeCloseTo(2 * Math.exp(-0.24842), 3);
    expect(r.hi!).toBeCloseTo(2 * Math.exp(0.24842), 3);
    expect(ratioOfMeansCi({ n: 3, mean: 1, sd: 0 }, { n: 3, mean: 4, sd: 0 })).toEqual({ ratio: 0.25, lo: 0.25, hi: 0.25 });
    expect(ratioOfMeansCi({ n: 3, mean: 0, sd: 0 }, { n: 3, mean: 4, sd: 0 })).toBeNull();
    expect(ratioOfMeansCi({ n: 1, mean: 2, sd: null }, { n: 3, mean: 4, sd: 1 })).toEqual({ ratio: 0.5, lo: null, hi: null });
  });
});

describe('requests per message against the formulas', () => {
  it('gives 1/(rate·Δ) for the periodic poll, min(1, 1/(rate·RTT)) for the held one, 0 for streams', () => {
    expect(expectedRequestsPerMessage(SHORT, 1, 250, 0)!.value).toBe(4);
    expect(expectedRequestsPerMessage(SHORT, 10, 250, 50)!.value).toBeCloseTo(0.4, 12);
    expect(expectedRequestsPerMessage(LONG, 10, 250, 50)!.value).toBe(1);
    // 50 msg/s over a 150 ms round trip: 7.5 messages wait per poll
    expect(expectedRequestsPerMessage(LONG, 50, 250, 150)!.value).toBeCloseTo(1 / 7.5, 12);
    expect(expectedRequestsPerMessage(WS, 10, 250, 50)!.value).toBe(0);
    expect(expectedRequestCrossover(250, 50)).toBe(4);
    expect(expectedRequestCrossover(250, 300)).toBeNull();
  });

  it('says whether each expectation lies within the measured interval', () => {
    const xs = requestExpectations(grid);
    expect(xs.map((x) => x.transport)).toEqual([LONG, SHORT, LONG, SHORT, LONG, SHORT, LONG, SHORT]);
    expect(xs.every((x) => x.within === true)).toBe(true);
    // the same cells with short polling 20 % above the formula, repeats 0.2 % apart: outside
    const off = records.map((r) => (r.config.transport === SHORT ? { ...r, summary: { ...r.summary, requestsPerMessage: r.summary.requestsPerMessage * 1.2 } } : r));
    const shifted = requestExpectations(rankGrid(off, CELLS)).filter((x) => x.transport === SHORT);
    expect(shifted.every((x) => x.within === false)).toBe(true);
    expect(shifted[0].deviation!).toBeCloseTo(0.2, 2);
  });

  it('checks each measured flip of the polls against the formula\'s crossover rate', () => {
    expect(crossoverChecks(map, grid)).toEqual([
      { along: 'loopback, 500 clients', between: [1, 10], expected: 4, consistent: true },
      { along: 'wan, 250 clients', between: [1, 10], expected: 4, consistent: true },
    ]);
    // the same measurements said to come from Δ = 50 ms: on loopback the formula puts the crossover
    // at 20 msg/s, outside [1, 10]; on wan the 50 ms round trip is not shorter than Δ, so none is expected
    const other = GRID_RECORDS.map((r) => (r.config.pollIntervalMs > 0 ? { ...r, config: { ...r.config, pollIntervalMs: 50 } } : r));
    const otherGrid = rankGrid(other, CELLS);
    expect(crossoverChecks(rankMap(otherGrid), otherGrid).map((c) => [c.expected, c.consistent])).toEqual([[20, false], [null, false]]);
  });

  it('prints the grid per step, the crossover and the expectations', () => {
    const text = formatMapText(map, grid, requestExpectations(grid));
    expect(text).toContain(`requests per message, ${LONG} > ${SHORT}: holds 2, contradicted 2; holds at 1 msg/s, contradicted at 10 msg/s on loopback, 500 clients`);
    expect(text).toContain('wan (RTT 50 ms, Δ 250 ms): periodic and held polls expected to cross at 1/Δ = 4 msg/s');
    expect(text).toContain('wan, 250 clients: measured flip between 1 and 10 msg/s, expected at 4 msg/s — consistent');
    expect(text).toMatch(/ {2}loopback +holds 4× \[[\d.]+, [\d.]+\] +contradicted 0\.4× \[[\d.]+, [\d.]+\]/);
    const md = formatMapMarkdown(map, grid, requestExpectations(grid));
    expect(md.split('\n').filter((l) => l.startsWith('| loopback |'))).toHaveLength(map.length + 4);
  });
});

describe('rank charts', () => {
  const charts = rankCharts(grid, map);
  it('the ranking first, then a heatmap per metric; each compiles without a warning', () => {
    expect(charts.map((c) => c.id)).toEqual(['rank-ranking', ...RANK_METRICS.map((m) => `rank-map-${m.key}`)]);
    for (const c of charts) {
      const warnings: unknown[] = [];
      const logger = { level: () => logger, error: (...a: unknown[]) => { warnings.push(a); return logger; }, warn: (...a: unknown[]) => { warnings.push(a); return logger; }, info: () => logger, debug: () => logger };
      compile(c.spec as TopLevelSpec, { logger: logger as never });
      expect(warnings, c.id).toEqual([]);
    }
  });
  it('gives each cell a column of its own: no two networks or rates share an axis', () => {
    const spec = charts[0].spec as unknown as { facet: { column: { field: string } }; spec: { layer: { encoding: { x: { field: string } } }[] } };
    expect(spec.facet.column.field).toBe('cell');
    expect(spec.spec.layer.map((l) => l.encoding.x.field)).toEqual(['transport', 'transport']);
    // every transport with a value in every cell and metric: 4 × 4 × 7 rows, p50 in ms
    const rows = rankingChartRows(grid);
    expect(rows).toHaveLength(4 * 4 * RANK_METRICS.length);
    expect(rows.find((r) => r.cell === cellLabel(CELLS[0]) && r.transport === WS && r.metric.startsWith('delivery latency p50'))!.mean).toBeCloseTo(3.0, 1);
  });
  it('draws no capacity curve across networks with different client counts', () => {
    expect(spansClientCounts(reportRuns(records))).toBe(false);
    const more = [...records, { ...records[0], name: 'more', config: { ...records[0].config, clients: 1000 } }];
    expect(spansClientCounts(reportRuns(more))).toBe(true);
  });
});
