/**
 * The report's charts: one pure function per chart, each taking the runs and returning a
 * vega-lite spec with its data inline (`data.values`), so the spec alone renders anywhere — in
 * the HTML page, as an SVG in Node, in the vega editor. Latencies are shown in ms, sizes in bytes.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ResultRecord } from '../core/record.ts';
import { networkOf, settingOf, spansClientCounts, variantOf, type ReportRun } from './runs.ts';
import { CHART_CONFIG, PLOT_HEIGHT, PLOT_WIDTH, transportColor, variantDash } from './chart-style.ts';
import { spectrumPoints } from './spectrum.ts';
import { TRANSPORTS } from '../load/drivers/index.ts';
import { SATURATED_ELU, STALLED_LOOP_DELAY_MS } from '../load/starvation.ts';

/** One chart of the report. */
export interface ChartDef {
  /** stable, file-name safe: the SVG is `<id>.svg` */
  id: string;
  title: string;
  /** one sentence saying how to read the chart (plain text) */
  caption: string;
  /** spans the whole row in the HTML grid */
  wide: boolean;
  spec: TopLevelSpec;
}

const SCHEMA_URL = 'https://vega.github.io/schema/vega-lite/v6.json';

function base(title: string, values: object[]) {
  return { $schema: SCHEMA_URL, title, config: CHART_CONFIG, data: { values } };
}

const runDetail = { field: 'run', type: 'nominal' as const };

/** Delivery latency percentile spectrum, HDR style: x is 1/(1−p) on a log axis from p0 to p99.999. */
export function percentileSpectrumChart(runs: readonly ReportRun[]): TopLevelSpec {
  return {
    ...base('Delivery latency by percentile', runs.flatMap(spectrumPoints)),
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: {
        field: 'inverse', type: 'quantitative', title: 'percentile',
        scale: { type: 'log', domain: [1, 1e5] },
        axis: { values: [1, 10, 100, 1e3, 1e4, 1e5], labelExpr: "datum.value <= 1 ? 'p0' : 'p' + format(100 - 100 / datum.value, '.6~r')" },
      },
      y: { field: 'latencyMs', type: 'quantitative', title: 'delivery latency (ms)', scale: { type: 'log' } },
      color: transportColor(),
      strokeDash: variantDash(),
      detail: runDetail,
      tooltip: [
        { field: 'run', type: 'nominal' },
        { field: 'variant', type: 'nominal' },
        { field: 'percentile', type: 'quantitative', format: '.3f' },
        { field: 'latencyMs', type: 'quantitative', title: 'latency (ms)', format: '.3~f' },
      ],
    },
  } as TopLevelSpec;
}

export interface TimelineRow {
  run: string;
  transport: string;
  /** plain, tls, … (runs.ts variantOf) */
  variant: string;
  tS: number;
  /** which series: for latency `p50`/`p99`, otherwise the metric's name */
  series: string;
  value: number | null;
}

function timelineRows(runs: readonly ReportRun[], pick: (p: ResultRecord['timeline'][number]) => Record<string, number | null>): TimelineRow[] {
  return runs.flatMap((run) => run.record.timeline.flatMap((p) =>
    Object.entries(pick(p)).map(([series, value]) => ({ run: run.label, transport: run.record.config.transport, variant: variantOf(run.record), tS: p.tS, series, value }))));
}

const timeAxis = { field: 'tS', type: 'quantitative' as const, title: 'time since first client (s)' };

/** µs → ms; null for a second without deliveries (0), which a log axis cannot place. */
function positiveMs(us: number): number | null {
  return us > 0 ? us / 1000 : null;
}

