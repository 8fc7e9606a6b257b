/**
 * report.html in a real headless Chromium: the charts render, nothing from a record runs as script.
 *
 * Heavy: Chromium's processes start and render every chart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../reports/report.ts';
import { CLAIMED_ORDER } from '../../load/drivers/index.ts';
import { buildRecord, buildRecords } from '../fixtures/records.ts';
import { findChromium, launchChromium } from './chromium.ts';
import { GRID_RECORDS, CELLS } from '../fixtures/rank-grid.ts';
import { rankGrid } from '../../reports/rank-grid.ts';
import { rankMap } from '../../reports/rank-map.ts';
import { rankCharts } from '../../reports/rank-charts.ts';

const XSS = '</script><script>alert(1)</script>';

describe('report.html in headless Chromium', () => {
  let dir: string;
  let browser: Browser;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pushbench-browser-'));
    const found = await findChromium();
    browser = await launchChromium(found);
    console.log(`browser: Chromium ${browser.version()} from ${found.source} (${found.path})`);
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders every chart from file:// with no network, no console error and the XSS name as text', async () => {
    const records = [
      ...buildRecords({ clientCounts: [500, 2000], samples: 1000 }),
      buildRecord({ transport: 'ws', clients: 1000, name: XSS, samples: 1000, serverKnown: false, invalidReasons: ['generator saturated (event-loop utilization 0.97)'] }),
    ];
    await writeReport(records, dir, { now: new Date('2025-01-15T12:00:00Z') });
    const url = pathToFileURL(join(dir, 'report.html')).href;

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    const problems: string[] = [];
    const dialogs: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });

    await page.goto(url);
    await page.waitForSelector('body[data-charts="done"]', { timeout: 20_000 });

    const charts = await page.$$eval('.chart', (els) => els.map((el) => ({
      id: el.id,
      rendered: el.getAttribute('data-rendered'),
      marks: el.querySelectorAll('svg g[class*="mark-"] path, svg g[class*="mark-"] line').length,
      text: el.textContent ?? '',
    })));
    expect(charts.map((c) => c.id)).toEqual(['chart-latency-spectrum', 'chart-latency-over-time', 'chart-throughput-over-time', 'chart-server-over-time', 'chart-generator-over-time', 'chart-cost-per-message', 'chart-capacity']);
    for (const c of charts) {
      expect(c.rendered, c.id).toBe('true');
      expect(c.marks, c.id).toBeGreaterThan(records.length);
      for (const t of CLAIMED_ORDER) expect(c.text, `${c.id} legend ${t}`).toContain(t);
    }

    expect(requests).toEqual([url]);
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
    // the hostile name is on the page as text (flag list, table, chart labels), never as markup
    const flags = await page.textContent('#flags');
    expect(flags).toContain(`${XSS} (ws): invalid: generator saturated`);
    expect(await page.$$eval('td', (tds) => tds.map((td) => td.textContent))).toContain(XSS);
    expect(await page.$$eval('script', (s) => s.length)).toBe(5);

    await page.screenshot({ path: resolve('.tmp/report.png'), fullPage: true });
    await page.close();
  });

  it('renders a rank report: the ranking chart first, then the heatmaps, with marks and no console error', async () => {
    const rankDir = join(dir, 'rank');
    const grid = rankGrid(GRID_RECORDS, CELLS);
    await writeReport(GRID_RECORDS, rankDir, { leadCharts: rankCharts(grid, rankMap(grid)), now: new Date('2025-01-15T12:00:00Z') });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(pathToFileURL(join(rankDir, 'report.html')).href);
    await page.waitForSelector('body[data-charts="done"]', { timeout: 20_000 });
    const ids = await page.$$eval('.chart', (els) => els.map((el) => el.id));
    expect(ids.slice(0, 2)).toEqual(['chart-rank-ranking', 'chart-rank-map-latencyP50Us']);
    const marks = (id: string, sel: string) => page.$eval(`#${id}`, (el, s) => ({ rendered: el.getAttribute('data-rendered'), n: el.querySelectorAll(s).length, text: el.textContent ?? '' }), sel);
    // the ranking: a dot per transport, cell and metric (4 × 4 × 7) and a bar per interval
    const ranking = await marks('chart-rank-ranking', 'svg g.mark-symbol.role-mark path');
    expect(ranking.rendered).toBe('true');
    expect(ranking.n).toBe(4 * 4 * 7);
    expect(await page.$$eval('#chart-rank-ranking svg g.mark-rule.role-mark line', (ls) => ls.length)).toBeGreaterThan(0);
    // requests per message: a rectangle per claimed step (3) and cell (4), coloured by verdict
    const heat = await marks('chart-rank-map-requestsPerMessage', 'svg g.mark-rect.role-mark path');
    expect(heat.rendered).toBe('true');
    expect(heat.n).toBe(3 * 4);
    expect(heat.text).toContain('contradicted');
    expect(problems).toEqual([]);
    await page.screenshot({ path: resolve('.tmp/rank-report.png'), fullPage: true });
    await page.close();
  });
});
