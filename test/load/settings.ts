/**
 * RunSettings for end-to-end tests, built the way `pushbench run` builds them (the same option
 * table, validation and --fault parsing), so the tests exercise the real path.
 */
import { expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransportName } from '../../core/wire.ts';
import { parseOptions } from '../../core/options.ts';
import { RUN_OPTION_SPECS, loadSettings } from '../../cli/run-options.ts';
import { parseFaults } from '../../load/faults.ts';
import type { RunSettings } from '../../load/runner.ts';
import type { ResultRecord } from '../../core/record.ts';

const out = mkdtempSync(join(tmpdir(), 'pushbench-test-'));

/** Settings for `transport` from run's argv; fails the test when the options have a problem. */
export function runSettings(transport: TransportName, argv: string[], name = `${transport}-test`): RunSettings {
  const parsed = parseOptions([...argv, '--out', out], RUN_OPTION_SPECS);
  const problems = [...parsed.problems];
  const s = loadSettings(parsed.values, transport, problems);
  s.faults = parseFaults((parsed.values.fault as string[] | undefined) ?? [], { ...s, proxied: s.proxy !== null, cutHook: s.targetProfile?.socketio !== undefined }, problems);
  expect(problems).toEqual([]);
  s.name = name;
  return s;
}

/**
 * A run with nothing wrong: valid, nothing lost, duplicated or out of order, every expected message
 * delivered, and `perClientPerS` messages a second to each of `clients` over the `measuredS`
 * window, ± one message per client at each window edge.
 */
export function expectCleanRun(r: ResultRecord, measuredS: number, perClientPerS: number, clients: number): void {
  // the record's notes carry the diagnosis of a reason (the load CPUs' busy share, GC) into the failure
  expect(r.invalidReasons.join('; '), (r.notes ?? []).join('; ')).toBe('');
  expect(r.valid).toBe(true);
  expect(r.summary.lost).toBe(0);
  expect(r.summary.duplicates).toBe(0);
  expect(r.counters.outOfOrder).toBe(0);
  expect(r.summary.delivered).toBeGreaterThanOrEqual(measuredS * perClientPerS * clients - 2 * clients);
  expect(r.summary.delivered).toBeLessThanOrEqual(measuredS * perClientPerS * clients + 2 * clients);
  expect(r.summary.expected).toBe(r.summary.delivered);
}
