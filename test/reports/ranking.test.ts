import { describe, expect, it } from 'vitest';
import { emptyCounters, SCHEMA, SCHEMA_VERSION, type ResultRecord, type RunSummary } from '../../core/record.ts';
import { comparePair, rankTransports, type MetricRanking, type RankingResult } from '../../reports/ranking.ts';
import { formatRankingHtml, formatRankingMarkdown, formatRankingText } from '../../reports/ranking-format.ts';
import type { TransportName } from '../../core/wire.ts';
import { CLAIMED_ORDER } from '../../load/drivers/index.ts';

/** Per-run figures a test sets; everything else is a plausible constant. */
interface Figures {
  p50Us?: number;
  p99Us?: number;
  cpuUs?: number | null;
  bytes?: number | null;
  requests?: number;
  connections?: number;
  rss?: number | null;
  delivered?: number;
  invalid?: string;
  workload?: 'broadcast' | 'chat';
  network?: string;
}

let serial = 0;
/** A minimal result record around a summary (ranking reads config, validity and the summary only). */
function record(transport: TransportName, f: Figures = {}): ResultRecord {
  const name = `${transport}-${++serial}`;
  const summary: RunSummary = {
    transport, workload: f.workload ?? 'broadcast', clients: 100, durationS: 10, expected: 1000, delivered: f.delivered ?? 1000,
    lost: 0, duplicates: 0, outOfOrder: 0, errors: 0, deliveriesPerS: 100,
    latencyUs: { p50: f.p50Us ?? 1000, p90: 2000, p99: f.p99Us ?? 5000, p999: 8000, max: 9000 },
    connectUs: { p50: 100, p99: 300 }, requestsPerMessage: f.requests ?? 0, bytesPerMessage: f.bytes === undefined ? 200 : f.bytes,
    payloadBytesPerMessage: 64, overheadBytesPerMessage: 136, serverCpuUsPerMessage: f.cpuUs === undefined ? 10 : f.cpuUs,
    serverRssBytesPerConnection: f.rss === undefined ? 4096 : f.rss, connectionsOpened: f.connections ?? 100,
    valid: f.invalid === undefined, invalidReasons: f.invalid === undefined ? [] : [f.invalid],
  };
  return {
    schema: SCHEMA, schemaVersion: SCHEMA_VERSION, name, complete: true, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:10Z',
    config: {
      transport, workload: summary.workload, clients: 100, durationMs: 10_000, warmupMs: 0, ratePerS: 10, payloadBytes: 64, topics: 1,
      pollIntervalMs: 1000, longPollTimeoutMs: 30_000, arrivalRatePerS: 100, network: f.network ?? 'wan', target: null, serverDelayMs: 0, workers: 1,
    },
    environment: {
      node: 'v20', platform: 'linux', cpuModel: 'test', cores: 2, totalMemBytes: 1, hostname: 'h', serverCpus: null, loadCpus: null,
      network: f.network ?? 'wan', pushbenchVersion: '0.1.0',
    },
    histograms: { deliveryUs: '', connectUs: '', requestUs: '', requestRawUs: '' },
    counters: emptyCounters(), server: null, generator: { workers: [], cpuUs: 0, eluMax: 0 }, timeline: [],
    valid: summary.valid, invalidReasons: summary.invalidReasons, summary,
  };
}

/** Three repeats per transport with the given p50 values (µs). */
function p50Runs(values: Record<TransportName, number[]>): ResultRecord[] {
  return CLAIMED_ORDER.flatMap((t) => values[t].map((p50Us) => record(t, { p50Us })));
}

const metric = (r: RankingResult, key: string): MetricRanking => r.metrics.find((m) => m.metric.key === key)!;

