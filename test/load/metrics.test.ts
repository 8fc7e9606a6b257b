/**
 * The generator's live metrics, end to end over real sockets: a run reports to a registry served
 * on a real port, is scraped while it goes on, and its exposition is checked with a parser
 * (test/fixtures/exposition.ts); counters never go down between scrapes, and once the run has
 * ended they equal its record. Also the multi-process generator's shards, and the endpoint's end.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../core/record.ts';
import { GeneratorMetrics } from '../../load/metrics.ts';
import { serveMetrics, type MetricsServer } from '../../load/metrics-server.ts';
import { runMulti } from '../../load/multi.ts';
import { runOnce } from '../../load/runner.ts';
import { startServer, type RunningServer } from '../../servers/server.ts';
import { checkExposition, seriesKey, valueOf, type Exposition } from '../fixtures/exposition.ts';
import { runSettings } from './settings.ts';

const open: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const x of open.splice(0)) await x.close();
});

async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return checkExposition(await res.text());
}

/** Scrape every `everyMs` until `done` settles; then once more. */
async function scrapeThrough<T>(url: string, done: Promise<T>, everyMs: number): Promise<{ result: T; scrapes: Exposition[] }> {
  const scrapes: Exposition[] = [];
  let finished = false;
  const result = done.finally(() => (finished = true));
  while (!finished) {
    scrapes.push(await scrape(url));
    await Promise.race([result, new Promise((r) => setTimeout(r, everyMs))]);
  }
  scrapes.push(await scrape(url));
  return { result: await result, scrapes };
}

/** Every counter series' values over the scrapes never go down (a series may appear late). */
function expectCountersOnlyIncrease(scrapes: readonly Exposition[]): number {
  const last = new Map<string, number>();
  let checked = 0;
  for (const x of scrapes) {
    for (const s of x.samples) {
      const type = x.families.get(s.name) ?? x.families.get(s.name.replace(/_(bucket|count|sum)$/, ''));
      if (type !== 'counter' && type !== 'histogram') continue;
      const key = seriesKey(s.name, s.labels);
      const before = last.get(key);
      if (before !== undefined) {
        expect(s.value, key).toBeGreaterThanOrEqual(before);
        checked++;
      }
      last.set(key, s.value);
    }
  }
  return checked;
}

async function reference(): Promise<RunningServer> {
  const server = await startServer({ port: 0, ratePerS: 5, topics: 2 });
  open.push(server);
  return server;
}

async function endpoint(metrics: GeneratorMetrics): Promise<MetricsServer> {
  const ep = await serveMetrics(metrics.registry, { host: '127.0.0.1', port: 0 });
  if (typeof ep === 'string') throw new Error(ep);
  open.push(ep);
  return ep;
}

