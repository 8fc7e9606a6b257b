/**
 * `pushbench compare` in process, on synthetic result files: exit codes 0/1/2, the outputs it
 * writes (Markdown, JUnit, $GITHUB_STEP_SUMMARY, report), rank folders with ranking.json, and a
 * sentence for each bad input, all listed at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareCommand } from '../../cli/compare-command.ts';
import type { ResultRecord } from '../../core/record.ts';
import { repeats } from './helpers.ts';
import { findAll, parseXml } from './xml.ts';
import { captureIo } from '../fixtures/io.ts';

/** A folder like `rank` writes: the runs' JSON plus ranking.json and a non-JSON file. */
function rankFolder(root: string, name: string, records: ResultRecord[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const r of records) writeFileSync(join(dir, `${r.name}.json`), JSON.stringify(r));
  writeFileSync(join(dir, 'ranking.json'), JSON.stringify({ name, rankings: [] }));
  writeFileSync(join(dir, 'summary.md'), '# not json\n');
  return dir;
}

const ws = { transport: 'ws' as const };
const savedSummary = process.env.GITHUB_STEP_SUMMARY;
afterEach(() => {
  if (savedSummary === undefined) delete process.env.GITHUB_STEP_SUMMARY;
  else process.env.GITHUB_STEP_SUMMARY = savedSummary;
});