/** Delivery latency over time: p50 (solid) and p99 (dashed) of each second, per run; empty seconds are gaps. */
export function latencyOverTimeChart(runs: readonly ReportRun[]): TopLevelSpec {
  return {
    ...base('Delivery latency over time', timelineRows(runs, (p) => ({ p50: positiveMs(p.p50Us), p99: positiveMs(p.p99Us) }))),
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    mark: { type: 'line' },
    encoding: {
      x: timeAxis,
      y: { field: 'value', type: 'quantitative', title: 'latency (ms)', scale: { type: 'log' } },
      color: transportColor(),
      strokeDash: { field: 'series', type: 'nominal', title: 'percentile', scale: { domain: ['p50', 'p99'], range: [[1, 0], [5, 3]] }, legend: { orient: 'bottom' } },
      // the dash is the percentile's here: the variant is the line's width
      strokeWidth: { field: 'variant', type: 'ordinal', title: 'variant', scale: { range: [1.5, 3.5] }, legend: { orient: 'bottom' } },
      detail: runDetail,
      tooltip: [{ field: 'run', type: 'nominal' }, { field: 'variant', type: 'nominal' }, { field: 'series', type: 'nominal' }, { field: 'tS', type: 'quantitative' }, { field: 'value', type: 'quantitative', title: 'latency (ms)', format: '.3~f' }],
    },
  } as TopLevelSpec;
}

/**
 * Stacked line panels over time sharing the x axis, one per series name; a panel given a `limit`
 * draws it as a dashed line (a validity threshold) and its y axis reaches at least that far (or
 * `atLeast`), so a quiet run reads as far below the line rather than filling the panel.
 */
function panelTimeline(title: string, rows: TimelineRow[], panels: [string, string, number?, number?][]): TopLevelSpec {
  return {
    ...base(title, rows),
    vconcat: panels.map(([series, axisTitle, limit, atLeast]) => {
      const floor = Math.max(limit ?? 0, atLeast ?? 0);
      const line = {
        mark: { type: 'line' },
        encoding: {
          x: timeAxis,
          y: { field: 'value', type: 'quantitative', title: axisTitle, ...(floor > 0 ? { scale: { domain: { unionWith: [0, floor] } } } : {}) },
          color: transportColor(),
          strokeDash: variantDash(),
          detail: runDetail,
          tooltip: [{ field: 'run', type: 'nominal' }, { field: 'variant', type: 'nominal' }, { field: 'tS', type: 'quantitative' }, { field: 'value', type: 'quantitative', title: axisTitle, format: ',.4~r' }],
        },
      };
      const panel = { width: PLOT_WIDTH, height: Math.round(PLOT_HEIGHT / 2), transform: [{ filter: { field: 'series', equal: series } }] };
      if (limit === undefined) return { ...panel, ...line };
      return {
        ...panel,
        layer: [line, {
          data: { values: [{ limit }] },
          mark: { type: 'rule', strokeDash: [6, 4], color: LIMIT_COLOR },
          encoding: { y: { field: 'limit', type: 'quantitative' }, tooltip: [{ field: 'limit', type: 'quantitative', title: `validity limit: ${axisTitle}` }] },
        }],
      };
    }),
  } as TopLevelSpec;
}

/** a validity limit: dark grey, apart from every transport's colour */
const LIMIT_COLOR = '#3b3b3b';

/** Deliveries per second and open connections over time, per run. */
export function throughputOverTimeChart(runs: readonly ReportRun[]): TopLevelSpec {
  const rows = timelineRows(runs, (p) => ({ deliveries: p.deliveriesPerS, connections: p.openConnections }));
  return panelTimeline('Deliveries and open connections over time', rows, [['deliveries', 'deliveries/s'], ['connections', 'open connections']]);
}

/** Server CPU % (100 = one core) and RSS (MiB) over time, per run; unknown seconds are left out. */
export function serverResourcesOverTimeChart(runs: readonly ReportRun[]): TopLevelSpec {
  const rows = timelineRows(runs, (p) => ({
    cpu: p.serverCpuPct,
    rss: p.serverRssBytes === null ? null : p.serverRssBytes / 1024 ** 2,
  }));
  return panelTimeline('Server CPU and memory over time', rows, [['cpu', 'server CPU % (100 = 1 core)'], ['rss', 'server RSS (MiB)']]);
}

/**
 * The generator's own health per second: its busiest worker's event-loop utilization and its worst
 * event-loop delay p99, against the validity limits (load/starvation.ts), its workers' longest GC
 * pause (how much of a delay was its own collector), and what the hypervisor took of its CPUs
 * (steal); seconds a record does not carry (older records) are left out.
 */
