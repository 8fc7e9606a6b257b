/**
 * Synthetic repeats for the compare tests: real fixture records (test/fixtures/records.ts) whose
 * summary figures are scaled per repeat, so a test states exactly the numbers compare sees.
 */
import { buildRecord, type FixtureOptions } from '../fixtures/records.ts';
import type { ResultRecord } from '../../core/record.ts';

export interface Figures {
  p50Us?: number;
  p99Us?: number;
  cpuUs?: number;
  bytes?: number;
  /** lost messages as a fraction of expected */
  lossRate?: number;
}

/** One fixture record with the given summary figures (others as the fixture made them). */
export function repeat(o: FixtureOptions, f: Figures): ResultRecord {
  const r = structuredClone(buildRecord({ samples: 500, ...o }));
  const s = r.summary;
  if (f.p50Us !== undefined) s.latencyUs.p50 = f.p50Us;
  if (f.p99Us !== undefined) s.latencyUs.p99 = f.p99Us;
  if (f.cpuUs !== undefined) s.serverCpuUsPerMessage = f.cpuUs;
  if (f.bytes !== undefined) s.bytesPerMessage = f.bytes;
  if (f.lossRate !== undefined) s.lost = Math.round(s.expected * f.lossRate);
  return r;
}

/** `values.length` repeats of one transport, figure `key` taking each value in turn. */
export function repeats(o: FixtureOptions, key: keyof Figures, values: readonly number[], side = 'run'): ResultRecord[] {
  return values.map((v, i) => repeat({ ...o, name: `${o.transport}-${side}-r${i + 1}` }, { [key]: v }));
}
