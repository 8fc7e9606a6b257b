/**
 * The map of a rank as people read it: per metric and claimed step a grid of verdicts with the
 * ratio and its interval (rows: network, and clients when the grid has several; columns: rates),
 * each crossover in a sentence, and the requests-per-message expectations measured against the
 * formulas. Plain text for the console, Markdown for summary.md, HTML for report.html. Pure.
 */
import { escapeHtml } from './html.ts';
import { escapeMarkdownCell } from './markdown.ts';
import { formatSig3 } from './ranking.ts';
import { gridRows, type GridRanking } from './rank-grid.ts';
import { describeCrossover, type StepCell, type StepMap } from './rank-map.ts';
import { crossoverChecks, expectedRequestCrossover, type RequestExpectation } from './rank-expect.ts';

/** `holds 4.02× [3.9, 4.1]`, `tie 1.1× (no interval)`, `tie (0 vs 0)`. */
export function stepCellText(c: StepCell): string {
  if (c.ratio === null) return c.betterMean === null || c.worseMean === null ? c.verdict : `${c.verdict} (${formatSig3(c.worseMean)} vs ${formatSig3(c.betterMean)})`;
  const ci = c.lo === null || c.hi === null ? ' (no interval)' : ` [${formatSig3(c.lo)}, ${formatSig3(c.hi)}]`;
  return `${c.verdict} ${formatSig3(c.ratio)}×${ci}`;
}

/** The step's grid: a header row of rates, then a row per network (and client count where several). */
export function stepGrid(step: StepMap, grid: GridRanking): string[][] {
  const rows: string[][] = [['', ...grid.rates.map((r) => `${r} msg/s`)]];
  for (const row of gridRows(grid)) {
    const cells = grid.rates.map((rate) => step.cells.find((c) => c.network === row.network && c.clients === row.clients && c.ratePerS === rate));
    rows.push([row.label, ...cells.map((c) => (c ? stepCellText(c) : '—'))]);
  }
  return rows;
}

/** `long-poll > short-poll on requests per message: holds in all 4 cells`, or its crossovers. */
export function stepFinding(step: StepMap): string {
  const head = `${step.label}, ${step.better} > ${step.worse}`;
  const verdicts = [...new Set(step.cells.map((c) => c.verdict))];
  if (verdicts.length === 1) return `${head}: ${verdicts[0]} in all ${step.cells.length} cells`;
  const count = (v: string) => step.cells.filter((c) => c.verdict === v).length;
  const tally = ['holds', 'tie', 'contradicted', 'unknown'].filter((v) => count(v) > 0).map((v) => `${v} ${count(v)}`).join(', ');
  const flips = step.crossovers.map(describeCrossover);
  return `${head}: ${tally}${flips.length > 0 ? `; ${flips.join('; ')}` : '; no clear flip between neighbouring points'}`;
}

function expectationRow(x: RequestExpectation): string[] {
  const measured = x.measured === null ? 'unknown' : `${formatSig3(x.measured)}${x.lo === null || x.hi === null ? ' (no interval)' : ` [${formatSig3(x.lo)}, ${formatSig3(x.hi)}]`}`;
  const verdict = x.within === null ? 'no interval' : x.within ? 'within' : `outside (${x.deviation === null ? '?' : `${x.deviation >= 0 ? '+' : ''}${(x.deviation * 100).toFixed(1)} %`})`;
  return [x.network, `${x.ratePerS} msg/s`, String(x.clients), x.transport, `${formatSig3(x.expected)} = ${x.model}`, measured, verdict];
}

const EXPECT_HEAD = ['network', 'rate', 'clients', 'transport', 'expected requests/message', 'measured [95 % CI]', 'expected in interval'];

/** `loopback, 500 clients: measured flip between 1 and 10 msg/s, expected at 4 msg/s — consistent`. */
export function crossoverCheckLines(map: readonly StepMap[], grid: GridRanking): string[] {
  return crossoverChecks(map, grid).map((c) => `${c.along}: measured flip between ${c.between[0]} and ${c.between[1]} msg/s, ${c.expected === null ? 'none expected' : `expected at ${formatSig3(c.expected)} msg/s`} — ${c.consistent ? 'consistent' : 'inconsistent'}`);
}