describe('rankTransports', () => {
  it('says holds for a clear order, with the ranking and the intervals', () => {
    const r = rankTransports(p50Runs({ ws: [700, 710, 690], sse: [900, 905, 895], 'long-poll': [2500, 2520, 2480], 'short-poll': [250_000, 251_000, 249_000] }));
    const m = metric(r, 'latencyP50Us');
    expect(m.verdict).toBe('holds');
    expect(m.ranked.map((e) => e.transport)).toEqual(['ws', 'sse', 'long-poll', 'short-poll']);
    expect(m.tieGroups).toEqual([['ws'], ['sse'], ['long-poll'], ['short-poll']]);
    const ws = m.ranked[0];
    // mean 700, sd 10, t(0.975, 2) = 4.3027: half-width 24.84
    expect(ws.mean).toBe(700);
    expect(ws.lo!).toBeCloseTo(700 - 24.841, 2);
    expect(ws.hi!).toBeCloseTo(700 + 24.841, 2);
    expect(m.explanation).toBe("every claimed step is clear: no two neighbours' intervals overlap");
    expect(r.claimedOrder).toEqual(['ws', 'sse', 'long-poll', 'short-poll']);
  });

  it('says tie when a claimed pair overlaps, and groups the tied transports', () => {
    const r = rankTransports(p50Runs({ ws: [700, 900, 800], sse: [750, 950, 850], 'long-poll': [2500, 2520, 2480], 'short-poll': [9000, 9100, 8900] }));
    const m = metric(r, 'latencyP50Us');
    expect(m.verdict).toBe('tie');
    expect(m.tieGroups).toEqual([['ws', 'sse'], ['long-poll'], ['short-poll']]);
    // the overlapping step first, then the steps that hold, with their numbers
    expect(m.explanation).toMatch(/^ws ≈ sse: 800µs \[[^\]]*\] vs 850µs \[[^\]]*\]; sse < long-poll holds: 850µs \[[^\]]*\] vs 2\.50ms \[[^\]]*\]; long-poll < short-poll holds: 2\.50ms \[[^\]]*\] vs 9\.00ms \[[^\]]*\]$/);
    expect(formatRankingText(r)).toContain('delivery latency p50: ws ≈ sse < long-poll < short-poll');
  });

  it('says contradicted and names every reversed pair with numbers, neighbours or not', () => {
    // long polling clearly beats SSE (and WebSocket) here
    const r = rankTransports(p50Runs({ ws: [3000, 3010, 2990], sse: [3000, 3020, 2980], 'long-poll': [2000, 2010, 1990], 'short-poll': [9000, 9100, 8900] }));
    const m = metric(r, 'latencyP50Us');
    expect(m.verdict).toBe('contradicted');
    expect(m.contradictions.map((p) => `${p.better.transport}>${p.worse.transport}`)).toEqual(['ws>long-poll', 'sse>long-poll']);
    expect(m.explanation).toBe(
      'long-poll beats ws: 2.00ms [1.98ms, 2.02ms] vs 3.00ms [2.98ms, 3.02ms]; ' +
      'long-poll beats sse: 2.00ms [1.98ms, 2.02ms] vs 3.00ms [2.95ms, 3.05ms]',
    );
    expect(m.ranked.map((e) => e.transport)).toEqual(['long-poll', 'ws', 'sse', 'short-poll']);
  });

  it('with a single repeat gives no interval and says unknown, never a fake interval', () => {
    const r = rankTransports(p50Runs({ ws: [700], sse: [900], 'long-poll': [2500], 'short-poll': [9000] }));
    const m = metric(r, 'latencyP50Us');
    expect(m.verdict).toBe('unknown');
    expect(m.ranked.every((e) => e.lo === null && e.hi === null && e.n === 1)).toBe(true);
    expect(m.explanation).toContain('ws vs sse cannot be judged: ws has 1 valid repeat, no interval, sse has 1 valid repeat, no interval');
    const text = formatRankingText(r);
    expect(text).toContain('delivery latency p50: ws ? sse ? long-poll ? short-poll');
    expect(text).toContain('700µs (n=1, no interval)');
    expect(text).not.toMatch(/700µs \[/);
  });

  it('excludes invalid runs and counts them; unmeasured figures are unknown, not 0', () => {
    const recs = [
      ...(['ws', 'sse', 'long-poll', 'short-poll'] as const).flatMap((t, i) => [1, 2, 3].map((k) => record(t, { p50Us: 1000 * (i + 1) + k, cpuUs: t === 'sse' ? null : 5 * (i + 1) + k / 10 }))),
      record('ws', { p50Us: 99_999, invalid: 'generator saturated (ELU 0.99)' }),
      record('sse', { delivered: 0, p50Us: 0, cpuUs: null }),
    ];
    const r = rankTransports(recs);
    expect(r.runs).toMatchObject({ total: 14, valid: 13, invalid: 1, invalidByTransport: { ws: 1 } });
    expect(r.runs.invalidReasons[0]).toMatch(/^ws-\d+: generator saturated \(ELU 0\.99\)$/);
    const p50 = metric(r, 'latencyP50Us');
    expect(p50.ranked[0]).toMatchObject({ transport: 'ws', n: 3, unknownRuns: 0, mean: 1002 });
    // the sse run that delivered nothing has no latency
    expect(p50.ranked[1]).toMatchObject({ transport: 'sse', n: 3, unknownRuns: 1 });
    const cpu = metric(r, 'serverCpuUsPerMessage');
    expect(cpu.ranked.at(-1)).toMatchObject({ transport: 'sse', n: 0, mean: null });
    expect(cpu.verdict).toBe('unknown');
    expect(cpu.explanation).toContain('sse has no value');
    const md = formatRankingMarkdown(r);
    expect(md).toContain('1 invalid run excluded (ws: 1) of 14:');
    expect(md).toMatch(/\| server CPU per message \| ws &lt; long-poll &lt; short-poll \(unknown: sse\) \| .* \| unknown \|/);
  });

  it('calls identical deterministic counts a tie and clearly different ones ordered', () => {
    const recs = CLAIMED_ORDER.flatMap((t) => [1, 2, 3].map(() => record(t, { connections: t === 'short-poll' ? 3000 : 100, requests: t === 'ws' || t === 'sse' ? 0 : t === 'long-poll' ? 1 : 2.5 })));
    const r = rankTransports(recs);
    const conns = metric(r, 'connectionsOpened');
    expect(conns.verdict).toBe('tie');
    expect(conns.tieGroups).toEqual([['ws', 'sse', 'long-poll'], ['short-poll']]);
    expect(metric(r, 'requestsPerMessage').tieGroups).toEqual([['ws', 'sse'], ['long-poll'], ['short-poll']]);
  });

  it('refuses mixed workloads or networks, naming them, and an empty input', () => {
    expect(() => rankTransports([record('ws', { network: 'wan' }), record('sse', { network: 'loopback', workload: 'chat' })])).toThrow(
      /the records mix workloads: broadcast, chat.*\n.*the records mix networks: wan, loopback/s,
    );
    expect(() => rankTransports([])).toThrow(/no result records to rank/);
  });

  it('ranks only the transports present, against the claimed order restricted to them', () => {
    const r = rankTransports([700, 710, 690].flatMap((v) => [record('ws', { p50Us: v }), record('short-poll', { p50Us: v * 100 })]));
    expect(r.claimedOrder).toEqual(['ws', 'short-poll']);
    expect(metric(r, 'latencyP50Us').verdict).toBe('holds');
    const alone = rankTransports([record('sse'), record('sse')]);
    expect(metric(alone, 'latencyP50Us')).toMatchObject({ verdict: 'unknown', explanation: 'fewer than two transports to compare' });
  });

  it('compares a pair by interval: touching intervals cannot be told apart', () => {
    const e = (lo: number, hi: number) => ({ transport: 'ws' as const, n: 3, unknownRuns: 0, values: [], mean: (lo + hi) / 2, sd: 1, lo, hi });
    expect(comparePair(e(1, 2), e(3, 4))).toBe('as-claimed');
    expect(comparePair(e(3, 4), e(1, 2))).toBe('reversed');
    expect(comparePair(e(1, 3), e(3, 4))).toBe('indistinguishable');
    expect(comparePair({ ...e(1, 2), lo: null, hi: null }, e(3, 4))).toBe('unknown');
  });
});

