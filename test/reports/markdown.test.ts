import { describe, expect, it } from 'vitest';
import { escapeMarkdownCell, markdownCode, summaryMarkdown } from '../../reports/markdown.ts';
import { reportRuns } from '../../reports/runs.ts';
import { SUMMARY_COLUMNS } from '../../reports/table.ts';
import { formatBytes, formatUs } from '../../core/units.ts';
import { buildRecord, buildRecords } from '../fixtures/records.ts';

/** The table rows of a GFM document as cells (unescaping `\|`). */
function tableRows(md: string): string[][] {
  return md.split('\n').filter((l) => l.startsWith('| ')).map((l) =>
    l.slice(2, -2).split(/(?<!\\) \| /).map((c) => c.replace(/\\(.)/g, '$1')));
}

describe('summary.md', () => {
  const records = [
    ...buildRecords({ samples: 1000 }),
    buildRecord({ transport: 'sse', clients: 300, name: 'a|b *c*', serverKnown: false, complete: false, samples: 1000 }),
  ];
  const runs = reportRuns(records);
  const md = summaryMarkdown(runs, 'Nightly');

  it('has one row per run whose cells match the records\' figures', () => {
    const [header, ...rows] = tableRows(md);
    expect(header).toEqual(SUMMARY_COLUMNS.map((c) => c.header));
    expect(rows).toHaveLength(runs.length);
    const col = (name: string) => header.indexOf(name);
    for (const run of runs) {
      const row = rows.find((r) => r[col('run')] === run.label)!;
      const s = run.record.summary;
      expect(row[col('transport')]).toBe(run.record.config.transport);
      expect(row[col('p50')]).toBe(formatUs(s.latencyUs.p50));
      expect(row[col('p99')]).toBe(formatUs(s.latencyUs.p99));
      expect(row[col('p99.9')]).toBe(formatUs(s.latencyUs.p999));
      expect(row[col('max')]).toBe(formatUs(s.latencyUs.max));
      expect(Number(row[col('deliveries/s')].replace(/,/g, ''))).toBe(Math.round(s.deliveriesPerS));
      expect(Number(row[col('lost')].replace(/,/g, ''))).toBe(s.lost);
      expect(row[col('bytes/msg (payload + overhead)')]).toBe(`${formatBytes(s.payloadBytesPerMessage)} + ${s.overheadBytesPerMessage === null ? 'unknown' : formatBytes(s.overheadBytesPerMessage)}`);
      if (s.serverCpuUsPerMessage === null) expect(row[col('CPU µs/msg')]).toBe('unknown');
      else expect(Number(row[col('CPU µs/msg')])).toBeCloseTo(s.serverCpuUsPerMessage, 2);
    }
  });

  it('flags an incomplete run in words above the table and shows unknowns as "unknown"', () => {
    const flagged = md.indexOf('**1 of 5 runs are flagged**');
    expect(flagged).toBeGreaterThan(0);
    expect(flagged).toBeLessThan(md.indexOf('| transport'));
    expect(md).toContain('- a\\|b \\*c\\*: incomplete');
    const row = tableRows(md).find((r) => r[1] === 'a|b *c*')!;
    expect(row[SUMMARY_COLUMNS.findIndex((c) => c.header === 'RSS/conn')]).toBe('unknown');
    expect(row.at(-1)).toBe('incomplete');
  });

  it('escapes HTML, pipes and line breaks in cells', () => {
    expect(escapeMarkdownCell('</script><script>alert(1)</script>')).toBe('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(escapeMarkdownCell('a|b\nc')).toBe('a\\|b c');
  });
});

describe('markdownCode', () => {
  it('keeps the text literal (no entities inside a code span), fenced past its own backticks', () => {
    expect(markdownCode('p99<250ms,lost=0')).toBe('`p99<250ms,lost=0`');
    expect(markdownCode('a `b` c')).toBe('``a `b` c``');
    expect(markdownCode('`x')).toBe('`` `x ``');
    expect(markdownCode('two\nlines')).toBe('`two lines`');
  });
});
