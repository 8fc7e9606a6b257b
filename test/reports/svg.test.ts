import { describe, expect, it } from 'vitest';
import { buildCharts } from '../../reports/charts.ts';
import { colourOf } from '../../load/drivers/index.ts';
import { reportRuns } from '../../reports/runs.ts';
import { renderSvg } from '../../reports/svg.ts';
import { CLAIMED_ORDER } from '../../load/drivers/index.ts';
import { buildRecord, buildRecords } from '../fixtures/records.ts';

const XSS = '</script><script>alert(1)</script>';

describe('SVG rendering in Node', () => {
  it('renders every chart with marks in every transport colour, user text escaped', async () => {
    const runs = reportRuns([
      ...buildRecords({ clientCounts: [500, 2000], samples: 1000 }),
      buildRecord({ transport: 'ws', clients: 1000, name: XSS, samples: 1000 }),
    ]);
    const charts = buildCharts(runs);
    expect(charts).toHaveLength(7);
    for (const chart of charts) {
      const svg = await renderSvg(chart.spec);
      expect(svg.startsWith('<svg'), chart.id).toBe(true);
      expect(svg, chart.id).toMatch(/class="mark-(line|rect|symbol)/);
      expect((svg.match(/<path /g) ?? []).length, chart.id).toBeGreaterThan(runs.length);
      for (const t of CLAIMED_ORDER) {
        // a mark (line stroke or bar fill) drawn in the transport's colour, and its legend entry
        expect(svg, `${chart.id} ${t}`).toMatch(new RegExp(`(stroke|fill)="${colourOf(t)}"`));
        expect(svg, `${chart.id} ${t}`).toContain(`>${t}</text>`);
      }
      expect(svg).not.toContain('<script');
    }
    // the generator chart draws its validity limits as dashed rules in their own colour
    const generator = await renderSvg(charts.find((c) => c.id === 'generator-over-time')!.spec);
    expect((generator.match(/stroke="#3b3b3b" stroke-dasharray="6,4"/g) ?? []).length).toBe(2);
    const cost = await renderSvg(charts.find((c) => c.id === 'cost-per-message')!.spec);
    expect(cost).toContain('&lt;/script&gt;&lt;script&gt;alert(1)');
  });
});
