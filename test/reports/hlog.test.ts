import { HistogramLogReader, listTags } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { HLOG_PER_SECOND_TAG, HLOG_TAGS, runHlog } from '../../reports/hlog.ts';
import { createHistogram, decodeHistogram, encodeHistogram } from '../../core/histogram.ts';
import { mergeRecords } from '../../core/record.ts';
import { reportRuns } from '../../reports/runs.ts';
import { buildRecord } from '../fixtures/records.ts';

describe('.hlog files', () => {
  it('read back with HistogramLogReader: the same counts and max per histogram, tagged', () => {
    const record = buildRecord({ transport: 'long-poll', clients: 800, samples: 3000, name: 'multi\nline, name' });
    const [run] = reportRuns([record]);
    const text = runHlog(run);
    expect(text).toMatch(/^#\[Histogram log format version 1\.3\]\n/);
    expect(listTags(text)).toEqual(Object.values(HLOG_TAGS));
    const reader = new HistogramLogReader(text, 'packed');
    const seen: Record<string, { count: number; max: number; startMs: number; endMs: number }> = {};
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
      seen[h.tag] = { count: h.totalCount, max: h.maxValue, startMs: h.startTimeStampMsec, endMs: h.endTimeStampMsec };
    }
    for (const [key, tag] of Object.entries(HLOG_TAGS) as [keyof typeof HLOG_TAGS, string][]) {
      const original = decodeHistogram(record.histograms[key]);
      expect(seen[tag]?.count, tag).toBe(original.totalCount);
      expect(seen[tag].max, tag).toBe(original.maxValue);
    }
    expect(seen.delivery.count).toBe(3000);
    expect(seen.delivery.startMs).toBe(Date.parse(record.startedAt));
    expect(seen.delivery.endMs - seen.delivery.startMs).toBe(record.config.durationMs);
  });

  it('leaves out empty histograms (no HTTP requests over WebSocket)', () => {
    const [run] = reportRuns([buildRecord({ transport: 'ws', samples: 200 })]);
    expect(listTags(runHlog(run))).toEqual(['delivery', 'connect']);
  });

  it('writes one delivery-per-second interval per timeline second that kept its histogram, and merges them exactly', () => {
    const record = buildRecord({ transport: 'ws', samples: 500 });
    const second = (values: number[]) => {
      const h = createHistogram();
      for (const v of values) h.recordValue(v);
      return encodeHistogram(h);
    };
    record.timeline[1].deliveryUs = second([1000, 2000, 3000]);
    record.timeline[2].deliveryUs = second([5000, 6000]);
    const [run] = reportRuns([record]);
    const text = runHlog(run);
    expect(listTags(text)).toContain(HLOG_PER_SECOND_TAG);
    const reader = new HistogramLogReader(text, 'packed');
    const perSecond: { count: number; startMs: number; endMs: number }[] = [];
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
      if (h.tag === HLOG_PER_SECOND_TAG) perSecond.push({ count: h.totalCount, startMs: h.startTimeStampMsec, endMs: h.endTimeStampMsec });
    }
    const base = Date.parse(record.startedAt);
    expect(perSecond).toEqual([
      { count: 3, startMs: base + (record.timeline[1].tS - 1) * 1000, endMs: base + record.timeline[1].tS * 1000 },
      { count: 2, startMs: base + (record.timeline[2].tS - 1) * 1000, endMs: base + record.timeline[2].tS * 1000 },
    ]);

    // two generator shares of one run: the merged second's p50 comes from both histograms, not the larger p50
    const other = structuredClone(record);
    other.timeline[1].deliveryUs = second([100, 100, 100, 100, 100, 100, 100]);
    delete other.timeline[2].deliveryUs;
    const merged = mergeRecords([record, other]);
    const t1 = merged.timeline.find((p) => p.tS === record.timeline[1].tS)!;
    expect(decodeHistogram(t1.deliveryUs!).totalCount).toBe(10);
    expect(t1.p50Us).toBeLessThan(200);
    // a second only one side kept cannot be merged exactly: its histogram is dropped
    const t2 = merged.timeline.find((p) => p.tS === record.timeline[2].tS)!;
    expect(t2.deliveryUs).toBeUndefined();
    expect(record.timeline[2].deliveryUs).toBeDefined();
  });
});
