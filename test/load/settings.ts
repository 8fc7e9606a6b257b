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

const out = mkdtempSync(join(tmpdir(), 'pushbench-test-'));

/** Settings for `transport` from run's argv; fails the test when the options have a problem. */
export function runSettings(transport: TransportName, argv: string[], name = `${transport}-test`): RunSettings {
  const parsed = parseOptions([...argv, '--out', out], RUN_OPTION_SPECS);
  const problems = [...parsed.problems];
  const s = loadSettings(parsed.values, transport, problems);
  s.faults = parseFaults((parsed.values.fault as string[] | undefined) ?? [], { ...s, proxied: s.proxy !== null }, problems);
  expect(problems).toEqual([]);
  s.name = name;
  return s;
}
