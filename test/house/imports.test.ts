/**
 * The house's import rules hold (.dependency-cruiser.cjs, docs/architecture.md): no import cycle,
 * and every folder imports only the folders below it. Checked by dependency-cruiser on the real
 * source tree, type-only imports included.
 *
 * Heavy: dependency-cruiser parses the whole source tree, type imports included.
 */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { cruise } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const SOURCE_FOLDERS = ['core', 'servers', 'netem', 'load', 'reports', 'gate', 'capacity', 'dist', 'cli', 'bench'];

describe('imports', () => {
  it('point one way and form no cycle', async () => {
    const config = require('../../.dependency-cruiser.cjs');
    const result = await cruise(SOURCE_FOLDERS, { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true });
    const output = result.output as { summary: { violations: { rule: { name: string }; from: string; to: string; cycle?: { name: string }[] }[]; totalCruised: number } };
    const violations = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
    expect(violations).toEqual([]);
    // the check saw the tree (a wrong path would cruise nothing and pass)
    expect(output.summary.totalCruised).toBeGreaterThan(100);
  });
});