/** The run's counters in the exposition `x` equal its record's (summed over `labels`' series). */
function expectAgreesWithRecord(x: Exposition, record: ResultRecord, labels: Record<string, string>): void {
  expect(valueOf(x, 'pushbench_deliveries_total', labels)).toBe(record.summary.delivered);
  expect(valueOf(x, 'pushbench_delivery_latency_seconds_count', labels)).toBe(record.summary.delivered);
  expect(valueOf(x, 'pushbench_lost_messages', labels)).toBe(record.summary.lost);
  expect(valueOf(x, 'pushbench_duplicates_total', labels)).toBe(record.counters.duplicates);
  expect(valueOf(x, 'pushbench_connects_total', labels)).toBe(record.counters.connectionsOpened);
  expect(valueOf(x, 'pushbench_errors_total', labels)).toBe(record.summary.errors);
  expect(valueOf(x, 'pushbench_foreign_messages_total', labels)).toBe(record.summary.foreign ?? 0);
  // a series only where expected came from the publisher's schedule (the reference server's /stats has it)
  const undelivered = x.samples.filter((v) => v.name === 'pushbench_undelivered_messages' && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  expect(undelivered.length > 0).toBe(record.summary.undelivered != null);
  expect(valueOf(x, 'pushbench_undelivered_messages', labels)).toBe(record.summary.undelivered ?? 0);
  const valid = x.samples.filter((v) => v.name === 'pushbench_run_valid' && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  expect(valid.length).toBeGreaterThan(0);
  for (const v of valid) expect(v.value, `shard ${v.labels.shard} valid`).toBe(record.valid ? 1 : 0);
}

/** Resolves true when nothing listens on `port` of 127.0.0.1 any more. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

interface Scraped { ep: MetricsServer; record: ResultRecord; scrapes: Exposition[] }
let single: Scraped;
let multi: Scraped;

/** `run` with its own reference server, registry and endpoint, scraped every `everyMs` through it. */
async function scrapedRun(run: (target: string, metrics: GeneratorMetrics) => Promise<ResultRecord>, everyMs: number): Promise<Scraped> {
  const server = await reference();
  const metrics = new GeneratorMetrics();
  const ep = await endpoint(metrics);
  const { result: record, scrapes } = await scrapeThrough(ep.url, run(server.url, metrics), everyMs);
  return { ep, record, scrapes };
}

// The two runs go at once. Each has its own server, registry and endpoint, so neither's series
// reach the other's scrapes; their checks are counts and series, which the other's small load
// beside them does not move.
beforeAll(async () => {
  [single, multi] = await Promise.all([
    // 2 workers: the counters add both threads' ticks. 200 clients × 2 topics × 5/s; 2.5 s measured.
    scrapedRun((target, metrics) => runOnce(runSettings('ws', ['--clients', '200', '--duration', '3s', '--warmup', '500ms', '--rate', '5', '--topics', '2', '--workers', '2', '--target', target], 'metrics-ws'), { metrics }), 700),
    // 60 clients over 2 processes, each connected in the warm-up (30 at 1,000/s); 1 s measured
    scrapedRun((target, metrics) => runMulti(runSettings('sse', ['--clients', '60', '--duration', '1500ms', '--warmup', '500ms', '--rate', '5', '--topics', '2', '--workers', '1', '--target', target], 'metrics-shards'), 2, { metrics }), 1000),
  ]);
}, 40_000);

describe('generator metrics', () => {
  it('are scraped mid-run, parse, only increase, and end equal to the record', async () => {
    const { ep, record, scrapes } = single;
    const labels = { run: 'metrics-ws', transport: 'ws', shard: '0' };
    // 700 ms apart over a 2.5 s measured window: three or four scrapes fall in it
    const measuring = scrapes.filter((x) => valueOf(x, 'pushbench_run_phase', { ...labels, phase: 'measure' }) === 1);
    expect(measuring.length, 'scrapes while the window was measured').toBeGreaterThanOrEqual(2);
    expect(measuring.some((x) => valueOf(x, 'pushbench_deliveries_total', labels) > 0)).toBe(true);
    // The gauge holds the workers' ticks of the second before the sampler's (a second old): the
    // 200 shows from the first tick after the clients' arrival on, and stays after the run; a
    // scrape delayed on a busy machine may miss the measured window's last second, the one after
    // the run does not.
    expect(Math.max(...scrapes.map((x) => valueOf(x, 'pushbench_open_connections', labels)))).toBe(200);
    expect(expectCountersOnlyIncrease(scrapes)).toBeGreaterThan(50);
    expect(record.complete).toBe(true);
    expect(record.summary.delivered).toBeGreaterThan(0);
    // the reference server's /stats carries its publisher's timetable: undelivered is measured
    expect(record.summary.undelivered).not.toBeNull();
    expectAgreesWithRecord(scrapes.at(-1)!, record, labels);
    // a worker label per thread, each with its own loop figures
    const workers = new Set(scrapes.at(-1)!.samples.filter((x) => x.name === 'pushbench_generator_event_loop_utilization').map((x) => x.labels.worker));
    expect([...workers].sort()).toEqual(['0', '1']);
    await ep.close();
    expect(await refused(ep.port)).toBe(true);
  });

  it('label each shard of a multi-process run; their sum is the merged record', () => {
    const { record, scrapes } = multi;
    const last = scrapes.at(-1)!;
    const shards = new Set(last.samples.filter((x) => x.name === 'pushbench_deliveries_total').map((x) => x.labels.shard));
    expect([...shards].sort()).toEqual(['0', '1']);
    for (const shard of ['0', '1']) expect(valueOf(last, 'pushbench_connects_total', { run: 'metrics-shards', shard })).toBeGreaterThanOrEqual(30);
    expectCountersOnlyIncrease(scrapes);
    expectAgreesWithRecord(last, record, { run: 'metrics-shards', transport: 'sse' });
  });
});
