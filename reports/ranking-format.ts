/**
 * The ranking as people read it: a plain-text block for the console, a Markdown table for
 * summary.md and an HTML table for report.html. Each metric shows its ranking (`<` clearly
 * better, `≈` cannot be told apart, `?` no interval to judge by), every transport's
 * `mean [lo, hi]`, and the verdict on the claimed order with the numbers. Pure.
 */
import { escapeHtml } from './html.ts';
import { escapeMarkdownCell } from './markdown.ts';
import type { MetricRanking, RankingResult, TransportEstimate } from './ranking.ts';

/** `ws ≈ sse < long-poll < short-poll`; transports without a value follow as `(unknown: …)`. */
export function rankingLine(m: MetricRanking): string {
  const known = m.ranked.filter((e) => e.mean !== null);
  const unknown = m.ranked.filter((e) => e.mean === null).map((e) => e.transport);
  const groupOf = new Map<string, number>();
  m.tieGroups.forEach((g, i) => g.forEach((t) => groupOf.set(t, i)));
  let line = '';
  known.forEach((e, i) => {
    if (i > 0) {
      const prev = known[i - 1];
      const sep = prev.lo === null || e.lo === null ? '?' : groupOf.get(prev.transport) === groupOf.get(e.transport) ? '≈' : '<';
      line += ` ${sep} `;
    }
    line += e.transport;
  });
  if (unknown.length > 0) line += `${line ? ' ' : ''}(unknown: ${unknown.join(', ')})`;
  return line;
}

/** `812µs [700µs, 924µs]`, `812µs (n=1, no interval)`, `unknown`; notes runs that lacked the figure. */
export function estimateCell(e: TransportEstimate, m: MetricRanking): string {
  const f = m.metric.format;
  const missing = e.unknownRuns > 0 ? ` (${e.unknownRuns} run${e.unknownRuns === 1 ? '' : 's'} unknown)` : '';
  if (e.mean === null) return 'unknown';
  if (e.lo === null || e.hi === null) return `${f(e.mean)} (n=${e.n}, no interval)${missing}`;
  return `${f(e.mean)} [${f(e.lo)}, ${f(e.hi)}]${missing}`;
}

const pct = (level: number) => `${Math.round(level * 1000) / 10} %`;

function headerLines(r: RankingResult): string[] {
  const lines = [
    `claimed order: ${r.claimedOrder.join(' > ')}; lower is better for every metric; mean [${pct(r.level)} CI] over valid repeats`,
  ];
  if (r.runs.invalid > 0) {
    const per = Object.entries(r.runs.invalidByTransport).map(([t, n]) => `${t}: ${n}`).join(', ');
    lines.push(`${r.runs.invalid} invalid run${r.runs.invalid === 1 ? '' : 's'} excluded (${per}) of ${r.runs.total}:`);
    for (const reason of r.runs.invalidReasons) lines.push(`  - ${reason}`);
  } else {
    lines.push(`${r.runs.valid} valid runs, none excluded`);
  }
  return lines;
}

/** The console block: per metric its ranking line, one row per transport, and the verdict. */
export function formatRankingText(r: RankingResult): string {
  const out = headerLines(r);
  const nameWidth = Math.max(...r.metrics.flatMap((m) => m.ranked.map((e) => e.transport.length)), 9);
  for (const m of r.metrics) {
    out.push('', `${m.metric.label}: ${rankingLine(m)}`);
    const cells = m.ranked.map((e) => estimateCell(e, m));
    const cellWidth = Math.max(...cells.map((c) => c.length));
    m.ranked.forEach((e, i) => out.push(`  ${e.transport.padEnd(nameWidth)}  ${cells[i].padEnd(cellWidth)}  n=${e.n}`));
    out.push(`  verdict: ${m.verdict} — ${m.explanation}`);
  }
  return out.join('\n');
}

/** The Markdown table: one row per metric, one column per transport in the claimed order. */
export function formatRankingMarkdown(r: RankingResult): string {
  const transports = [...r.claimedOrder, ...r.metrics[0].ranked.map((e) => e.transport).filter((t) => !r.claimedOrder.includes(t))];
  const head = headerLines(r);
  const lines = [escapeMarkdownCell(head[0]), ''];
  if (head.length > 1) {
    lines.push(escapeMarkdownCell(head[1]), '');
    for (const reason of head.slice(2)) lines.push(`- ${escapeMarkdownCell(reason.replace(/^\s+- /, ''))}`);
    if (head.length > 2) lines.push('');
  }
  lines.push(
    `| metric | ranking (best first) | ${transports.map(escapeMarkdownCell).join(' | ')} | verdict |`,
    `|---|---|${transports.map(() => '---:').join('|')}|---|`,
  );
  for (const m of r.metrics) {
    const byName = new Map(m.ranked.map((e) => [e.transport, e]));
    const cells = transports.map((t) => escapeMarkdownCell(estimateCell(byName.get(t)!, m)));
    lines.push(`| ${escapeMarkdownCell(m.metric.label)} | ${escapeMarkdownCell(rankingLine(m))} | ${cells.join(' | ')} | **${m.verdict}**: ${escapeMarkdownCell(m.explanation)} |`);
  }
  return lines.join('\n') + '\n';
}

/** The same table as HTML (a fragment: paragraphs and one `<table class="ranking">`). */
export function formatRankingHtml(r: RankingResult): string {
  const transports = [...r.claimedOrder, ...r.metrics[0].ranked.map((e) => e.transport).filter((t) => !r.claimedOrder.includes(t))];
  const head = headerLines(r);
  const parts = [`<p>${escapeHtml(head[0])}</p>`, `<p>${escapeHtml(head[1])}</p>`];
  if (head.length > 2) parts.push(`<ul>${head.slice(2).map((x) => `<li>${escapeHtml(x.replace(/^\s+- /, ''))}</li>`).join('')}</ul>`);
  const th = (t: string) => `<th>${escapeHtml(t)}</th>`;
  parts.push(`<table class="ranking"><thead><tr>${['metric', 'ranking (best first)', ...transports, 'verdict'].map(th).join('')}</tr></thead><tbody>`);
  for (const m of r.metrics) {
    const byName = new Map(m.ranked.map((e) => [e.transport, e]));
    const cells = transports.map((t) => `<td class="num">${escapeHtml(estimateCell(byName.get(t)!, m))}</td>`).join('');
    parts.push(`<tr><td>${escapeHtml(m.metric.label)}</td><td>${escapeHtml(rankingLine(m))}</td>${cells}<td><strong>${escapeHtml(m.verdict)}</strong>: ${escapeHtml(m.explanation)}</td></tr>`);
  }
  parts.push('</tbody></table>');
  return parts.join('\n');
}
