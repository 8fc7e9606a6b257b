/**
 * The merged report's per-shard panel: each shard's clients, host, start lag and validity, with
 * its own delivered count and p99 beside them (the run's percentiles are the merged histograms',
 * never a combination of these).
 */
import type { ShardsFigures } from '../core/record.ts';
import { formatUs } from '../core/units.ts';
import { escapeHtml } from '../reports/html.ts';
import { escapeMarkdownCell } from '../reports/markdown.ts';
import type { ReportSection } from '../reports/report.ts';

const HEAD = ['shard', 'host', 'clients', 'start lag', 'clock offset', 'delivered', 'lost', 'own p99', 'valid'] as const;
const NUMERIC = new Set([2, 3, 5, 6, 7]);

/** The rows of the panel, one per merged shard, then one per missing shard. */
export function shardRows(f: ShardsFigures): string[][] {
  const rows = f.shards.map((s) => [
    String(s.index), s.host, String(s.clients), `${s.startLagMs} ms`,
    s.clock ? `${formatUs(Math.abs(s.clock.offsetUs))}${s.clock.offsetUs < 0 ? ' behind' : ' ahead'} ± ${formatUs(s.clock.uncertaintyUs)}` : 'unknown',
    String(s.delivered), String(s.lost),
    formatUs(s.p99Us), s.valid ? 'yes' : `no: ${s.invalidReasons.join('; ')}`,
  ]);
  for (const i of f.missing) rows.push([String(i), '—', '—', '—', '—', '—', '—', '—', 'missing']);
  return rows.sort((a, b) => Number(a[0]) - Number(b[0]));
}

/** The report section for a merged scale-out record's shards. */
export function shardsSection(f: ShardsFigures): ReportSection {
  const rows = shardRows(f);
  const note = `plan ${f.planId}, ${f.count} shards${f.missing.length ? `, ${f.missing.length} missing` : ''}. The run's percentiles come from the shards' histograms added together, not from these.`;
  const md = [
    `| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (NUMERIC.has(i) ? '---:' : ':---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(escapeMarkdownCell).join(' | ')} |`), '', note,
  ];
  const th = HEAD.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c, i) => `<td${NUMERIC.has(i) ? ' class="num"' : ' class="wrap"'}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return {
    id: 'shards', title: 'Shards', markdown: md.join('\n'),
    html: `<div class="table-wrap"><table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table></div>\n<p>${escapeHtml(note)}</p>`,
  };
}