/** The expected crossover of the two polls' requests per message for each network, as a sentence. */
function expectedCrossoverLines(grid: GridRanking): string[] {
  return grid.networks.flatMap((network) => {
    const c = grid.cells.find((x) => x.network === network && x.pollIntervalMs > 0);
    if (!c) return [];
    const at = expectedRequestCrossover(c.pollIntervalMs, c.rttMs);
    return [`${network} (RTT ${c.rttMs} ms, Δ ${c.pollIntervalMs} ms): ${at === null ? 'no crossover expected (RTT ≥ Δ: the held poll never makes more requests per message)' : `periodic and held polls expected to cross at 1/Δ = ${formatSig3(at)} msg/s`}`];
  });
}

function textTable(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd());
}

/** The console block: every step's grid and finding, then the expectations. */
export function formatMapText(map: readonly StepMap[], grid: GridRanking, expectations: readonly RequestExpectation[]): string {
  const out = ['Map over the grid: per claimed step, holds / tie / contradicted and the ratio claimed-worse ÷ claimed-better [95 % CI]'];
  for (const step of map) out.push('', stepFinding(step), ...textTable(stepGrid(step, grid)));
  out.push('', 'Requests per message, measured against the formulas (docs/ranking.md):', ...[...expectedCrossoverLines(grid), ...crossoverCheckLines(map, grid)].map((l) => `  ${l}`));
  if (expectations.length > 0) out.push(...textTable([EXPECT_HEAD, ...expectations.map(expectationRow)]));
  return out.join('\n');
}

const mdRow = (cells: readonly string[]) => `| ${cells.map(escapeMarkdownCell).join(' | ')} |`;
const mdTable = (rows: readonly string[][]) => [mdRow(rows[0]), `|${rows[0].map(() => '---').join('|')}|`, ...rows.slice(1).map(mdRow)];

/** The Markdown section: the findings, one grid table per step, the expectations. */
export function formatMapMarkdown(map: readonly StepMap[], grid: GridRanking, expectations: readonly RequestExpectation[]): string {
  const lines = ['Per claimed step: holds / tie / contradicted, and the ratio claimed-worse ÷ claimed-better [95 % CI].', ''];
  for (const step of map) lines.push(`- ${escapeMarkdownCell(stepFinding(step))}`);
  for (const step of map) lines.push('', `**${escapeMarkdownCell(`${step.label}: ${step.better} > ${step.worse}`)}**`, '', ...mdTable(stepGrid(step, grid)));
  lines.push('', '**Requests per message against the formulas**', '', ...[...expectedCrossoverLines(grid), ...crossoverCheckLines(map, grid)].map((l) => `- ${escapeMarkdownCell(l)}`));
  if (expectations.length > 0) lines.push('', ...mdTable([EXPECT_HEAD, ...expectations.map(expectationRow)]));
  return lines.join('\n') + '\n';
}

function htmlTable(rows: readonly string[][], cls: string): string {
  const head = `<tr>${rows[0].map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = rows.slice(1).map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<td>${escapeHtml(c)}</td>` : `<td class="num">${escapeHtml(c)}</td>`)).join('')}</tr>`).join('');
  return `<table class="${cls}"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** The HTML section: the findings as a list, the expectations table (the grids are the heatmaps). */
export function formatMapHtml(map: readonly StepMap[], grid: GridRanking, expectations: readonly RequestExpectation[]): string {
  const parts = [`<ul>${map.map((s) => `<li>${escapeHtml(stepFinding(s))}</li>`).join('')}</ul>`];
  parts.push(`<p>Requests per message against the formulas (docs/ranking.md):</p><ul>${[...expectedCrossoverLines(grid), ...crossoverCheckLines(map, grid)].map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`);
  if (expectations.length > 0) parts.push(htmlTable([EXPECT_HEAD, ...expectations.map(expectationRow)], 'ranking'));
  return parts.join('\n');
}
