/**
 * summary.md: GitHub-flavoured Markdown — flagged runs first in words, then the summary table
 * (one row per run, the columns of ./table.ts). User text is escaped for Markdown and HTML.
 */
import { isFlagged, runStatus, type ReportRun } from './runs.ts';
import { SUMMARY_COLUMNS, summaryRows } from './table.ts';

/** Escape text for a GFM table cell: no HTML, no pipes, no line breaks, no Markdown emphasis. */
export function escapeMarkdownCell(text: string): string {
  return text
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\\/g, '\\\\').replace(/([|*_`[\]#~])/g, '\\$1')
    .replace(/\r?\n|\r/g, ' ');
}

/**
 * `text` as an inline code span: shown literally (a code span does not read HTML entities or
 * backslash escapes, so it must not be escaped), on one line, fenced by more backticks than any
 * run of them inside.
 */
export function markdownCode(text: string): string {
  const flat = text.replace(/\r?\n|\r/g, ' ');
  const fence = '`'.repeat(Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** The Markdown document. `sections` are extra blocks (rank, compare…) put before the table. Pure. */
export function summaryMarkdown(runs: readonly ReportRun[], title: string, sections: readonly { title: string; markdown: string }[] = []): string {
  const lines: string[] = [`# ${escapeMarkdownCell(title)}`, ''];
  const flagged = runs.filter((r) => isFlagged(r.record));
  if (flagged.length > 0) {
    lines.push(`**${flagged.length} of ${runs.length} runs are flagged** (their figures are not comparable):`, '');
    for (const r of flagged) lines.push(`- ${escapeMarkdownCell(r.label)}: ${escapeMarkdownCell(runStatus(r.record))}`);
    lines.push('');
  }
  for (const s of sections) lines.push(`## ${escapeMarkdownCell(s.title)}`, '', s.markdown.trimEnd(), '');
  lines.push('Delivery latency percentiles; cost per delivered message.', '');
  lines.push(`| ${SUMMARY_COLUMNS.map((c) => escapeMarkdownCell(c.header)).join(' | ')} |`);
  lines.push(`|${SUMMARY_COLUMNS.map((c) => (c.numeric ? '---:' : ':---')).join('|')}|`);
  for (const row of summaryRows(runs)) lines.push(`| ${row.map(escapeMarkdownCell).join(' | ')} |`);
  return lines.join('\n') + '\n';
}
