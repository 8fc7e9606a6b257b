import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import {
  buildCharts, capacityChart, costPerMessageChart, costRows, generatorOverTimeChart, latencyOverTimeChart, percentileSpectrumChart,
  serverResourcesOverTimeChart, throughputOverTimeChart,
} from '../../reports/charts.ts';
import { spectrumPoints, SPECTRUM_STEPS } from '../../reports/spectrum.ts';
import { decodeHistogram } from '../../core/histogram.ts';
import { reportRuns } from '../../reports/runs.ts';
import { TRANSPORTS } from '../../load/drivers/index.ts';
import { buildRecord, buildRecords } from '../fixtures/records.ts';
import { SATURATED_ELU, STALLED_LOOP_DELAY_MS } from '../../load/starvation.ts';
import { GRID_RECORDS } from '../fixtures/rank-grid.ts';

const runs = reportRuns([
  ...buildRecords({ clientCounts: [500, 2000], samples: 2000 }),
  buildRecord({ transport: 'sse', clients: 1000, name: 'external', serverKnown: false, samples: 2000 }),
]);
const values = (spec: object) => (spec as { data: { values: Record<string, unknown>[] } }).data.values;

describe('chart specs', () => {
  it('every chart compiles with vega-lite without a warning', () => {
    const charts = buildCharts(runs);
    expect(charts.map((c) => c.id)).toEqual(['latency-spectrum', 'latency-over-time', 'throughput-over-time', 'server-over-time', 'generator-over-time', 'cost-per-message', 'capacity']);
    for (const c of charts) {
      const warnings: unknown[] = [];
      const logger = { level: () => logger, error: (...a: unknown[]) => { warnings.push(a); return logger; }, warn: (...a: unknown[]) => { warnings.push(a); return logger; }, info: () => logger, debug: () => logger };
      const out = compile(c.spec, { logger: logger as never });
      expect(out.spec.marks?.length ?? 0, c.id).toBeGreaterThan(0);
      expect(warnings, c.id).toEqual([]);
    }
  });

  it('the percentile spectrum carries each run from p0 to p99.999, matching its histogram', () => {
    const spec = percentileSpectrumChart(runs);
    const rows = values(spec);
    expect(rows).toHaveLength(runs.length * SPECTRUM_STEPS.length);
    for (const run of runs) {
      const points = spectrumPoints(run);
      const h = decodeHistogram(run.record.histograms.deliveryUs);
      expect(points[0].percentile).toBe(0);
      expect(points.at(-1)!.percentile).toBeCloseTo(99.999, 6);
      // the one-pass percentiles equal hdr-histogram-js's own, at every step
      expect(points.map((p) => p.latencyMs)).toEqual(points.map((p) => h.getValueAtPercentile(p.percentile) / 1000));
      expect(points[0].latencyMs).toBeLessThanOrEqual(h.minNonZeroValue / 1000);
      expect(points.at(-1)!.latencyMs).toBeGreaterThanOrEqual(h.maxValue / 1000);
      expect(rows.filter((r) => r.run === run.label)).toEqual(points);
    }
  });

  it('the generator chart carries each second\'s ELU and loop delay, and draws the validity limits', () => {
    const spec = generatorOverTimeChart(runs);
    const first = runs[0].record.timeline[3];
    expect(values(spec)).toContainEqual({ run: runs[0].label, transport: runs[0].record.config.transport, variant: 'plain', tS: 3, series: 'elu', value: first.generatorElu * 100 });
    expect(values(spec)).toContainEqual({ run: runs[0].label, transport: runs[0].record.config.transport, variant: 'plain', tS: 3, series: 'delay', value: first.generatorLoopDelayP99Ms });
    expect(values(spec)).toContainEqual({ run: runs[0].label, transport: runs[0].record.config.transport, variant: 'plain', tS: 3, series: 'steal', value: first.loadCpusStealPct });
    expect(values(spec)).toContainEqual({ run: runs[0].label, transport: runs[0].record.config.transport, variant: 'plain', tS: 3, series: 'gc', value: first.generatorGcMaxMs });
    expect(first.generatorGcMaxMs).toBeGreaterThan(0);
    const limits = JSON.stringify(spec).match(/"values":\[\{"limit":(\d+)\}\]/g);
    expect(limits).toEqual([`"values":[{"limit":${SATURATED_ELU * 100}}]`, `"values":[{"limit":${STALLED_LOOP_DELAY_MS}}]`]);
    // an older record without the loop delay leaves those seconds out rather than drawing zeros
    const old = reportRuns([buildRecord({ transport: 'ws', samples: 100 })]);
    for (const p of old[0].record.timeline) {
      delete p.generatorLoopDelayP99Ms;
      delete p.loadCpusStealPct;
      delete p.generatorGcMaxMs;
    }
    expect(values(generatorOverTimeChart(old)).filter((r) => r.series !== 'elu').every((r) => r.value === null)).toBe(true);
  });

  it('timeline charts carry every second of every run', () => {
    const n = runs.reduce((s, r) => s + r.record.timeline.length, 0);
    const latency = values(latencyOverTimeChart(runs));
    expect(latency).toHaveLength(2 * n);
    const first = runs[0].record.timeline[3];
    expect(latency).toContainEqual({ run: runs[0].label, transport: runs[0].record.config.transport, variant: 'plain', tS: 3, series: 'p99', value: first.p99Us / 1000 });
    // a second without deliveries is a gap on the log axis, not a zero
    const quiet = reportRuns([buildRecord({ transport: 'ws', samples: 100 })]);
    quiet[0].record.timeline[0] = { ...quiet[0].record.timeline[0], p50Us: 0, p99Us: 0, deliveriesPerS: 0 };
    expect(values(latencyOverTimeChart(quiet)).filter((r) => r.tS === 0).map((r) => r.value)).toEqual([null, null]);
    const throughput = values(throughputOverTimeChart(runs));
    expect(throughput).toContainEqual({ run: runs[0].label, transport: 'ws', variant: 'plain', tS: 3, series: 'connections', value: first.openConnections });
    const server = values(serverResourcesOverTimeChart(runs));
    // unknown server figures stay null (not drawn), never 0
    expect(server.filter((r) => r.run === 'external').every((r) => r.value === null)).toBe(true);
    expect(server).toContainEqual({ run: runs[0].label, transport: 'ws', variant: 'plain', tS: 3, series: 'cpu', value: first.serverCpuPct });
  });

  it('cost per message shows unknown figures as "unknown", never 0', () => {
    const external = runs.find((r) => r.label === 'external')!;
    const rows = costRows(external);
    const cpu = rows.find((r) => r.metric === 'cpu')!;
    expect(cpu).toMatchObject({ value: null, label: 'unknown', labelAt: 0 });
    const known = costRows(runs[0]).find((r) => r.metric === 'cpu')!;
    expect(known.value).toBe(runs[0].record.summary.serverCpuUsPerMessage);
    const bytes = costRows(runs[0]).filter((r) => r.metric === 'bytes');
    expect(bytes.find((r) => r.part === 'payload')!.value).toBe(runs[0].record.summary.payloadBytesPerMessage);
    expect(bytes.find((r) => r.part === 'overhead')!.value).toBe(runs[0].record.summary.overheadBytesPerMessage);
    expect(values(costPerMessageChart(runs))).toHaveLength(runs.length * 5);
  });

  it('cost per message over several settings: a group per network and rate, a bar per transport (the mean of its runs)', () => {
    type Panel = { encoding: { x: { field: string; sort: string[] }; xOffset: { field: string }; y: { aggregate: string } } };
    const spec = costPerMessageChart(reportRuns(GRID_RECORDS)) as unknown as { hconcat: Panel[] };
    for (const p of spec.hconcat) {
      expect(p.encoding.x.field).toBe('setting');
      expect(p.encoding.x.sort).toEqual(['loopback, 1 msg/s', 'loopback, 10 msg/s', 'wan, 1 msg/s', 'wan, 10 msg/s']);
      expect(p.encoding.xOffset.field).toBe('transport');
      expect(p.encoding.y.aggregate).toBe('mean');
    }
    // one setting and few runs keep a bar per run
    expect((costPerMessageChart(runs.slice(0, 4)) as unknown as { hconcat: { layer: Panel[] }[] }).hconcat[0].layer[0].encoding.x.field).toBe('run');
  });

  it('the capacity curve appears only across client counts and carries p50/p99/CPU per run', () => {
    const single = reportRuns(buildRecords({ samples: 500 }));
    expect(buildCharts(single).map((c) => c.id)).not.toContain('capacity');
    const rows = values(capacityChart(runs));
    const shortPoll = runs.find((r) => r.record.config.transport === 'short-poll' && r.record.config.clients === 2000)!;
    expect(rows).toContainEqual({ run: shortPoll.label, transport: 'short-poll', setting: `${shortPoll.record.config.network}, ${shortPoll.record.config.ratePerS} msg/s`, clients: 2000, series: 'p99', value: shortPoll.record.summary.latencyUs.p99 / 1000 });
    expect(rows.find((r) => r.run === 'external' && r.series === 'cpu')!.value).toBeNull();
  });

  it('labels every series with its variant (plain, tls, its record size, deflate, streams per connection) as well as its run', () => {
    const [a, b] = runs;
    const variant = (r: typeof a, extra: object, label: string) => ({ ...r, label, record: { ...r.record, config: { ...r.record.config, ...extra } } });
    const mixed = [a, variant(a, { tls: true }, 'a+tls'), variant(b, { tls: true, streamsPerConnection: 10 }, 'b+tls+h2'), variant(b, { tls: true, tlsRecordBytes: 1400 }, 'b+tls-1400')];
    for (const spec of [percentileSpectrumChart(mixed), latencyOverTimeChart(mixed), throughputOverTimeChart(mixed), serverResourcesOverTimeChart(mixed)]) {
      expect(new Set(values(spec).map((r) => r.variant))).toEqual(new Set(['plain', 'tls', 'tls+10 streams/conn', 'tls 1400 B records']));
      // a channel other than colour (which stays the transport's) draws the variant
      expect(JSON.stringify(spec)).toMatch(/"(strokeDash|strokeWidth)":\{"field":"variant"/);
    }
  });

  it('colours transports with one fixed scale in every chart', () => {
    const specs = buildCharts(runs).map((c) => JSON.stringify(c.spec));
    for (const s of specs) {
      const domains = [...s.matchAll(/"domain":(\[[^\]]*\])/g)].map((m) => m[1]);
      expect(domains).toContain(JSON.stringify(TRANSPORTS));
    }
  });
});
