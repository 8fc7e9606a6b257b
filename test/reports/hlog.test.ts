import { HistogramLogReader, listTags } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { HLOG_TAGS, runHlog } from '../../reports/hlog.ts';
import { decodeHistogram } from '../../reports/histogram.ts';
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
});
