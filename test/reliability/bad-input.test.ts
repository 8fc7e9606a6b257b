/**
 * Bad input, fuzzed (issue 8): result files that are truncated, of the wrong schema version or
 * with fields of the wrong type get a clear error naming the file (and the field); option
 * validation never throws, whatever argv it is given, and reports problems as sentences.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResultFile } from '../../core/record.ts';
import { PushbenchError } from '../../core/errors.ts';
import { parseOptions } from '../../core/options.ts';
import { RUN_OPTION_SPECS, loadSettings } from '../../cli/run-options.ts';
import { parseFaults } from '../../load/faults.ts';
import { buildRecord } from '../fixtures/records.ts';

const dir = mkdtempSync(join(tmpdir(), 'pushbench-bad-'));
const good = JSON.stringify(buildRecord({ transport: 'ws' }));

function load(text: string, name: string): unknown {
  const path = join(dir, name);
  writeFileSync(path, text);
  try {
    return readResultFile(path);
  } catch (err) {
    return err;
  }
}

describe('result files', () => {
  it('a truncated file is refused with its name, never a crash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.length - 1 }), (cut) => {
        const err = load(good.slice(0, cut), 'truncated.json');
        expect(err).toBeInstanceOf(PushbenchError);
        expect((err as Error).message).toContain('truncated.json');
      }),
      { numRuns: 200 },
    );
  });

  it('a field of the wrong type is named, with the file', () => {
    const fields = ['schema', 'schemaVersion', 'name', 'config', 'histograms', 'counters', 'timeline', 'valid', 'summary'];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.boolean(), fc.constant([])), (field, value) => {
        const r = JSON.parse(good);
        const kind = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
        // a wrong type, or (for `schema`) any other value
        fc.pre(kind(r[field]) !== kind(value) || (field === 'schema' && value !== r.schema));
        r[field] = value;
        const err = load(JSON.stringify(r), 'wrongtype.json');
        expect(err).toBeInstanceOf(PushbenchError);
        expect((err as Error).message).toContain('wrongtype.json');
        expect((err as Error).message).toMatch(new RegExp(field === 'schemaVersion' ? 'schema' : field));
      }),
      { numRuns: 200 },
    );
  });

  it('a newer schema version is refused with a sentence that says to upgrade', () => {
    const r = JSON.parse(good);
    r.schemaVersion = 99;
    const err = load(JSON.stringify(r), 'future.json') as PushbenchError;
    expect(err.code).toBe('PB_SCHEMA');
    expect(err.message).toMatch(/future\.json.*\n.*schema version 99 is newer.*upgrade pushbench/s);
  });
});

describe('option validation', () => {
  const names = RUN_OPTION_SPECS.map((s) => `--${s.name}`);
  const values = fc.oneof(fc.constantFrom('0', '-1', '10', '1e9', '30s', '250ms', 'abc', '', '5%', 'ws', 'wan', '1KB', 'x@y', 'restart-server@5s'), fc.string({ maxLength: 12 }));
  it('never throws, lists problems as sentences, and makes no folder while it checks', () => {
    // a random --out is relative: checked from an empty folder, which must stay empty
    const home = process.cwd();
    const cwd = mkdtempSync(join(tmpdir(), 'bad-input-'));
    process.chdir(cwd);
    try {
      fc.assert(
        fc.property(fc.array(fc.oneof(fc.constantFrom(...names), values), { maxLength: 14 }), (argv) => {
          const parsed = parseOptions(argv, RUN_OPTION_SPECS);
          const problems = [...parsed.problems];
          const s = loadSettings(parsed.values, 'ws', problems);
          parseFaults((parsed.values.fault as string[] | undefined) ?? [], { ...s, proxied: s.proxy !== null }, problems);
          for (const p of problems) {
            expect(typeof p).toBe('string');
            expect(p.length).toBeGreaterThan(5);
          }
          if (problems.length === 0) {
            expect(s.clients).toBeGreaterThanOrEqual(1);
            expect(s.warmupMs).toBeLessThan(s.durationMs);
          }
        }),
        { numRuns: 300 },
      );
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      process.chdir(home);
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
