/**
 * The comparison's outputs: JUnit XML parses back with one case per transport × metric and the
 * numbers in its failures; the Markdown table carries the same numbers as the result; HTML and
 * XML escape user text.
 */
import { describe, expect, it } from 'vitest';
import { compareRuns, planComparison, COMPARE_METRICS, type ComparisonResult } from '../../gate/compare.ts';
import { escapeXml, formatComparisonHtml, formatComparisonMarkdown, formatComparisonText, formatJunit } from '../../gate/compare-format.ts';
import { formatUs } from '../../core/units.ts';
import { repeats } from './helpers.ts';
import { findAll, parseXml } from './xml.ts';

function result(network = 'loopback'): ComparisonResult {
  const side = (tag: string, p50: number[]) => [
    ...repeats({ transport: 'ws' }, 'p50Us', p50, tag),
    ...repeats({ transport: 'sse' }, 'p50Us', [900, 910, 905], tag),
  ].map((r) => ({ ...r, config: { ...r.config, network } }));
  const plan = planComparison(side('b', [1000, 1020, 990]), side('c', [1250, 1270, 1240]));
  expect(plan.problems).toEqual([]);
  return compareRuns(plan);
}

describe('formatJunit', () => {
  it('parses back: one suite per group, one case per metric, the regression a failure with its numbers', () => {
    const r = result();
    const root = parseXml(formatJunit(r));
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: String(2 * COMPARE_METRICS.length), failures: '1', errors: '0' });
    const suites = findAll(root, 'testsuite');
    expect(suites.map((s) => s.attrs.name)).toEqual(['ws broadcast on loopback', 'sse broadcast on loopback']);
    const cases = findAll(root, 'testcase');
    expect(cases).toHaveLength(2 * COMPARE_METRICS.length);
    expect(cases.filter((c) => c.attrs.classname === 'pushbench.ws.broadcast.loopback').map((c) => c.attrs.name.split(':')[0]))
      .toEqual(COMPARE_METRICS.map((m) => m.key));
    const failures = findAll(root, 'failure');
    expect(failures).toHaveLength(1);
    const p50 = r.groups[0].metrics.find((m) => m.metric.key === 'p50')!;
    expect(failures[0].attrs.message).toBe(p50.explanation);
    expect(failures[0].text).toContain(`baseline: ${formatUs(p50.baseline.mean!)}`);
    expect(failures[0].text).toContain(`current: ${formatUs(p50.current.mean!)}`);
    expect(failures[0].text).toContain('runs: 1.00ms, 1.02ms, 990µs');
    expect(failures[0].text).toContain('threshold: 10 %');
  });

  it('escapes user text (a custom network name) so the XML stays well-formed', () => {
    const root = parseXml(formatJunit(result('delay=5ms,"a"<b>&\'c\'\u0001')));
    expect(findAll(root, 'testsuite')[0].attrs.name).toBe('ws broadcast on delay=5ms,"a"<b>&\'c\'');
    expect(escapeXml('a\u0000b\u001fc<')).toBe('abc&lt;');
  });

  it('the XML reader used here rejects what is not well-formed', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/mismatched/);
    expect(() => parseXml('<a>x & y</a>')).toThrow(/raw < or &/);
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/duplicate/);
    expect(() => parseXml('<a>')).toThrow(/unclosed/);
  });

  it('bad input becomes one error case listing every problem', () => {
    const root = parseXml(formatJunit(null, ['BASELINE a.json: no such file or folder', 'CURRENT b.json: not valid JSON']));
    expect(root.attrs).toMatchObject({ tests: '1', errors: '1', failures: '0' });
    expect(findAll(root, 'error')[0].text).toBe('BASELINE a.json: no such file or folder\nCURRENT b.json: not valid JSON');
  });
});

describe('formatComparisonMarkdown', () => {
  it('has one row per transport × metric whose cells match the result', () => {
    const r = result();
    const md = formatComparisonMarkdown(r);
    expect(md.split('\n')[0]).toBe('**pushbench compare: 1 regression**');
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| runs'));
    expect(rows).toHaveLength(2 * COMPARE_METRICS.length);
    const cells = rows[0].split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, ''));
    const p50 = r.groups[0].metrics[0];
    expect(cells[0]).toBe('ws broadcast on loopback');
    expect(cells[1]).toBe('delivery latency p50');
    expect(cells[2]).toBe('Welch t on log values, 3\\|3 runs');
    expect(cells[3]).toBe(`${formatUs(p50.baseline.mean!)} \\[${formatUs(p50.baseline.lo!)}, ${formatUs(p50.baseline.hi!)}\\] n=3`);
    expect(cells[4]).toMatch(new RegExp(`^${formatUs(p50.current.mean!)} `));
    expect(cells[5]).toMatch(/^\+24\.9 % \\\[\+2\d/);
    expect(cells[6]).toBe('10 %');
    expect(cells[7]).toMatch(/^≥ \+\d+(\.\d+)? %$/);
    expect(cells[8]).toBe(p50.p! < 0.001 ? '&lt; 0.001' : p50.p!.toFixed(3));
    expect(cells[9]).toBe('**REGRESSION**');
  });
});

describe('text and HTML', () => {
  it('the console block names the regression with its explanation and ends with the result', () => {
    const r = result();
    const text = formatComparisonText(r);
    expect(text).toContain('ws broadcast on loopback (3 baseline, 3 current runs):');
    expect(text).toContain(`REGRESSION: ${r.groups[0].metrics[0].explanation}`);
    expect(text.trimEnd().split('\n').at(-1)).toBe('result: 1 regression');
  });
  it('the result line counts unclear changes apart from regressions', () => {
    const plan = planComparison(repeats({ transport: 'ws' }, 'p99Us', [10_000, 14_000, 8000], 'b'), repeats({ transport: 'ws' }, 'p99Us', [10_000, 18_000, 12_000], 'c'));
    const text = formatComparisonText(compareRuns(plan));
    expect(text.trimEnd().split('\n').at(-1)).toBe('result: no regression, 1 unclear (beyond the threshold, not significant)');
    expect(text).toMatch(/\n {2}unclear: p99 \+2\d(\.\d)? % \[.*\] is beyond the 10 % threshold, not significantly \(Welch t on log values, 3\|3 runs, p = 0\.\d+ ≥ 0\.025\); this spread catches a change of ≥ \+\d/);
  });

  it('the HTML fragment escapes user text', () => {
    const html = formatComparisonHtml(result('<script>x</script>'));
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('<table class="comparison">');
  });
});
