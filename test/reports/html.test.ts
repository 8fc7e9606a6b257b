import { describe, expect, it } from 'vitest';
import { buildCharts } from '../../reports/charts.ts';
import { escapeHtml, jsonForScript, reportHtml } from '../../reports/html.ts';
import { reportRuns } from '../../reports/runs.ts';
import { buildRecord } from '../fixtures/records.ts';

const XSS = '</script><script>alert(1)</script>';

describe('report.html', () => {
  const runs = reportRuns([
    buildRecord({ transport: 'ws', samples: 300 }),
    buildRecord({ transport: 'short-poll', name: XSS, samples: 300, complete: false, invalidReasons: ['generator saturated'] }),
  ]);
  const bundles = [{ name: 'vega', code: 'window.vega = {};' }];
  const html = reportHtml({
    title: `Nightly ${XSS}`, generatedAt: '2025-01-15T12:00:00.000Z', runs, charts: buildCharts(runs), bundles,
    sections: [{ id: 'rank', title: 'Ranking', html: '<p id="rank-body">ws first</p>' }],
  });

  it('escapes user text in HTML and in the embedded JSON', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const json = jsonForScript({ name: XSS, sep: '\u2028' });
    expect(json).not.toMatch(/[<>\u2028]/);
    expect(JSON.parse(json)).toEqual({ name: XSS, sep: '\u2028' });
    expect(html.match(/<script/g)).toHaveLength(3); // the bundle, the JSON data, the render script
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('flags the run in words at the top, before the table and charts', () => {
    const flags = html.indexOf('id="flags"');
    expect(flags).toBeGreaterThan(0);
    expect(flags).toBeLessThan(html.indexOf('id="summary"'));
    expect(html).toContain('incomplete, invalid: generator saturated');
  });

  it('shows extra sections above the charts, and the environment', () => {
    expect(html.indexOf('id="rank-body"')).toBeLessThan(html.indexOf('id="charts"'));
    expect(html).toContain('AMD EPYC 7B13');
    expect(html).toContain('server CPUs 0, generator CPUs 1');
    const limited = buildRecord({ transport: 'ws', samples: 100 });
    limited.config.serverCpuLimit = 0.5;
    const page = reportHtml({ title: 'limited', generatedAt: '2025-01-15T12:00:00.000Z', runs: reportRuns([limited]), charts: buildCharts(reportRuns([limited])), bundles, sections: [] });
    expect(page).toContain('server CPUs 0 (limited to 0.5 CPU), generator CPUs 1');
  });

  it('shows the latency proxy\'s CPU and lateness ranges when runs went through it', () => {
    const proxied = reportRuns([0.8, 9.4].map((p99, i) => {
      const r = buildRecord({ transport: 'sse', name: `wan-${i}`, samples: 100 });
      r.config.network = 'wan';
      r.proxy = { cpuPct: 4 + i * 10, releases: 7000, latenessMs: { p50: 0.3, p99, max: 20 }, latenessP99LimitMs: 12.5, maxLatenessWholeRunMs: 40 };
      return r;
    }));
    const page = reportHtml({ title: 'wan', generatedAt: '2025-01-15T12:00:00.000Z', runs: proxied, charts: buildCharts(proxied), bundles, sections: [] });
    expect(page).toContain('2 runs; CPU 4.0–14.0 %; release lateness p50 0.3 ms, p99 0.8–9.4 ms, max 20.0 ms; invalid above p99 12.5 ms or CPU 90 %');
    expect(html).not.toContain('Latency proxy');
  });

  it('allows only its own scripts (CSP by hash) and nothing from the network', () => {
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1].replace(/&#39;/g, "'");
    expect(csp).toContain("default-src 'none'");
    expect(csp.match(/'sha256-/g)).toHaveLength(2);
    expect(html).not.toMatch(/(src|href)="https?:/);
  });
});
