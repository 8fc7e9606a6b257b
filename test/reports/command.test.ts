import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReportArgs, reportCommand, type CommandIo } from '../../cli/report-command.ts';
import { writeJsonAtomic } from '../../core/record.ts';
import { buildRecord } from '../fixtures/records.ts';

function capture(): CommandIo & { outText: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), outText: () => out.join('\n'), errText: () => err.join('\n') };
}

describe('pushbench report', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'pushbench-report-cmd-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a corrupt file and a newer-schema file, still reports the good one, exits 2', async () => {
    const inputs = join(dir, 'mixed');
    mkdirSync(inputs);
    const good = buildRecord({ transport: 'sse', name: 'good-run', samples: 300 });
    writeJsonAtomic(join(inputs, 'good.json'), good);
    const text = JSON.stringify(good);
    writeFileSync(join(inputs, 'corrupt.json'), text.slice(0, text.length / 2));
    writeJsonAtomic(join(inputs, 'future.json'), { ...good, schemaVersion: 99 });
    const out = join(dir, 'out-mixed');
    const io = capture();

    const code = await reportCommand([inputs, '-o', out], io);

    expect(code).toBe(2);
    expect(io.errText()).toContain(`${join(inputs, 'corrupt.json')}: not valid JSON`);
    expect(io.errText()).toContain('[PB_SCHEMA]');
    expect(io.errText()).toContain(`${join(inputs, 'future.json')}: not a pushbench result file`);
    expect(io.errText()).toContain('schema version 99 is newer than this pushbench reads');
    expect(io.errText()).not.toContain('good.json');
    expect(io.outText()).toContain('report for 1 run written');
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('| good-run |');
    for (const f of ['report.html', 'results.csv', 'latency-spectrum.svg', 'cost-per-message.svg', 'good-run.hlog']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
  });

  it('exits 0 for good files and 2 with every problem for bad arguments', async () => {
    const a = join(dir, 'a.json');
    writeJsonAtomic(a, buildRecord({ transport: 'ws', samples: 200 }));
    const ok = capture();
    expect(await reportCommand([a, `--out=${join(dir, 'out-ok')}`, '--title', 'Nightly'], ok)).toBe(0);
    expect(readFileSync(join(dir, 'out-ok', 'summary.md'), 'utf8')).toMatch(/^# Nightly\n/);
    expect(ok.errText()).toBe('');

    const bad = capture();
    expect(await reportCommand(['--frobnicate', '-o'], bad)).toBe(2);
    expect(bad.errText()).toContain('unknown option --frobnicate');
    expect(bad.errText()).toContain('-o needs a value');
    expect(bad.errText()).toContain('no result files given');

    const missing = capture();
    expect(await reportCommand([join(dir, 'nope.json'), '-o', join(dir, 'out-none')], missing)).toBe(2);
    expect(missing.errText()).toContain(`${join(dir, 'nope.json')}: no such file or folder`);
    expect(missing.errText()).toContain('no report written');
    expect(existsSync(join(dir, 'out-none'))).toBe(false);
  });

  it('parses -o, --out=, --title and --help', () => {
    expect(parseReportArgs(['x.json', '-o', 'r']).args).toMatchObject({ inputs: ['x.json'], outDir: 'r' });
    expect(parseReportArgs(['--help']).problems).toEqual([]);
    expect(parseReportArgs([]).problems).toEqual(['no result files given']);
  });
});
