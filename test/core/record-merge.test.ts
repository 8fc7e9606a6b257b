/**
 * mergeRecords on records of one run taken in parallel: what is per process adds, what is a
 * percentile without its histogram keeps the worst, and nothing one record says is dropped.
 */
import { describe, expect, it } from 'vitest';
import { checkRecord, mergeRecords, summarize, type ProxyFigures, type ResultRecord } from '../../core/record.ts';
import { buildRecord } from '../fixtures/records.ts';

const proxy = (cpuPct: number | null, p99: number, releases: number): ProxyFigures => ({
  cpuPct,
  releases,
  latenessMs: { p50: p99 / 4, p99, max: 2 * p99 },
  latenessP99LimitMs: 5,
  maxLatenessWholeRunMs: 3 * p99,
});

describe('mergeRecords', () => {
  const a: ResultRecord = { ...buildRecord({ transport: 'ws', clients: 100, seed: 1 }), notes: ['closed loop', 'proxy on CPU 1'], proxy: proxy(20, 1, 1000) };
  const b: ResultRecord = { ...buildRecord({ transport: 'ws', clients: 50, seed: 2, invalidReasons: ['worker 0 saturated'] }), notes: ['closed loop', 'share 1 had a reconnect storm'], proxy: proxy(30, 4, 500) };

  it('sums what each record counted and keeps the worst of what it cannot add', () => {
    const m = mergeRecords([a, b]);
    expect(m.config.clients).toBe(150);
    expect(m.counters.delivered).toBe(a.counters.delivered + b.counters.delivered);
    expect(m.summary.delivered).toBe(a.summary.delivered + b.summary.delivered);
    expect(m.valid).toBe(false);
    expect(m.invalidReasons).toEqual(['worker 0 saturated']);
    expect(m.proxy).toEqual({ cpuPct: 50, releases: 1500, latenessMs: { p50: 1, p99: 4, max: 8 }, latenessP99LimitMs: 5, maxLatenessWholeRunMs: 12 });
    // loss=: the lost chunks add
    expect(mergeRecords([{ ...a, proxy: { ...a.proxy!, lostChunks: 3 } }, { ...b, proxy: { ...b.proxy!, lostChunks: 4 } }]).proxy?.lostChunks).toBe(7);
  });

  it('keeps every record\'s notes, each once, whichever record has them', () => {
    expect(mergeRecords([a, b]).notes).toEqual(['closed loop', 'proxy on CPU 1', 'share 1 had a reconnect storm']);
    const { notes: _n, proxy: _p, ...plain } = a;
    const m = mergeRecords([plain, b]);
    expect(m.notes).toEqual(b.notes);
    expect(m.proxy).toEqual(b.proxy);
    const none = mergeRecords([plain, plain]);
    expect(none.notes).toBeUndefined();
    expect(none.proxy).toBeUndefined();
  });

  it('leaves proxy CPU unknown when one process\'s was not sampled', () => {
    const m = mergeRecords([a, { ...b, proxy: proxy(null, 2, 10) }]);
    expect(m.proxy?.cpuPct).toBeNull();
    expect(m.proxy?.latenessMs?.p99).toBe(2);
  });

  it('sums undelivered and foreign, and keeps the oldest backlog', () => {
    const late = (undelivered: number, backlogAgeMs: number | null, foreign: number): ResultRecord => {
      const r = buildRecord({ transport: 'ws', clients: 10, seed: 3 });
      const counters = { ...r.counters, undelivered, foreign, expected: r.counters.expected + undelivered };
      return { ...r, counters, backlogAgeMs, summary: summarize({ ...r, counters, backlogAgeMs }) };
    };
    const m = mergeRecords([late(3, 1200, 0), late(0, null, 4), late(5, 900, 1)]);
    expect(m.counters).toMatchObject({ undelivered: 8, foreign: 5 });
    expect(m.backlogAgeMs).toBe(1200);
    expect(m.summary).toMatchObject({ undelivered: 8, foreign: 5, backlogAgeMs: 1200 });
    expect(mergeRecords([late(0, null, 0), late(0, null, 0)]).backlogAgeMs).toBeNull();
  });
});

describe('records older than undelivered and foreign', () => {
  it('still read, merge and summarize: undelivered unknown (null), never 0', () => {
    const r = buildRecord({ transport: 'sse', clients: 10, seed: 4 });
    const { undelivered: _u, foreign: _f, ...counters } = r.counters;
    const { backlogAgeMs: _b, ...rest } = r;
    const old = { ...rest, counters } as ResultRecord;
    expect(checkRecord(JSON.parse(JSON.stringify(old)))).toEqual([]);
    expect(checkRecord({ ...old, counters: { ...counters, undelivered: 'x' } })).toEqual(['field "counters.undelivered" is missing or not a number']);
    const m = mergeRecords([old, old]);
    expect(m.counters.undelivered).toBeUndefined();
    expect(m.counters.delivered).toBe(2 * r.counters.delivered);
    expect(m.summary.undelivered).toBeNull();
    expect(m.summary.backlogAgeMs).toBeNull();
    expect(m.summary.foreign).toBe(0);
  });
});
