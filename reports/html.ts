/**
 * report.html: one self-contained page — flagged runs first in words, the environment, extra
 * sections (rank, compare, capacity), the summary table, then the charts in a responsive grid,
 * rendered in the browser by the inlined vega bundles from the embedded specs. No network: a
 * Content-Security-Policy allows only the page's own scripts (by hash) and nothing to fetch.
 *
 * Every user string goes through {@link escapeHtml}; JSON inside `<script>` goes through
 * {@link jsonForScript}, so a run named `</script><script>alert(1)</script>` stays text.
 */
import { createHash } from 'node:crypto';
import type { TopLevelSpec } from 'vega-lite';
import type { ChartDef } from './charts.ts';
import { colourOf } from '../load/drivers/index.ts';
import type { Bundle } from './bundles.ts';
import type { ResultRecord } from '../core/record.ts';
import { isFlagged, runStatus, slugify, type ReportRun } from './runs.ts';
import { SUMMARY_COLUMNS, summaryRows } from './table.ts';
import { formatBytes } from '../core/units.ts';
import type { TransportName } from '../core/wire.ts';

/** Escape text for HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON safe inside a `<script>` element: no `<`, `>`, `&` or JS line separators survive literally. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** An extra block of the page (already-safe HTML), e.g. from rank or compare. */
export interface HtmlSection {
  id: string;
  title: string;
  html: string;
}

export interface ReportPage {
  title: string;
  /** ISO time the report was made */
  generatedAt: string;
  runs: readonly ReportRun[];
  charts: readonly ChartDef[];
  sections: readonly HtmlSection[];
  bundles: readonly Bundle[];
}

/** Renders every chart, marks each container `data-rendered`, and the body `data-charts="done"`. */
const RENDER_SCRIPT = `(function () {
  var charts = JSON.parse(document.getElementById('pushbench-charts').textContent);
  var jobs = charts.map(function (c) {
    var el = document.getElementById('chart-' + c.id);
    return vegaEmbed(el, c.spec, { renderer: 'svg', actions: false })
      .then(function () { el.setAttribute('data-rendered', 'true'); })
      .catch(function (err) {
        el.setAttribute('data-rendered', 'error');
        el.textContent = 'This chart could not be drawn: ' + err.message;
        console.error(err);
      });
  });
  Promise.all(jobs).then(function () { document.body.setAttribute('data-charts', 'done'); });
})();`;

const STYLE = `
:root { --fg:#1f2328; --muted:#57606a; --line:#d0d7de; --soft:#f6f8fa; --bad:#cf222e; --bad-bg:#ffebe9; --warn-bg:#fff8c5; }
* { box-sizing: border-box; }
body { margin:0; background:var(--soft); color:var(--fg); font:15px/1.5 Inter,"Segoe UI",system-ui,-apple-system,Helvetica,Arial,sans-serif; }
main { max-width:1360px; margin:0 auto; padding:28px 24px 48px; }
header h1 { font-size:26px; margin:0 0 4px; letter-spacing:-0.01em; }
.meta { color:var(--muted); margin:0 0 20px; font-size:13px; }
section { margin:0 0 22px; }
h2 { font-size:17px; margin:0 0 10px; }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 18px; }
.flags { background:var(--bad-bg); border:1px solid #ffcecb; border-radius:10px; padding:14px 18px; }
.flags h2 { color:var(--bad); }
.flags ul { margin:0; padding-left:20px; }
.flags li { margin:2px 0; }
.ok { color:#1a7f37; font-size:13px; margin:0 0 18px; }
dl.env { display:grid; grid-template-columns:repeat(auto-fill,minmax(220px,1fr)); gap:10px 24px; margin:0; }
dl.env div { min-width:0; }
dl.env dt { font-size:12px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
dl.env dd { margin:0; overflow-wrap:anywhere; }
.table-wrap { overflow-x:auto; background:#fff; border:1px solid var(--line); border-radius:10px; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:7px 10px; border-bottom:1px solid #eaeef2; white-space:nowrap; text-align:left; }
th { background:var(--soft); font-weight:600; color:var(--muted); position:sticky; top:0; white-space:normal; vertical-align:bottom; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.wrap { white-space:normal; min-width:120px; max-width:240px; overflow-wrap:anywhere; }
tbody tr:nth-child(even) { background:#fbfcfd; }
tbody tr.flagged { background:var(--warn-bg); }
tbody tr.flagged td.status { color:var(--bad); font-weight:600; }
tbody tr:last-child td { border-bottom:0; }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:6px; vertical-align:baseline; }
.grid { display:grid; grid-template-columns:repeat(auto-fit,minmax(560px,1fr)); gap:18px; }
figure { margin:0; background:#fff; border:1px solid var(--line); border-radius:10px; padding:14px 14px 10px; min-width:0; }
figure.wide { grid-column:1 / -1; }
.chart { overflow-x:auto; min-height:120px; }
.chart svg { max-width:100%; height:auto; }
figcaption { color:var(--muted); font-size:13px; margin-top:6px; }
footer { color:var(--muted); font-size:12px; margin-top:30px; }
@media (max-width: 640px) { .grid { grid-template-columns:1fr; } main { padding:16px 10px; } }
`;