export function generatorOverTimeChart(runs: readonly ReportRun[]): TopLevelSpec {
  const rows = timelineRows(runs, (p) => ({
    elu: p.generatorElu * 100,
    delay: p.generatorLoopDelayP99Ms ?? null,
    gc: p.generatorGcMaxMs ?? null,
    steal: p.loadCpusStealPct ?? null,
  }));
  return panelTimeline('Generator event loop over time', rows, [
    ['elu', 'loop utilization %', SATURATED_ELU * 100],
    ['delay', 'loop delay p99 (ms)', STALLED_LOOP_DELAY_MS],
    ['gc', 'longest GC pause (ms)'],
    ['steal', 'CPU steal %', undefined, 10],
  ]);
}

export interface CostRow {
  run: string;
  transport: string;
  /** network and rate (runs.ts settingOf) */
  setting: string;
  metric: 'cpu' | 'bytes' | 'requests';
  /** for bytes: `payload` or `overhead`, and `total` (their sum: the label, and the bar of the grouped chart) */
  part: 'value' | 'payload' | 'overhead' | 'total';
  /** null when unknown (no bar is drawn) */
  value: number | null;
  /** the figure as text, "unknown" for null */
  label: string;
  /** where the label sits: the bar's top, or 0 for unknown */
  labelAt: number;
}

function fmt(n: number | null, digits: string): string {
  if (n === null) return 'unknown';
  return Number(n.toFixed(n >= 100 ? 0 : Number(digits))).toLocaleString('en-US');
}

/** Rows of the cost chart for one run. Pure. */
export function costRows(run: ReportRun): CostRow[] {
  const s = run.record.summary;
  const common = { run: run.label, transport: run.record.config.transport, setting: settingOf(run.record) };
  const row = (metric: CostRow['metric'], part: CostRow['part'], value: number | null, label = ''): CostRow =>
    ({ ...common, metric, part, value, label, labelAt: value ?? 0 });
  const total = s.bytesPerMessage;
  return [
    row('cpu', 'value', s.serverCpuUsPerMessage, fmt(s.serverCpuUsPerMessage, '1')),
    row('bytes', 'payload', s.payloadBytesPerMessage),
    row('bytes', 'overhead', s.overheadBytesPerMessage),
    row('bytes', 'total', total, fmt(total, '0')),
    row('requests', 'value', s.requestsPerMessage, fmt(s.requestsPerMessage, '2')),
  ];
}

function costPanel(metric: CostRow['metric'], axisTitle: string, runOrder: string[], stacked: boolean) {
  const x = { field: 'run', type: 'nominal' as const, title: null, sort: runOrder, axis: { labelAngle: -30, labelLimit: 120 } };
  const bar = {
    transform: [{ filter: `datum.metric === '${metric}' && datum.part !== 'total'` }],
    mark: { type: 'bar', width: { band: 0.7 } },
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative', title: axisTitle, stack: stacked ? 'zero' : null },
      color: transportColor(),
      ...(stacked ? {
        opacity: { field: 'part', type: 'ordinal', title: 'bytes', scale: { domain: ['payload', 'overhead'], range: [1, 0.45] }, legend: { orient: 'bottom' } },
        order: { field: 'part', sort: 'descending' },
      } : {}),
      tooltip: [{ field: 'run', type: 'nominal' }, ...(stacked ? [{ field: 'part', type: 'nominal' }] : []), { field: 'value', type: 'quantitative', title: axisTitle, format: ',.4~r' }],
    },
  };
  const text = {
    transform: [{ filter: `datum.metric === '${metric}' && datum.label !== ''` }],
    mark: { type: 'text', dy: -6, fontSize: 10, color: '#57606a' },
    encoding: { x, y: { field: 'labelAt', type: 'quantitative' }, text: { field: 'label' } },
  };
  return { width: Math.max(160, runOrder.length * 38), height: PLOT_HEIGHT, layer: [bar, text] };
}

/**
 * Past this many runs (or over several settings, whose run names no axis label holds) a bar per run
 * is too thin to read: the cost chart shows means per setting and transport.
 */
const COST_RUNS_PER_BAR = 12;

