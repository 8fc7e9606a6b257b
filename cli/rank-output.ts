/**
 * What `rank` prints and writes once its runs are done: the summary table, each cell's ranking,
 * the map over the grid with the expectations, ranking.json (every cell with its verdicts, the map,
 * the expectations) and the report, whose first charts are the ranking and the maps.
 */
import { join } from 'node:path';
import { writeJsonAtomic, type ResultRecord } from '../core/record.ts';
import { formatRankingText, formatRankingMarkdown, formatRankingHtml } from '../reports/ranking-format.ts';
import { cellLabel, rankGrid } from '../reports/rank-grid.ts';
import { rankMap } from '../reports/rank-map.ts';
import { crossoverChecks, requestExpectations } from '../reports/rank-expect.ts';
import { formatMapHtml, formatMapMarkdown, formatMapText } from '../reports/rank-map-format.ts';
import { rankCharts } from '../reports/rank-charts.ts';
import { fileSafe } from './run-options.ts';
import { formatSummaryTable } from './summary.ts';
import type { RankSetup } from './rank-options.ts';

/** ranking.json's shape: `cells` holds every cell's full ranking; `map`, `expectations` and `crossoverChecks` the grid's view. */
export const RANKING_JSON_VERSION = 2;

export async function writeRankOutputs(setup: RankSetup, records: ResultRecord[], time: { startedMs: number; endedMs: number }): Promise<void> {
  process.stdout.write(`\n${formatSummaryTable(records)}\n`);
  const grid = rankGrid(records, setup.cells);
  const sections = [];
  for (const cell of grid.cells) {
    const workload = cell.ranking.workload;
    process.stdout.write(`\nRanking on ${cellLabel(cell)} (${workload}, ${setup.repeats} repeats; mean [95 % CI]):\n${formatRankingText(cell.ranking)}\n`);
    sections.push({ id: `ranking-${fileSafe(`${cell.network}-${cell.ratePerS}-${cell.clients}`)}`, title: `Ranking — ${cellLabel(cell)}`, markdown: formatRankingMarkdown(cell.ranking), html: formatRankingHtml(cell.ranking) });
  }
  const map = rankMap(grid);
  const expectations = requestExpectations(grid);
  if (grid.cells.length > 0) {
    process.stdout.write(`\n${formatMapText(map, grid, expectations)}\n`);
    sections.unshift({ id: 'rank-map', title: 'The map over the grid', markdown: formatMapMarkdown(map, grid, expectations), html: formatMapHtml(map, grid, expectations) });
    writeJsonAtomic(join(setup.outDir, 'ranking.json'), {
      version: RANKING_JSON_VERSION, name: setup.name, startedAt: new Date(time.startedMs).toISOString(), endedAt: new Date(time.endedMs).toISOString(),
      grid: { rates: grid.rates, networks: grid.networks, clientCounts: grid.clientCounts, repeats: setup.repeats, transports: setup.transports },
      cells: grid.cells, map, expectations, crossoverChecks: crossoverChecks(map, grid),
    });
  }
  if (records.length > 0 && setup.noReport) {
    process.stdout.write(`\nwrote ${records.length} result files and ranking.json to ${setup.outDir} (--no-report: no report)\n`);
  } else if (records.length > 0) {
    const { writeReport } = await import('../reports/report.ts');
    const leadCharts = grid.cells.length > 0 ? rankCharts(grid, map) : [];
    const { files } = await writeReport(records, setup.outDir, { title: `pushbench rank: ${setup.name}`, sections, leadCharts });
    process.stdout.write(`\nwrote ${records.length} result files and the report: ${files[0]}\n`);
  }
}