/** Distinct values of one field across the runs, joined (", "); the page shows them all. */
function distinct(runs: readonly ReportRun[], pick: (r: ResultRecord) => string): string {
  return [...new Set(runs.map((r) => pick(r.record)))].join(', ');
}

/** The latency proxy's own figures over the runs that went through it: CPU and lateness ranges. */
function proxySummary(runs: readonly ReportRun[]): string {
  const figures = runs.map((r) => r.record.proxy).filter((p) => p !== undefined);
  const range = (xs: number[], unit: string) => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return lo === hi ? `${lo.toFixed(1)}${unit}` : `${lo.toFixed(1)}–${hi.toFixed(1)}${unit}`;
  };
  const parts = [`${figures.length} runs`];
  const cpu = figures.map((p) => p.cpuPct).filter((x) => x !== null);
  if (cpu.length) parts.push(`CPU ${range(cpu, ' %')}`);
  const late = figures.map((p) => p.latenessMs).filter((x) => x !== null);
  if (late.length) {
    parts.push(`release lateness p50 ${range(late.map((l) => l.p50), ' ms')}, p99 ${range(late.map((l) => l.p99), ' ms')}, max ${range(late.map((l) => l.max), ' ms')}`);
    parts.push(`invalid above p99 ${range(figures.map((p) => p.latenessP99LimitMs), ' ms')} or CPU 90 %`);
  }
  return parts.join('; ');
}

/** Where server and generator ran, and the server's CPU limit (`--server-cpu-limit`) when it had one. */
function pinning(r: ResultRecord): string {
  const e = r.environment;
  const limit = r.config.serverCpuLimit === undefined ? '' : ` (limited to ${r.config.serverCpuLimit} CPU)`;
  if (e.serverCpus === null && e.loadCpus === null) return `not pinned${limit && `, server${limit}`}`;
  return `server CPUs ${e.serverCpus ?? 'any'}${limit}, generator CPUs ${e.loadCpus ?? 'any'}`;
}

/** The environment and configuration panel (all runs; differing values listed together). */
function environmentPanel(runs: readonly ReportRun[]): string {
  const items: [string, string][] = [
    ['Node', distinct(runs, (r) => r.environment.node)],
    ['Platform', distinct(runs, (r) => r.environment.platform)],
    ['CPU', distinct(runs, (r) => r.environment.cpuModel)],
    ['Cores', distinct(runs, (r) => String(r.environment.cores))],
    ['Memory', distinct(runs, (r) => formatBytes(r.environment.totalMemBytes))],
    ['Pinning', distinct(runs, pinning)],
    ['Network profile', distinct(runs, (r) => r.config.network)],
    ...(runs.some((r) => r.record.proxy) ? [['Latency proxy', proxySummary(runs)] as [string, string]] : []),
    ['Host', distinct(runs, (r) => r.environment.hostname)],
    ['pushbench', distinct(runs, (r) => r.environment.pushbenchVersion)],
    ['Workload', distinct(runs, (r) => r.config.workload)],
    ['Clients', distinct(runs, (r) => String(r.config.clients))],
    ['Duration / warm-up', distinct(runs, (r) => `${r.config.durationMs / 1000}s / ${r.config.warmupMs / 1000}s`)],
    ['Publish rate', distinct(runs, (r) => `${r.config.ratePerS}/s per topic`)],
    ['Topics', distinct(runs, (r) => String(r.config.topics))],
    ['Payload', distinct(runs, (r) => formatBytes(r.config.payloadBytes))],
    ['Poll interval', distinct(runs, (r) => `${r.config.pollIntervalMs}ms`)],
    ['Long-poll timeout', distinct(runs, (r) => `${r.config.longPollTimeoutMs}ms`)],
    ['Arrival rate', distinct(runs, (r) => `${r.config.arrivalRatePerS} clients/s`)],
    ['Server delay', distinct(runs, (r) => `${r.config.serverDelayMs}ms`)],
    ['Workers', distinct(runs, (r) => String(r.config.workers))],
    ['Target', distinct(runs, (r) => r.config.target ?? 'reference server')],
  ];
  const dl = items.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('');
  return `<section id="environment"><h2>Environment and configuration</h2><div class="card"><dl class="env">${dl}</dl></div></section>`;
}

