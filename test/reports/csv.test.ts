import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvField, resultsCsv } from '../../reports/csv.ts';
import { reportRuns } from '../../reports/runs.ts';
import { buildRecord, buildRecords } from '../fixtures/records.ts';

/** A strict RFC 4180 parser: CRLF records, quoted fields with doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === '') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(field); field = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    if (ch === '\n' || ch === '\r' || ch === '"') throw new Error(`bare ${JSON.stringify(ch)} at ${i}`);
    field += ch; i++;
  }
  if (field !== '' || row.length > 0) throw new Error('the last record does not end with CRLF');
  return rows;
}

describe('results.csv', () => {
  it('parses back: a header, one row per run, the same figures', () => {
    const records = [
      ...buildRecords({ samples: 500 }),
      buildRecord({ transport: 'sse', name: 'quote " comma, and\nnewline', serverKnown: false, invalidReasons: ['a, b', 'c'], samples: 500 }),
    ];
    const runs = reportRuns(records);
    const rows = parseCsv(resultsCsv(runs));
    expect(rows[0]).toEqual(CSV_COLUMNS.map(([h]) => h));
    expect(rows).toHaveLength(runs.length + 1);
    const col = (h: string) => rows[0].indexOf(h);
    for (const [i, run] of runs.entries()) {
      const row = rows[i + 1];
      expect(row).toHaveLength(CSV_COLUMNS.length);
      expect(row[col('name')]).toBe(run.label);
      expect(Number(row[col('latency_p99_us')])).toBe(run.record.summary.latencyUs.p99);
      expect(Number(row[col('deliveries_per_s')])).toBe(run.record.summary.deliveriesPerS);
      expect(row[col('valid')]).toBe(String(run.record.valid));
    }
    const odd = rows.find((r) => r[col('transport')] === 'sse' && r[col('name')].startsWith('quote'))!;
    expect(odd[col('name')]).toBe('quote " comma, and\nnewline');
    expect(odd[col('invalid_reasons')]).toBe('a, b; c');
    expect(odd[col('server_cpu_us_per_message')]).toBe(''); // unknown: empty, never 0
  });

  it('quotes per RFC 4180 and defuses spreadsheet formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a"b')).toBe('"a""b"');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField(-3)).toBe('-3');
    expect(csvField(null)).toBe('');
  });
});