describe('pushbench compare (in process)', () => {
  it('exit 0 for repeats within noise; rank folders work and ranking.json is skipped', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushbench-compare-'));
    const b = rankFolder(root, 'base', repeats(ws, 'p50Us', [1000, 1020, 990], 'b'));
    const c = rankFolder(root, 'cur', repeats(ws, 'p50Us', [1010, 985, 1005], 'c'));
    const { io, out, err } = captureIo();
    expect(await compareCommand([b, c], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out).toContain(`skipped ${join(b, 'ranking.json')} (not a result file)`);
    expect(out.join('\n')).toContain('result: no regression');
  });

  it('exit 1 for a regression; writes Markdown, JUnit, the step summary and the report', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushbench-compare-'));
    const b = rankFolder(root, 'base', repeats(ws, 'p50Us', [1000, 1020, 990], 'b'));
    const c = rankFolder(root, 'cur', repeats(ws, 'p50Us', [1250, 1270, 1240], 'c'));
    const summary = join(root, 'step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    process.env.GITHUB_STEP_SUMMARY = summary;
    const md = join(root, 'out', 'compare.md');
    const xml = join(root, 'out', 'compare.xml');
    const report = join(root, 'report');
    const { io, out } = captureIo();
    expect(await compareCommand([b, c, '--markdown', md, '--junit', xml, '--report', report], io)).toBe(1);
    expect(out.join('\n')).toMatch(/REGRESSION: p50 \+24\.9 %/);
    const markdown = readFileSync(md, 'utf8');
    expect(markdown).toMatch(/^\*\*pushbench compare: 1 regression\*\*/);
    expect(readFileSync(summary, 'utf8')).toBe(`# earlier step\n\n${markdown}\n`);
    expect(findAll(parseXml(readFileSync(xml, 'utf8')), 'failure')).toHaveLength(1);
    const html = readFileSync(join(report, 'report.html'), 'utf8');
    expect(html).toContain('Comparison — baseline vs current');
    expect(html).toContain('baseline: ws-b-r1');
    expect(existsSync(join(report, 'summary.md'))).toBe(true);
  }, 30_000);

  it('--max-regression changes the verdict: p50=30% lets +25 % pass', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushbench-compare-'));
    const b = rankFolder(root, 'base', repeats(ws, 'p50Us', [1000, 1020, 990], 'b'));
    const c = rankFolder(root, 'cur', repeats(ws, 'p50Us', [1250, 1270, 1240], 'c'));
    expect(await compareCommand([b, c, '--max-regression', 'p50=30%'], captureIo().io)).toBe(0);
  });

  it('exit 2 with a sentence for each bad input, all listed: missing, truncated, not a result, schema too new, and a configuration difference among the files that read', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushbench-compare-'));
    const [good] = repeats(ws, 'p50Us', [1000], 'c');
    const dir = rankFolder(root, 'cur', [good]);
    writeFileSync(join(dir, 'truncated.json'), JSON.stringify(good).slice(0, 500));
    writeFileSync(join(dir, 'newer.json'), JSON.stringify({ ...good, schemaVersion: 99 }));
    const notResult = join(root, 'notes.json');
    writeFileSync(notResult, '{"hello": 1}');
    const junit = join(root, 'bad.xml');
    const { io, err } = captureIo();
    expect(await compareCommand([join(root, 'missing.json'), dir, '--junit', junit], io)).toBe(2);
    const text = err.join('\n');
    expect(text).toMatch(/^pushbench compare: cannot compare:/);
    expect(text).toContain(`BASELINE ${join(root, 'missing.json')}: no such file or folder`);
    expect(text).toMatch(/CURRENT .*truncated\.json: not valid JSON .*the file may be truncated/);
    expect(text).toMatch(/CURRENT .*newer\.json: not a pushbench result file: schema version 99 is newer than this pushbench reads/);
    expect(findAll(parseXml(readFileSync(junit, 'utf8')), 'error')).toHaveLength(1);

    const third = captureIo();
    const mismatched = rankFolder(root, 'mismatched', [{ ...good, name: 'm1', config: { ...good.config, clients: 7 } }]);
    expect(await compareCommand([mismatched, dir], third.io)).toBe(2);
    expect(third.err.join('\n')).toMatch(/truncated\.json: not valid JSON[^]*clients: baseline 7, current 1000/);

    const second = captureIo();
    expect(await compareCommand([notResult, dir], second.io)).toBe(2);
    expect(second.err.join('\n')).toMatch(/BASELINE .*notes\.json: not a pushbench result file: field "schema" is undefined/);
  });

  it('exit 2 for mismatched configurations, naming each difference; --force compares with warnings', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushbench-compare-'));
    const b = rankFolder(root, 'base', repeats(ws, 'p50Us', [1000, 1020], 'b'));
    const cur = repeats(ws, 'p50Us', [1000, 1020], 'c').map((r) => ({ ...r, config: { ...r.config, clients: 200, durationMs: 6000 } }));
    const c = rankFolder(root, 'cur', cur);
    const { io, err } = captureIo();
    expect(await compareCommand([b, c], io)).toBe(2);
    expect(err.filter((l) => l.includes('the configurations differ'))).toHaveLength(1);
    const lines = err.join('\n').split('\n').filter((l) => l.startsWith('  - '));
    expect(lines).toEqual([
      '  - ws broadcast on loopback: the configurations differ (clients: baseline 1000, current 200); compare like with like, or pass --force',
      '  - ws broadcast on loopback: the configurations differ (duration: baseline 12000 ms, current 6000 ms); compare like with like, or pass --force',
    ]);
    const forced = captureIo();
    expect(await compareCommand([b, c, '--force'], forced.io)).toBe(0);
    expect(forced.out.join('\n')).toContain('compared anyway (--force)');
  });

  it('the committed baseline reads, and compared with itself matches every transport with no change', async () => {
    const baseline = new URL('../../baselines/reference', import.meta.url).pathname;
    const { io, out, err } = captureIo();
    expect(await compareCommand([baseline, baseline], io)).toBe(0);
    expect(err).toEqual([]);
    const text = out.join('\n');
    for (const t of ['ws', 'sse', 'long-poll', 'short-poll']) expect(text).toContain(`${t} broadcast on loopback (3 baseline, 3 current runs):`);
    expect(text).not.toMatch(/REGRESSION|improvement|unclear/);
  });

  it('exit 2 for bad arguments, every one listed', async () => {
    const { io, err } = captureIo();
    expect(await compareCommand(['only-one', '--max-regression', 'p98=1%', '--bogus'], io)).toBe(2);
    const text = err.join('\n');
    expect(text).toContain('unknown option --bogus');
    expect(text).toContain('unknown metric "p98"');
    expect(text).toContain('give two inputs, BASELINE and CURRENT (got 1)');
  });
});
