/**
 * The comparison as people and CI systems read it: a plain-text block for the console, a Markdown
 * table (for `--markdown` and $GITHUB_STEP_SUMMARY), an HTML table (the report's comparison
 * section) and JUnit XML (one test case per transport × metric; a regression is a failure that
 * carries the numbers). Each says which machine the baseline was made on and what that leaves
 * ungated. Pure.
 */
import { escapeHtml } from '../reports/html.ts';
import { escapeMarkdownCell } from '../reports/markdown.ts';
import { COMPARE_METRICS, formatThreshold, type ComparisonResult, type MetricComparison, type SideEstimate } from './compare.ts';
import { changeCell, detectableCell, testCell } from './explain.ts';

/** `21.7ms [21.2ms, 22.2ms] n=3`, `21.7ms n=1`, `unknown`. */
export function sideCell(e: SideEstimate, format: (v: number) => string): string {
  if (e.mean === null) return 'unknown';
  if (e.lo === null || e.hi === null) return `${format(e.mean)} n=${e.n}`;
  return `${format(e.mean)} [${format(Math.max(0, e.lo))}, ${format(e.hi)}] n=${e.n}`;
}

const STATUS_WORD: Record<MetricComparison['status'], string> = {
  regression: 'REGRESSION', improvement: 'improvement', unclear: 'unclear', ok: 'ok', info: 'not gated', unknown: 'unknown',
  ungated: 'not gated: other machine',
};

/** `0.0123`, `< 0.001`, `—` (not gated or no test). */
export function pCell(p: number | null): string {
  return p === null ? '—' : p < 0.001 ? '< 0.001' : p.toFixed(3);
}

/** The word for a verdict; `unclear` for want of runs says so. */
function verdictCell(m: MetricComparison): string {
  return m.status === 'unclear' && m.needsRuns !== undefined ? `unclear — needs ≥ ${m.needsRuns} ${m.paired ? 'pairs' : 'runs a side'}` : STATUS_WORD[m.status];
}

/** The cells of one row: metric, test and runs, baseline, current, change [CI], threshold, detectable, p, verdict. */
export function comparisonCells(m: MetricComparison): string[] {
  return [
    m.metric.label,
    testCell(m),
    sideCell(m.baseline, m.metric.format),
    sideCell(m.current, m.metric.format),
    changeCell(m),
    formatThreshold(m.metric.kind, m.threshold),
    detectableCell(m),
    pCell(m.p),
    verdictCell(m),
  ];
}

const HEAD = ['metric', 'test, runs', 'baseline', 'current', 'change', 'threshold', 'detectable', 'p', 'verdict'];
/** Index of the verdict cell in a row. */
const VERDICT = HEAD.length - 1;

function headline(r: ComparisonResult): string {
  const level = `${Math.round(r.level * 100)} %`;
  return `change = current vs baseline (geometric mean of the runs for ratios, mean for rates; [${level} interval]); lower is better for every metric. `
    + `p = one-sided p of a change worse than the threshold, adjusted (Benjamini–Hochberg) over ${r.familyBy === 'metric' ? `each metric's figures (up to ${r.family})` : `the ${r.family} gated figures compared`}; `
    + `a regression is p < ${r.alpha}, which puts the whole ${level} interval beyond the threshold. `
    + 'detectable = the smallest regression this spread would have caught on that figure alone.';
}

/** One line: `2 regressions, 1 improvement, 1 unclear (…)` or `no regression`. */
export function verdictLine(r: ComparisonResult): string {
  const n = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  const parts = [r.regressions > 0 ? n(r.regressions, 'regression') : 'no regression'];
  if (r.improvements > 0) parts.push(n(r.improvements, 'improvement'));
  if (r.unclear > 0) parts.push(`${r.unclear} unclear (beyond the threshold, not significant)`);
  if (r.ungatedRegressions > 0) parts.push(`${r.ungatedRegressions} beyond the threshold on a machine-dependent metric, not gated (baseline from another machine)`);
  return parts.join(', ');
}