/** The runs' settings: loopback (no proxy) first, then the emulated networks by name, each network's rates ascending. */
function settingsInOrder(runs: readonly ReportRun[]): string[] {
  const rank = (r: ResultRecord) => (r.proxy === undefined ? 0 : 1);
  const sorted = runs.map((r) => r.record).sort((a, b) => rank(a) - rank(b) || networkOf(a).localeCompare(networkOf(b)) || a.config.ratePerS - b.config.ratePerS);
  return [...new Set(sorted.map(settingOf))];
}

/** One panel of the grouped cost chart: per setting a group of bars, one per transport, each the mean over its runs. */
function groupedCostPanel(metric: CostRow['metric'], axisTitle: string, settings: string[], transports: number) {
  return {
    width: Math.max(220, settings.length * Math.max(130, transports * 26)), height: PLOT_HEIGHT,
    transform: [{ filter: `datum.metric === '${metric}' && (datum.part === 'value' || datum.part === 'total')` }],
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'setting', type: 'nominal', title: null, sort: settings, axis: { labelAngle: 0, labelLimit: Math.max(130, transports * 26) } },
      xOffset: { field: 'transport', type: 'nominal', sort: [...TRANSPORTS] },
      y: { aggregate: 'mean', field: 'value', type: 'quantitative', title: `${axisTitle} (mean of runs)` },
      color: transportColor(),
      tooltip: [{ field: 'setting', type: 'nominal' }, { field: 'transport', type: 'nominal' }, { aggregate: 'mean', field: 'value', type: 'quantitative', title: axisTitle, format: ',.4~r' }, { aggregate: 'count', type: 'quantitative', title: 'runs' }],
    },
  };
}

/**
 * Cost per delivered message: server CPU µs, bytes on the wire (payload + overhead), HTTP requests;
 * a bar per run, or past {@link COST_RUNS_PER_BAR} runs or over several settings the mean per setting and transport.
 */
export function costPerMessageChart(runs: readonly ReportRun[]): TopLevelSpec {
  const rows = runs.flatMap(costRows);
  const panels: [CostRow['metric'], string][] = [['cpu', 'server CPU µs / message'], ['bytes', 'bytes on the wire / message'], ['requests', 'HTTP requests / message']];
  const settings = settingsInOrder(runs);
  if (runs.length > COST_RUNS_PER_BAR || settings.length > 1) {
    const transports = new Set(rows.map((r) => r.transport)).size;
    return { ...base('Cost per delivered message', rows), hconcat: panels.map(([m, t]) => groupedCostPanel(m, t, settings, transports)), resolve: { scale: { y: 'independent' } } } as TopLevelSpec;
  }
  const order = runs.map((r) => r.label);
  return {
    ...base('Cost per delivered message', rows),
    hconcat: panels.map(([m, t]) => costPanel(m, t, order, m === 'bytes')),
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

export interface CapacityRow {
  run: string;
  transport: string;
  /** network and rate: a line joins the points of one transport in one setting only */
  setting: string;
  clients: number;
  series: 'p50' | 'p99' | 'cpu';
  /** latency in ms, CPU in % of one core; null when unknown */
  value: number | null;
}

/** Mean server CPU % over the measured window; null without server figures. */
export function serverCpuPct(r: ResultRecord): number | null {
  const measuredUs = (r.config.durationMs - r.config.warmupMs) * 1000;
  return r.server && measuredUs > 0 ? (100 * r.server.cpuUs) / measuredUs : null;
}

/** Capacity curve: p50/p99 delivery latency and server CPU versus clients, one line per transport and setting (network, rate). */
export function capacityChart(runs: readonly ReportRun[]): TopLevelSpec {
  const rows: CapacityRow[] = runs.flatMap((run) => {
    const r = run.record;
    const common = { run: run.label, transport: r.config.transport, setting: settingOf(r), clients: r.config.clients };
    return [
      { ...common, series: 'p50' as const, value: r.summary.latencyUs.p50 / 1000 },
      { ...common, series: 'p99' as const, value: r.summary.latencyUs.p99 / 1000 },
      { ...common, series: 'cpu' as const, value: serverCpuPct(r) },
    ];
  });
  const clients = runs.map((r) => r.record.config.clients);
  const logX = Math.max(...clients) >= 10 * Math.max(1, Math.min(...clients));
  const x = { field: 'clients', type: 'quantitative' as const, title: 'clients', scale: logX ? { type: 'log' } : { zero: false } };
  const detail = { field: 'setting', type: 'nominal' as const };
  const tooltip = [{ field: 'run', type: 'nominal' }, { field: 'setting', type: 'nominal' }, { field: 'clients', type: 'quantitative' }, { field: 'series', type: 'nominal' }, { field: 'value', type: 'quantitative', format: ',.4~r' }];
  return {
    ...base('Capacity: latency and server CPU versus clients', rows),
    hconcat: [
      {
        width: Math.round(PLOT_WIDTH * 0.8), height: PLOT_HEIGHT,
        transform: [{ filter: "datum.series !== 'cpu'" }],
        mark: { type: 'line', point: true },
        encoding: {
          x, y: { field: 'value', type: 'quantitative', title: 'delivery latency (ms)', scale: { type: 'log' } },
          color: transportColor(),
          strokeDash: { field: 'series', type: 'nominal', title: 'percentile', scale: { domain: ['p50', 'p99'], range: [[1, 0], [5, 3]] }, legend: { orient: 'bottom' } },
          detail, tooltip,
        },
      },
      {
        width: Math.round(PLOT_WIDTH * 0.8), height: PLOT_HEIGHT,
        transform: [{ filter: "datum.series === 'cpu'" }],
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'value', type: 'quantitative', title: 'server CPU % (100 = 1 core)' }, color: transportColor(), detail, tooltip },
      },
    ],
  } as TopLevelSpec;
}

