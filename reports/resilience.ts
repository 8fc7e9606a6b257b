/**
 * The report's resilience block: one row per injected fault (time to detect, reconnect time,
 * lost / duplicated / recovered / unrecoverable messages, time until the delivery rate is back)
 * and one line per run with slow consumers. The console (cli/summary.ts), summary.md and
 * report.html all show the same cells, built here once. Pure.
 */
import type { FaultResult, SlowClientsResult } from '../core/record.ts';
import type { ReportRun } from './runs.ts';
import type { ReportSection } from './section.ts';
import { escapeHtml } from './html.ts';
import { escapeMarkdownCell } from './markdown.ts';
import { formatBytes, formatUs } from '../core/units.ts';

export const FAULT_COLUMNS = ['fault', 'disconnects', 'detect p50', 'reconnect p50', 'reconnect p99', 'lost', 'dup', 'resets', 'unrecovered', 'recovered', 'rate back after', 'what happened'] as const;

/** The cells of one fault's row, in FAULT_COLUMNS order. */
export function faultCells(f: FaultResult): string[] {
  return [
    f.fault, String(f.disconnects),
    f.detectUs.count ? formatUs(f.detectUs.p50) : '-',
    f.reconnectUs.count ? formatUs(f.reconnectUs.p50) : '-',
    f.reconnectUs.count ? formatUs(f.reconnectUs.p99) : '-',
    String(f.lost), String(f.duplicates), String(f.resets), String(f.unrecovered ?? '-'), String(f.recovered),
    f.rateBackAfterS === null ? 'never' : `${f.rateBackAfterS} s`,
    f.injected,
  ];
}

/** One sentence on a run's slow consumers (the run's main figures describe the other clients). */
export function slowClientsSentence(s: SlowClientsResult): string {
  return `slow consumers: ${s.clients} clients (${(s.share * 100).toFixed(1)} %) reading at most ${formatBytes(s.readBytesPerS)}/s — ` +
    `server dropped ${s.serverDrops ?? 'unknown'} slow connections; they reconnected ${s.reconnects} times, ` +
    `received ${s.delivered.toLocaleString('en-US')} messages (p50 ${formatUs(s.latencyUs.p50)}, p99 ${formatUs(s.latencyUs.p99)}), lost ${s.lost}. ` +
    'The run\'s other figures describe the other clients.';
}

/** The "Faults and slow consumers" section, or null when no run injected a fault or had slow clients. */
export function resilienceSection(runs: readonly ReportRun[]): ReportSection | null {
  const withFaults = runs.filter((r) => (r.record.faults?.length ?? 0) > 0);
  const withSlow = runs.filter((r) => r.record.slowClients);
  if (withFaults.length === 0 && withSlow.length === 0) return null;
  const head = ['run', ...FAULT_COLUMNS];
  const rows = withFaults.flatMap((r) => r.record.faults!.map((f) => [r.label, ...faultCells(f)]));
  const numeric = (i: number) => i > 1 && i < head.length - 1;

  const md: string[] = [];
  const html: string[] = [];
  if (rows.length > 0) {
    md.push(`| ${head.map(escapeMarkdownCell).join(' | ')} |`, `|${head.map((_, i) => (numeric(i) ? '---:' : ':---')).join('|')}|`);
    for (const row of rows) md.push(`| ${row.map(escapeMarkdownCell).join(' | ')} |`);
    md.push('', 'detect: fault → a client\'s first disconnect; reconnect: disconnect → connected again; recovered: published while a client was away and delivered after it came back; unrecovered: lost to a server restart (new epoch), beyond any resume.', '');
    const th = head.map((h, i) => `<th${numeric(i) ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('');
    const trs = rows.map((row) => `<tr>${row.map((c, i) => `<td${numeric(i) ? ' class="num"' : ' class="wrap"'}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
    html.push(`<div class="table-wrap"><table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table></div>`);
    html.push('<p>detect: fault → a client\'s first disconnect; reconnect: disconnect → connected again; recovered: published while a client was away and delivered after it came back; unrecovered: lost to a server restart (new epoch), beyond any resume.</p>');
  }
  for (const r of withSlow) {
    const sentence = `${r.label}: ${slowClientsSentence(r.record.slowClients!)}`;
    md.push(`- ${escapeMarkdownCell(sentence)}`);
    html.push(`<p>${escapeHtml(sentence)}</p>`);
  }
  return { id: 'resilience', title: 'Faults and slow consumers', markdown: md.join('\n'), html: html.join('\n') };
}