const keys = (dependent: boolean) => COMPARE_METRICS.filter((m) => m.machineDependent === dependent).map((m) => m.key).join(', ');

/**
 * Which machine each side was made on, and what that means for the gate: against a baseline from
 * another machine only the machine-independent metrics are gated.
 */
export function machineLines(r: ComparisonResult): string[] {
  const m = r.machines;
  return [
    `machines: baseline made on ${m.baseline.join(' / ') || 'unknown'}; current on ${m.current.join(' / ') || 'unknown'}`,
    m.same
      ? 'gate: same machine (CPU model, cores, Node): every metric with a threshold is gated'
      : `gate: the baseline was made on another machine, so the machine-dependent metrics (${keys(true)}) are compared but not gated; ${keys(false)} are gated on any machine (regenerate the baseline on this machine to gate them all)`,
  ];
}

/** The console block: warnings, then one aligned table per matched group, then the verdict. */
export function formatComparisonText(r: ComparisonResult): string {
  const out = [headline(r), ...machineLines(r)];
  for (const w of r.warnings) out.push(`warning: ${w}`);
  for (const g of r.groups) {
    out.push('', `${g.group.label} (${g.group.baseline.length} baseline, ${g.group.current.length} current runs):`);
    const rows = [HEAD, ...g.metrics.map(comparisonCells)];
    const widths = HEAD.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) out.push(`  ${row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}`);
    for (const m of g.metrics.filter((x) => x.status === 'regression' || x.status === 'unclear' || x.sameMachineStatus === 'regression')) out.push(`  ${STATUS_WORD[m.status]}: ${m.explanation}`);
  }
  out.push('', `result: ${verdictLine(r)}`);
  return out.join('\n');
}