/** Every flagged run, in words, at the top of the page. */
function flagsPanel(runs: readonly ReportRun[]): string {
  const flagged = runs.filter((r) => isFlagged(r.record));
  if (flagged.length === 0) return `<p class="ok">All ${runs.length} runs are complete and valid.</p>`;
  const items = flagged.map((r) => `<li><strong>${escapeHtml(r.label)}</strong> (${escapeHtml(r.record.config.transport)}): ${escapeHtml(runStatus(r.record))}</li>`).join('');
  const n = flagged.length;
  return `<section class="flags" id="flags"><h2>${n} of ${runs.length} run${runs.length === 1 ? '' : 's'} ${n === 1 ? 'is' : 'are'} flagged — not comparable</h2><ul>${items}</ul></section>`;
}

function swatch(transport: TransportName): string {
  return `<span class="swatch" style="background:${colourOf(transport)}"></span>`;
}

/** The summary table (same cells as summary.md). */
function summaryTable(runs: readonly ReportRun[]): string {
  const head = SUMMARY_COLUMNS.map((c) => `<th${c.numeric ? ' class="num"' : ''}>${escapeHtml(c.header)}</th>`).join('');
  const rows = summaryRows(runs).map((cells, i) => {
    const run = runs[i];
    const tds = cells.map((text, j) => {
      const c = SUMMARY_COLUMNS[j];
      const cls = c.header === 'validity' ? 'status wrap' : c.header === 'run' ? 'wrap' : c.numeric ? 'num' : '';
      const body = c.header === 'transport' ? swatch(run.record.config.transport) + escapeHtml(text) : escapeHtml(text);
      return `<td${cls ? ` class="${cls}"` : ''}>${body}</td>`;
    }).join('');
    return `<tr${isFlagged(run.record) ? ' class="flagged"' : ''}>${tds}</tr>`;
  }).join('');
  return `<section id="summary"><h2>Summary</h2><div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function chartsGrid(charts: readonly ChartDef[]): string {
  const figures = charts.map((c) =>
    `<figure class="${c.wide ? 'wide' : ''}" aria-label="${escapeHtml(c.title)}"><div class="chart" id="chart-${escapeHtml(c.id)}"></div><figcaption>${escapeHtml(c.caption)}</figcaption></figure>`).join('');
  return `<section id="charts"><h2>Charts</h2><div class="grid">${figures}</div></section>`;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The whole page. Pure (the bundles are passed in). */
export function reportHtml(page: ReportPage): string {
  const scripts = [...page.bundles.map((b) => b.code), RENDER_SCRIPT];
  // vega compiles its expressions with Function ('unsafe-eval'); vega-embed adds a <style> element.
  const csp = `default-src 'none'; script-src ${scripts.map(sha256).join(' ')} 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:; font-src data:`;
  const chartData: { id: string; spec: TopLevelSpec }[] = page.charts.map((c) => ({ id: c.id, spec: c.spec }));
  const sections = page.sections.map((s) => `<section id="section-${escapeHtml(slugify(s.id))}"><h2>${escapeHtml(s.title)}</h2><div class="card">${s.html}</div></section>`).join('\n');
  const versions = distinct(page.runs, (r) => r.environment.pushbenchVersion);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><h1>${escapeHtml(page.title)}</h1>
<p class="meta">${page.runs.length} run${page.runs.length === 1 ? '' : 's'} · generated ${escapeHtml(page.generatedAt)} · pushbench ${escapeHtml(versions)}</p></header>
${flagsPanel(page.runs)}
${environmentPanel(page.runs)}
${sections}
${summaryTable(page.runs)}
${chartsGrid(page.charts)}
<footer>Latencies are delivery latencies (scheduled publish → client receipt), in µs/ms. CPU per message and RSS per connection read "unknown" when the run had no server figures. Charts drawn with vega-lite; the data is embedded in this file.</footer>
</main>
${page.bundles.map((b) => `<script data-bundle="${escapeHtml(b.name)}">${b.code}</script>`).join('\n')}
<script type="application/json" id="pushbench-charts">${jsonForScript(chartData)}</script>
<script>${RENDER_SCRIPT}</script>
</body>
</html>
`;
}
