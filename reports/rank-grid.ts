/**
 * The grid of a rank: its cells (network × message rate × clients) and one ranking per cell
 * (reports/ranking.ts). Pure: records in, rankings out; a cell's runs are found by their
 * configuration, so a folder of result files ranks again without anything else.
 */
import type { ResultRecord } from '../core/record.ts';
import { rankTransports, type RankingResult, type RankOptions } from './ranking.ts';
import { networkOf } from './runs.ts';

/** One point of the grid. */
export interface GridCell {
  network: string;
  /** messages per second per topic */
  ratePerS: number;
  clients: number;
  /** the network's emulated round trip (twice its one-way delay; 0 on loopback), for the expectations */
  rttMs: number;
}

/** A cell with its ranking and the short-poll period its runs used (0 when none polled on a period). */
export interface CellRanking extends GridCell {
  pollIntervalMs: number;
  ranking: RankingResult;
}

/** The grid's axes, in order (rates and client counts ascending, networks as given), and its ranked cells. */
export interface GridRanking {
  rates: number[];
  networks: string[];
  clientCounts: number[];
  cells: CellRanking[];
}

/** `loopback|5|500`: a cell's identity. */
export const cellKey = (c: Pick<GridCell, 'network' | 'ratePerS' | 'clients'>): string => `${c.network}|${c.ratePerS}|${c.clients}`;

/** `wan, 5 msg/s, 250 clients`: a cell for people. */
export const cellLabel = (c: Pick<GridCell, 'network' | 'ratePerS' | 'clients'>): string => `${c.network}, ${c.ratePerS} msg/s, ${c.clients} clients`;

/** The cell a record ran in. */
export const recordCellKey = (r: ResultRecord): string => cellKey({ network: networkOf(r), ratePerS: r.config.ratePerS, clients: r.config.clients });

/**
 * The rows of a grid drawn rates across: one per network and client count that has a cell, named
 * by the network alone unless that network was ranked at several client counts.
 */
export function gridRows(grid: Pick<GridRanking, 'networks' | 'clientCounts' | 'cells'>): { network: string; clients: number; label: string }[] {
  return grid.networks.flatMap((network) => {
    const counts = grid.clientCounts.filter((k) => grid.cells.some((c) => c.network === network && c.clients === k));
    return counts.map((clients) => ({ network, clients, label: counts.length > 1 ? `${network}, ${clients} clients` : network }));
  });
}

/** Rank every cell that has records, in the grid's order; cells without a run are left out. */
export function rankGrid(records: readonly ResultRecord[], cells: readonly GridCell[], opts: RankOptions = {}): GridRanking {
  const byCell = new Map<string, ResultRecord[]>();
  for (const r of records) {
    const k = recordCellKey(r);
    if (!byCell.has(k)) byCell.set(k, []);
    byCell.get(k)!.push(r);
  }
  const ranked: CellRanking[] = [];
  for (const cell of cells) {
    const subset = byCell.get(cellKey(cell));
    if (!subset || subset.length === 0) continue;
    const pollIntervalMs = Math.max(0, ...subset.map((r) => r.config.pollIntervalMs));
    ranked.push({ ...cell, pollIntervalMs, ranking: rankTransports(subset, opts) });
  }
  const uniq = <T>(xs: T[]) => [...new Set(xs)];
  return {
    rates: uniq(cells.map((c) => c.ratePerS)).sort((a, b) => a - b),
    networks: uniq(cells.map((c) => c.network)),
    clientCounts: uniq(cells.map((c) => c.clients)).sort((a, b) => a - b),
    cells: ranked,
  };
}