/** The Markdown block: one table, one row per transport × metric. */
export function formatComparisonMarkdown(r: ComparisonResult): string {
  const lines = [`**pushbench compare: ${verdictLine(r)}**`, '', escapeMarkdownCell(headline(r)), '', ...machineLines(r).map((l) => `- ${escapeMarkdownCell(l)}`), ''];
  if (r.warnings.length > 0) {
    for (const w of r.warnings) lines.push(`- warning: ${escapeMarkdownCell(w)}`);
    lines.push('');
  }
  lines.push(`| runs | ${HEAD.join(' | ')} |`, `|---|---|---|---:|---:|---:|---:|---:|---:|---|`);
  for (const g of r.groups) {
    for (const m of g.metrics) {
      const cells = comparisonCells(m).map(escapeMarkdownCell);
      if (m.status === 'regression') cells[VERDICT] = `**${cells[VERDICT]}**`;
      lines.push(`| ${escapeMarkdownCell(g.group.label)} | ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The same table as HTML (a fragment: paragraphs, a warning list and one `<table class="comparison">`). */
export function formatComparisonHtml(r: ComparisonResult): string {
  const parts = [`<p><strong>${escapeHtml(verdictLine(r))}</strong></p>`, `<p>${escapeHtml(headline(r))}</p>`, ...machineLines(r).map((l) => `<p>${escapeHtml(l)}</p>`)];
  if (r.warnings.length > 0) parts.push(`<ul>${r.warnings.map((w) => `<li>warning: ${escapeHtml(w)}</li>`).join('')}</ul>`);
  parts.push(`<table class="comparison"><thead><tr>${['runs', ...HEAD].map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>`);
  for (const g of r.groups) {
    for (const m of g.metrics) {
      const cells = comparisonCells(m).map((c, i) => `<td${i > 1 && i < VERDICT ? ' class="num"' : ''}>${i === VERDICT && m.status === 'regression' ? `<strong>${escapeHtml(c)}</strong>` : escapeHtml(c)}</td>`);
      parts.push(`<tr><td>${escapeHtml(g.group.label)}</td>${cells.join('')}</tr>`);
    }
  }
  parts.push('</tbody></table>');
  return parts.join('\n');
}

/** Text safe inside an XML 1.0 attribute or element: escaped, control characters dropped. */
export function escapeXml(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** The numbers of one case, for the failure body and system-out. */
function caseDetail(m: MetricComparison): string {
  const [, test, baseline, current, change, threshold, detectable, p, verdict] = comparisonCells(m);
  return [
    `verdict: ${verdict}`,
    `test: ${test}`,
    `baseline: ${baseline} (runs: ${m.baseline.values.map(m.metric.format).join(', ') || 'none'})`,
    `current: ${current} (runs: ${m.current.values.map(m.metric.format).join(', ') || 'none'})`,
    `change: ${change}; threshold: ${threshold}; detectable: ${detectable}; p (worse than the threshold, adjusted): ${p}`,
    m.explanation,
  ].join('\n');
}

/** The case's verdict, test, runs a side, detectable change and p, as JUnit properties (read by CI report viewers). */
function caseProperties(m: MetricComparison): string[] {
  const [, test, , , , , detectable, p, verdict] = comparisonCells(m);
  const props: [string, string][] = [['verdict', verdict], ['test', test], ['n.baseline', String(m.n.baseline)], ['n.current', String(m.n.current)], ['detectable', detectable], ['p', p]];
  return ['      <properties>', ...props.map(([k, v]) => `        <property name="${k}" value="${escapeXml(v)}"/>`), '      </properties>'];
}

/**
 * JUnit XML: one `<testsuite>` per matched group, one `<testcase>` per metric (classname
 * `pushbench.<transport>.<workload>.<network>`, name = the metric's short name and label). A
 * regression is a `<failure>` with the numbers; an unknown metric is `<skipped>`; every case carries
 * its numbers in `<system-out>`. `problems` (bad input) become one `<error>` case instead.
 */
export function formatJunit(r: ComparisonResult | null, problems: readonly string[] = []): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  if (r === null || problems.length > 0) {
    const text = problems.join('\n');
    lines.push(
      `<testsuites name="pushbench compare" tests="1" failures="0" errors="1" skipped="0">`,
      `  <testsuite name="inputs" tests="1" failures="0" errors="1" skipped="0">`,
      `    <testcase classname="pushbench.compare" name="inputs"><error message="${escapeXml(`cannot compare: ${problems.length} problem(s)`)}" type="bad-input">${escapeXml(text)}</error></testcase>`,
      '  </testsuite>', '</testsuites>',
    );
    return lines.join('\n') + '\n';
  }
  const all = r.groups.flatMap((g) => g.metrics);
  const skipped = (ms: readonly MetricComparison[]) => ms.filter((m) => m.status === 'unknown' || m.status === 'ungated').length;
  const properties = machineLines(r).map((l) => {
    const i = l.indexOf(': ');
    return `      <property name="${escapeXml(l.slice(0, i))}" value="${escapeXml(l.slice(i + 2))}"/>`;
  });
  lines.push(`<testsuites name="pushbench compare" tests="${all.length}" failures="${r.regressions}" errors="0" skipped="${skipped(all)}">`);
  for (const g of r.groups) {
    const { transport, workload, network } = g.group;
    const failures = g.metrics.filter((m) => m.status === 'regression').length;
    lines.push(`  <testsuite name="${escapeXml(g.group.label)}" tests="${g.metrics.length}" failures="${failures}" errors="0" skipped="${skipped(g.metrics)}">`, '    <properties>', ...properties, '    </properties>');
    const classname = escapeXml(['pushbench', transport, workload, network].join('.'));
    for (const m of g.metrics) {
      const detail = escapeXml(caseDetail(m));
      lines.push(`    <testcase classname="${classname}" name="${escapeXml(`${m.metric.key}: ${m.metric.label}`)}">`, ...caseProperties(m));
      if (m.status === 'regression') lines.push(`      <failure message="${escapeXml(m.explanation)}" type="regression">${detail}</failure>`);
      if (m.status === 'unknown' || m.status === 'ungated') lines.push(`      <skipped message="${escapeXml(m.explanation)}"/>`);
      lines.push(`      <system-out>${detail}</system-out>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}