/** A chart of the report: its {@link ChartDef} but for the spec, built from the runs when `when` holds (always without). */
interface ChartEntry extends Omit<ChartDef, 'spec' | 'wide'> {
  wide?: boolean;
  build(runs: readonly ReportRun[]): TopLevelSpec;
  when?(runs: readonly ReportRun[]): boolean;
}

/** Every chart, in page order; the capacity curve only across client counts. */
const CHARTS: readonly ChartEntry[] = [
  { id: 'latency-spectrum', title: 'Delivery latency by percentile', build: percentileSpectrumChart,
    caption: 'Each line is one run; further right is rarer. Lower is better; a line that climbs steeply at the right has a long tail.' },
  { id: 'latency-over-time', title: 'Delivery latency over time', build: latencyOverTimeChart,
    caption: 'p50 (solid) and p99 (dashed) of the messages delivered in each second.' },
  { id: 'throughput-over-time', title: 'Deliveries and open connections over time', build: throughputOverTimeChart,
    caption: 'Messages delivered per second, and connections open, as clients arrive, hold and leave.' },
  { id: 'server-over-time', title: 'Server CPU and memory over time', build: serverResourcesOverTimeChart,
    caption: 'Server process CPU (100 % is one core) and resident memory. Runs without server figures are not drawn.' },
  { id: 'generator-over-time', title: 'Generator event loop over time', build: generatorOverTimeChart,
    caption: 'The load generator\'s own margin: its busiest worker thread\'s event-loop utilization and its worst event-loop delay p99 each second. Dashed: the validity limits — above 90 % for 2 s in a row, or past 100 ms in any measured second, the run is marked invalid (its timestamps include the generator\'s own queueing). Below: the share of the generator\'s CPUs the hypervisor took (steal; 0 on bare metal), a cause of stalls the generator cannot see from inside.' },
  { id: 'cost-per-message', title: 'Cost per delivered message', wide: true, build: costPerMessageChart,
    caption: 'Server CPU, bytes on the wire (payload dark, protocol overhead light) and HTTP requests for each delivered message. "unknown" means the run did not measure it.' },
  { id: 'capacity', title: 'Capacity curve', wide: true, build: capacityChart, when: spansClientCounts,
    caption: 'How latency and server CPU grow with the number of clients; one line per transport.' },
];

/** Every chart that applies to these runs, in page order. */
export function buildCharts(runs: readonly ReportRun[]): ChartDef[] {
  return CHARTS.filter((c) => c.when?.(runs) ?? true)
    .map((c) => ({ id: c.id, title: c.title, wide: c.wide ?? false, spec: c.build(runs), caption: c.caption }));
}
