/**
 * The map of a rank over its grid: for each metric and each step of the claimed order (ws > sse,
 * sse > long polling, long polling > short polling, as the claim lists them), per cell whether the
 * step holds, ties or is contradicted, with the ratio worse/better and its interval; and where
 * along an axis of the grid the step flips. Pure.
 *
 * A cell's verdict on a step is the per-cell ranking's relation of the pair (intervals apart or
 * not, reports/ranking.ts), so the map never disagrees with the tables; the ratio's interval
 * (delta method on the log, reports/stats.ts) is the finer figure beside it.
 */
import type { TransportName } from '../core/wire.ts';
import { type CellRanking, type GridCell, type GridRanking } from './rank-grid.ts';
import { RANK_METRICS, type PairRelation, type RankMetricKey } from './ranking.ts';
import { ratioOfMeansCi } from './stats.ts';

export type StepVerdict = 'holds' | 'tie' | 'contradicted' | 'unknown';

const VERDICT_OF: Record<PairRelation, StepVerdict> = { 'as-claimed': 'holds', indistinguishable: 'tie', reversed: 'contradicted', unknown: 'unknown' };

/** One step in one cell. */
export interface StepCell extends GridCell {
  verdict: StepVerdict;
  /** the claimed-worse transport's mean over the claimed-better one's; null when either is not above 0 */
  ratio: number | null;
  lo: number | null;
  hi: number | null;
  betterMean: number | null;
  worseMean: number | null;
}

/** Between two neighbouring grid points along one axis the step turns from one clear verdict to the other. */
export interface Crossover {
  axis: 'rate' | 'network' | 'clients';
  /** what stays fixed along the axis, e.g. `wan, 250 clients` */
  along: string;
  from: string;
  to: string;
  fromVerdict: StepVerdict;
  toVerdict: StepVerdict;
  /** the grid points between the two whose verdict is tie or unknown */
  through: string[];
  /** the two clear points' cells */
  fromCell: GridCell;
  toCell: GridCell;
}

export interface StepMap {
  metric: RankMetricKey;
  label: string;
  better: TransportName;
  worse: TransportName;
  cells: StepCell[];
  crossovers: Crossover[];
}

function stepCell(cell: CellRanking, metric: RankMetricKey, pair: readonly [TransportName, TransportName]): StepCell | null {
  const m = cell.ranking.metrics.find((x) => x.metric.key === metric);
  const step = m?.steps.find((p) => p.better.transport === pair[0] && p.worse.transport === pair[1]);
  if (!step) return null;
  const { better, worse } = step;
  const r = better.mean !== null && worse.mean !== null ? ratioOfMeansCi({ ...worse, mean: worse.mean }, { ...better, mean: better.mean }, cell.ranking.level) : null;
  const { network, ratePerS, clients, rttMs } = cell;
  return {
    network, ratePerS, clients, rttMs, verdict: VERDICT_OF[step.relation],
    ratio: r?.ratio ?? null, lo: r?.lo ?? null, hi: r?.hi ?? null, betterMean: better.mean, worseMean: worse.mean,
  };
}

const clear = (v: StepVerdict) => v === 'holds' || v === 'contradicted';

/** Flips along one ordered line of points: clear verdicts that differ, with the unclear points between. */
export function flipsAlong(points: readonly { label: string; verdict: StepVerdict }[]): Omit<Crossover, 'axis' | 'along' | 'fromCell' | 'toCell'>[] {
  const out: Omit<Crossover, 'axis' | 'along' | 'fromCell' | 'toCell'>[] = [];
  let last = -1;
  points.forEach((p, i) => {
    if (!clear(p.verdict)) return;
    if (last >= 0 && points[last].verdict !== p.verdict) {
      out.push({ from: points[last].label, to: p.label, fromVerdict: points[last].verdict, toVerdict: p.verdict, through: points.slice(last + 1, i).map((x) => x.label) });
    }
    last = i;
  });
  return out;
}

type Axis = { axis: Crossover['axis']; key: (c: GridCell) => string; along: (c: GridCell) => string; order: (c: GridCell) => number; label: (c: GridCell) => string };

function axesOf(grid: GridRanking): Axis[] {
  const net = (c: GridCell) => grid.networks.indexOf(c.network);
  return [
    { axis: 'rate', key: (c) => `${c.network}|${c.clients}`, along: (c) => `${c.network}, ${c.clients} clients`, order: (c) => c.ratePerS, label: (c) => `${c.ratePerS} msg/s` },
    { axis: 'network', key: (c) => `${c.ratePerS}|${c.clients}`, along: (c) => `${c.ratePerS} msg/s, ${c.clients} clients`, order: net, label: (c) => c.network },
    { axis: 'clients', key: (c) => `${c.network}|${c.ratePerS}`, along: (c) => `${c.network}, ${c.ratePerS} msg/s`, order: (c) => c.clients, label: (c) => `${c.clients} clients` },
  ];
}

/** Every crossover of one step over the grid, along each axis with more than one point. */
function crossovers(cells: readonly StepCell[], grid: GridRanking): Crossover[] {
  const out: Crossover[] = [];
  for (const a of axesOf(grid)) {
    const lines = new Map<string, StepCell[]>();
    for (const c of cells) {
      if (!lines.has(a.key(c))) lines.set(a.key(c), []);
      lines.get(a.key(c))!.push(c);
    }
    for (const line of lines.values()) {
      if (line.length < 2) continue;
      const sorted = [...line].sort((x, y) => a.order(x) - a.order(y));
      const cellAt = (label: string): GridCell => { const { network, ratePerS, clients, rttMs } = sorted.find((c) => a.label(c) === label)!; return { network, ratePerS, clients, rttMs }; };
      for (const f of flipsAlong(sorted.map((c) => ({ label: a.label(c), verdict: c.verdict })))) {
        out.push({ axis: a.axis, along: a.along(sorted[0]), ...f, fromCell: cellAt(f.from), toCell: cellAt(f.to) });
      }
    }
  }
  return out;
}

/** The map: one entry per metric and claimed step (every step any cell ranked), each with every cell of the grid. */
export function rankMap(grid: GridRanking): StepMap[] {
  const out: StepMap[] = [];
  for (const metric of RANK_METRICS) {
    const pairs = new Map<string, readonly [TransportName, TransportName]>();
    for (const c of grid.cells) {
      for (const p of c.ranking.metrics.find((x) => x.metric.key === metric.key)?.steps ?? []) pairs.set(`${p.better.transport}>${p.worse.transport}`, [p.better.transport, p.worse.transport]);
    }
    for (const pair of pairs.values()) {
      const cells = grid.cells.map((c) => stepCell(c, metric.key, pair)).filter((c): c is StepCell => c !== null);
      out.push({ metric: metric.key, label: metric.label, better: pair[0], worse: pair[1], cells, crossovers: crossovers(cells, grid) });
    }
  }
  return out;
}

/** `between 1 msg/s and 10 msg/s on wan, 250 clients (through 5 msg/s: tie)`. */
export function describeCrossover(c: Crossover): string {
  const through = c.through.length > 0 ? ` (through ${c.through.join(', ')}, not clear there)` : '';
  return `${c.fromVerdict} at ${c.from}, ${c.toVerdict} at ${c.to} on ${c.along}${through}`;
}
