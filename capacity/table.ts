/**
 * What `pushbench capacity` prints and puts in its report: one row per transport (capacity, p99,
 * server CPU and memory per connection at capacity, processes, why the search stopped) and the
 * planning line "≈ X servers like this one for 1,000,000 clients at this SLO" with its
 * assumptions. Pure: records and search results in, text/Markdown/HTML out.
 */
import type { ResultRecord } from '../core/record.ts';
import { escapeHtml } from '../reports/html.ts';
import { escapeMarkdownCell, markdownCode } from '../reports/markdown.ts';
import type { TransportName } from '../core/wire.ts';
import { serversFor, type SearchResult, type Slo } from './search.ts';
import { formatBytes, formatUs } from '../core/units.ts';

export interface CapacityOutcome {
  transport: TransportName;
  result: SearchResult;
  /** the step record at the capacity (null when no step passed) */
  atCapacity: ResultRecord | null;
  /** processes of the step at the capacity */
  serverProcs: number;
  generatorProcs: number;
}

export const PLANNING_CLIENTS = 1_000_000;

const fmt = (n: number) => n.toLocaleString('en-US');

/** Server CPU over the measured window, % of one core; null when the server was not sampled. */
export function serverCpuPct(r: ResultRecord): number | null {
  const windowUs = (r.config.durationMs - r.config.warmupMs) * 1000;
  return r.server && windowUs > 0 ? (100 * r.server.cpuUs) / windowUs : null;
}

const HEAD = ['transport', 'capacity', 'p99 at capacity', 'server CPU', 'RSS/connection', 'processes (server+gen)', 'stopped because'] as const;

/** The table's cells, one row per transport, in HEAD's order. */
export function capacityCells(outcomes: readonly CapacityOutcome[]): string[][] {
  return outcomes.map((o) => {
    const r = o.atCapacity;
    const cap = o.result.capacity === null ? 'none' : `${o.result.lowerBound ? '≥ ' : ''}${fmt(o.result.capacity)}`;
    const cpu = r ? serverCpuPct(r) : null;
    const rss = r?.summary.serverRssBytesPerConnection ?? null;
    return [
      o.transport,
      cap,
      r ? formatUs(r.summary.latencyUs.p99) : '—',
      cpu === null ? 'unknown' : `${cpu.toFixed(0)} % of a core`,
      rss === null ? 'unknown' : formatBytes(rss),
      r ? `${o.serverProcs}+${o.generatorProcs}` : '—',
      o.result.stop.message,
    ];
  });
}

/** "ws: ≈ 50 servers like this one for 1,000,000 clients at this SLO (…)"; null without a capacity. */
export function planningLine(o: CapacityOutcome, slo: Slo): string | null {
  const cap = o.result.capacity;
  if (!cap) return null;
  const n = serversFor(PLANNING_CLIENTS, cap);
  const bound = o.result.lowerBound ? `; ${fmt(cap)} is a lower bound (${o.result.stop.kind}), so at most ${fmt(n)}` : '';
  return `${o.transport}: ≈ ${fmt(n)} servers like this one for ${fmt(PLANNING_CLIENTS)} clients at this SLO (${slo.text}), ${fmt(cap)} clients each${bound}`;
}

/** The assumptions the planning lines rest on, from the records' configuration and environment. */
export function planningAssumptions(outcomes: readonly CapacityOutcome[]): string[] {
  const r = outcomes.find((o) => o.atCapacity)?.atCapacity;
  if (!r) return [];
  const c = r.config;
  const e = r.environment;
  const procs = [...new Set(outcomes.filter((o) => o.atCapacity).map((o) => o.serverProcs))].join('/');
  return [
    c.target
      ? `a server like this one: the target at ${c.target}${c.profile ? ` (profile ${c.profile})` : ''} on this ${e.cpuModel}`
      : `a server like this one: the reference server${e.serverCpus ? ` pinned to CPU ${e.serverCpus}` : ''} of this ${e.cpuModel}, ${procs} process(es), Node ${e.node}`,
    `the same workload: ${c.workload}, ${fmt(c.topics)} topic(s), ${c.ratePerS} msg/s per topic, ${c.payloadBytes} B payload, network ${c.network}`,
    'clients spread evenly over the servers, and servers add up linearly: something upstream (a broker) feeds every server every message, and its cost is not counted',
    'no headroom: add what peaks, failover and deploys need (often 30–50 %)',
  ];
}

export function formatCapacityText(outcomes: readonly CapacityOutcome[], slo: Slo): string {
  const rows = capacityCells(outcomes);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === HEAD.length - 1 ? 0 : r[i].length))));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === HEAD.length - 1 ? c : i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [`Capacity at ${slo.text}:`, line(HEAD), widths.map((w, i) => '─'.repeat(i === HEAD.length - 1 ? HEAD[i].length : w)).join('  '), ...rows.map(line)];
  const plans = outcomes.map((o) => planningLine(o, slo)).filter((x): x is string => x !== null);
  if (plans.length) {
    out.push('', ...plans, 'assumptions:', ...planningAssumptions(outcomes).map((a) => `  - ${a}`));
  }
  return out.join('\n');
}

export function formatCapacityMarkdown(outcomes: readonly CapacityOutcome[], slo: Slo): string {
  const lines = [
    `SLO: ${markdownCode(slo.text)}`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|---|${HEAD.slice(1, -1).map(() => '---:').join('|')}|---|`,
    ...capacityCells(outcomes).map((r) => `| ${r.map(escapeMarkdownCell).join(' | ')} |`),
  ];
  const plans = outcomes.map((o) => planningLine(o, slo)).filter((x): x is string => x !== null);
  if (plans.length) lines.push('', ...plans.map((p) => `- **${escapeMarkdownCell(p)}**`), '', 'Assumptions:', '', ...planningAssumptions(outcomes).map((a) => `- ${escapeMarkdownCell(a)}`));
  return lines.join('\n') + '\n';
}

export function formatCapacityHtml(outcomes: readonly CapacityOutcome[], slo: Slo): string {
  const th = HEAD.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = capacityCells(outcomes)
    .map((r) => `<tr>${r.map((c, i) => `<td${i > 0 && i < HEAD.length - 1 ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('');
  const parts = [`<p>SLO: <code>${escapeHtml(slo.text)}</code></p>`, `<table class="capacity"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`];
  const plans = outcomes.map((o) => planningLine(o, slo)).filter((x): x is string => x !== null);
  if (plans.length) {
    parts.push(`<ul>${plans.map((p) => `<li><strong>${escapeHtml(p)}</strong></li>`).join('')}</ul>`);
    parts.push(`<p>Assumptions:</p><ul>${planningAssumptions(outcomes).map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ul>`);
  }
  return parts.join('\n');
}