describe('ranking tables', () => {
  const r = rankTransports(p50Runs({ ws: [700, 710, 690], sse: [900, 905, 895], 'long-poll': [2500, 2520, 2480], 'short-poll': [250_000, 251_000, 249_000] }));

  it('prints a console block per metric with rows and the verdict', () => {
    const text = formatRankingText(r);
    expect(text.split('\n').slice(0, 2)).toEqual([
      'claimed order: ws > sse > long-poll > short-poll; lower is better for every metric; mean [95 % CI] over valid repeats',
      '12 valid runs, none excluded',
    ]);
    expect(text).toContain('  ws          700µs [675µs, 725µs]');
    expect(text).toContain("  verdict: holds — every claimed step is clear: no two neighbours' intervals overlap");
    // all other figures are identical across transports: a tie on each
    expect(text).toContain('server CPU per message: ws ≈ sse ≈ long-poll ≈ short-poll');
  });

  it('writes a Markdown row per metric with every transport in the claimed order', () => {
    const md = formatRankingMarkdown(r);
    const rows = md.split('\n').filter((l) => l.startsWith('|'));
    expect(rows[0]).toBe('| metric | ranking (best first) | ws | sse | long-poll | short-poll | verdict |');
    expect(rows).toHaveLength(2 + 7);
    expect(rows[2]).toMatch(/^\| delivery latency p50 \| ws &lt; sse &lt; long-poll &lt; short-poll \| 700µs \\\[675µs, 725µs\\\] \| 900µs .* \| \*\*holds\*\*: /);
  });

  it('writes the HTML table with everything escaped', () => {
    const html = formatRankingHtml(r);
    expect(html).toContain('<table class="ranking">');
    expect(html).toContain('<td>ws &lt; sse &lt; long-poll &lt; short-poll</td>');
    expect(html).not.toMatch(/<td>[^<]*ws < sse/);
  });
});
