/**
 * The charts of a rank over a grid, first on its report: the ranking itself (each transport's mean
 * with its 95 % interval, a row per metric and a column per cell, so no two networks, rates or
 * client counts share an axis), then one heatmap per metric of every claimed step over the grid.
 * Pure: a ranked grid in, vega-lite specs with their data inline out.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChartDef } from './charts.ts';
import { CHART_CONFIG, transportColor } from './chart-style.ts';
import { cellLabel, gridRows, type GridRanking } from './rank-grid.ts';
import type { StepMap } from './rank-map.ts';
import { stepCellText } from './rank-map-format.ts';
import type { RankMetricKey } from './ranking.ts';

const SCHEMA_URL = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Each metric in a unit a chart reads well: µs latencies in ms, RSS in KiB. */
const UNIT: Record<RankMetricKey, { unit: string; scale: number }> = {
  latencyP50Us: { unit: 'ms', scale: 1e-3 },
  latencyP99Us: { unit: 'ms', scale: 1e-3 },
  serverCpuUsPerMessage: { unit: 'µs', scale: 1 },
  bytesPerMessage: { unit: 'B', scale: 1 },
  requestsPerMessage: { unit: 'requests', scale: 1 },
  connectionsOpened: { unit: 'connections', scale: 1 },
  rssBytesPerConnection: { unit: 'KiB', scale: 1 / 1024 },
};

const scaled = (v: number | null, k: number) => (v === null ? null : v * k);

/** One row per cell × metric × transport with a value: mean, lo and hi in the metric's chart unit. */
export function rankingChartRows(grid: GridRanking) {
  return grid.cells.flatMap((cell) => cell.ranking.metrics.flatMap((m) => {
    const u = UNIT[m.metric.key];
    return m.ranked.filter((e) => e.mean !== null).map((e) => ({
      metric: `${m.metric.label} (${u.unit})`, cell: cellLabel(cell), transport: e.transport,
      mean: scaled(e.mean, u.scale), lo: scaled(e.lo, u.scale), hi: scaled(e.hi, u.scale), n: e.n,
    }));
  }));
}

/** The ranking: a point per transport with its interval as a rule, a row per metric, a column per cell. */
export function rankingChart(grid: GridRanking): TopLevelSpec {
  const rows = rankingChartRows(grid);
  const transports = [...new Set(grid.cells.flatMap((c) => c.ranking.claimedOrder))];
  const x = { field: 'transport', type: 'nominal' as const, sort: transports, title: null, axis: { labelAngle: -35 } };
  return {
    $schema: SCHEMA_URL, title: 'The ranking: mean and 95 % interval per transport, per metric and cell', config: CHART_CONFIG,
    data: { values: rows },
    facet: {
      row: { field: 'metric', type: 'nominal', sort: [...new Set(rows.map((r) => r.metric))], title: null, header: { labelAngle: 0, labelAlign: 'left', labelLimit: 230 } },
      column: { field: 'cell', type: 'nominal', sort: grid.cells.map(cellLabel), title: null, header: { labelFontSize: 11 } },
    },
    spec: {
      width: 130, height: 80,
      layer: [
        { transform: [{ filter: 'datum.lo !== null && datum.hi !== null' }], mark: { type: 'rule', strokeWidth: 2 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: null }, y2: { field: 'hi' }, color: transportColor() } },
        {
          mark: { type: 'point', filled: true, size: 45 },
          encoding: {
            x, y: { field: 'mean', type: 'quantitative', title: null, scale: { zero: true } }, color: transportColor(),
            tooltip: [{ field: 'cell', type: 'nominal' }, { field: 'metric', type: 'nominal' }, { field: 'transport', type: 'nominal' }, { field: 'mean', type: 'quantitative', format: ',.4~r' }, { field: 'lo', type: 'quantitative', format: ',.4~r' }, { field: 'hi', type: 'quantitative', format: ',.4~r' }, { field: 'n', type: 'quantitative', title: 'repeats' }],
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

const VERDICT_SCALE = { domain: ['holds', 'tie', 'contradicted', 'unknown'], range: ['#4ac26b', '#d8dee4', '#e5534b', '#ffffff'] };

/** One metric's heatmap: a panel per claimed step, rates across, networks (× clients) down, a cell's verdict as colour and its ratio as text. */
export function stepHeatmap(steps: readonly StepMap[], grid: GridRanking): TopLevelSpec {
  const rows = gridRows(grid);
  const rowOf = (network: string, clients: number) => rows.find((r) => r.network === network && r.clients === clients)?.label ?? network;
  const values = steps.flatMap((s) => s.cells.map((c) => ({
    step: `${s.better} > ${s.worse}`, rate: `${c.ratePerS} msg/s`, row: rowOf(c.network, c.clients), verdict: c.verdict, text: stepCellText(c).replace(/^\S+ ?/, '') || c.verdict,
  })));
  const x = { field: 'rate', type: 'ordinal' as const, sort: grid.rates.map((r) => `${r} msg/s`), title: 'messages per second', axis: { labelAngle: 0 } };
  const y = { field: 'row', type: 'nominal' as const, sort: rows.map((r) => r.label), title: null };
  return {
    $schema: SCHEMA_URL, title: `Map: ${steps[0]?.label ?? ''} — each claimed step over the grid`, config: CHART_CONFIG,
    data: { values },
    facet: { column: { field: 'step', type: 'nominal', sort: steps.map((s) => `${s.better} > ${s.worse}`), title: null, header: { labelFontSize: 12 } } },
    spec: {
      width: 125 * grid.rates.length, height: 34 * rows.length,
      layer: [
        { mark: { type: 'rect', stroke: '#ffffff' }, encoding: { x, y, color: { field: 'verdict', type: 'nominal', title: 'claimed step', scale: VERDICT_SCALE, legend: { orient: 'bottom', direction: 'horizontal' } }, tooltip: [{ field: 'step', type: 'nominal' }, { field: 'row', type: 'nominal', title: 'network' }, { field: 'rate', type: 'nominal' }, { field: 'verdict', type: 'nominal' }, { field: 'text', type: 'nominal', title: 'ratio [95 % CI]' }] } },
        { mark: { type: 'text', fontSize: 10, color: '#1f2328' }, encoding: { x, y, text: { field: 'text' } } },
      ],
    },
  } as TopLevelSpec;
}

/** The rank's charts in page order: the ranking, then a heatmap per metric. */
export function rankCharts(grid: GridRanking, map: readonly StepMap[]): ChartDef[] {
  const metrics = [...new Set(map.map((s) => s.metric))];
  return [
    { id: 'rank-ranking', title: 'The ranking', wide: true, spec: rankingChart(grid),
      caption: 'Each transport\'s mean (dot) with its 95 % interval (bar) over the valid repeats; a row per metric, lower is better; a column per cell of the grid (network, message rate, clients), each with its own scale.' },
    ...metrics.map((key) => {
      const steps = map.filter((s) => s.metric === key);
      return { id: `rank-map-${key}`, title: `Map — ${steps[0].label}`, wide: true, spec: stepHeatmap(steps, grid),
        caption: 'Per claimed step (claimed-better > claimed-worse), per cell: green holds (intervals apart, as claimed), grey tie (intervals overlap), red contradicted (intervals apart, the other way). Text: claimed-worse ÷ claimed-better with its 95 % interval; where one mean is 0 no ratio exists and the text gives both means, claimed-worse vs claimed-better.' };
    }),
  ];
}
