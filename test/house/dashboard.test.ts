/**
 * examples/grafana-dashboard.json: a Grafana dashboard by Grafana's own schema (the `Dashboard`
 * type of @grafana/schema, checked by the TypeScript compiler on the JSON as an object literal, so
 * a misspelt or misplaced field is an error), every query valid PromQL by Prometheus' own grammar
 * (@prometheus-io/lezer-promql), and every metric a query names present in the exposition of a
 * real run and a real reference server.
 *
 * Heavy: the TypeScript compiler checks the dashboard against Grafana's schema types.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { GeneratorMetrics } from '../../load/metrics.ts';
import { runOnce } from '../../load/runner.ts';
import { startServer } from '../../servers/server.ts';
import { checkExposition, sampleNames } from '../fixtures/exposition.ts';
import { runSettings } from '../load/settings.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FILE = join(ROOT, 'examples/grafana-dashboard.json');
const text = readFileSync(FILE, 'utf8');
const dashboard = JSON.parse(text) as { panels: { title?: string; type: string; targets?: { expr?: string; refId?: string }[] }[] };

/** TypeScript's diagnostics for `source`, compiled as a file of this repository. */
function typeErrors(source: string): string[] {
  const name = join(ROOT, 'test/house/__dashboard-check.ts');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (f, v, ...rest) => (resolve(f) === name ? ts.createSourceFile(f, source, v) : read(f, v, ...rest));
  const program = ts.createProgram([name], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(name)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** A query as Prometheus gets it: Grafana's variables replaced by what they stand for. */
function interpolate(expr: string): string {
  return expr.replace(/\$__rate_interval/g, '1m').replace(/\$\{?(\w+)\}?/g, '.*');
}

/** The metric names a query selects, or the syntax errors Prometheus' grammar finds in it. */
function metricNames(expr: string): { names: string[]; errors: string[] } {
  const q = interpolate(expr);
  const names: string[] = [];
  const errors: string[] = [];
  parser.parse(q).iterate({
    enter(n) {
      if (n.type.isError) errors.push(`at ${n.from}: ${JSON.stringify(q.slice(Math.max(0, n.from - 10), n.to + 10))}`);
      if (n.name === 'Identifier' && n.node.parent?.name === 'VectorSelector') names.push(q.slice(n.from, n.to));
    },
  });
  return { names, errors };
}

const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? '', expr: t.expr ?? '' })));

describe('examples/grafana-dashboard.json', () => {
  it('is a Grafana dashboard by @grafana/schema', () => {
    expect(typeErrors(`import type { Dashboard } from '@grafana/schema';\nexport const d: Dashboard = ${text};\n`)).toEqual([]);
    // the check can fail: a misspelt field is an error
    expect(typeErrors(`import type { Dashboard } from '@grafana/schema';\nexport const d: Dashboard = ${text.replace('"schemaVersion"', '"schemaVersoin"')};\n`).length).toBeGreaterThan(0);
  });

  it('has queries in every panel but rows, each valid PromQL', () => {
    for (const p of dashboard.panels) if (p.type !== 'row') expect(p.targets?.length, p.title).toBeGreaterThan(0);
    expect(queries.length).toBeGreaterThanOrEqual(20);
    for (const q of queries) {
      const { names, errors } = metricNames(q.expr);
      expect(errors, `${q.panel}: ${q.expr}`).toEqual([]);
      expect(names.length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
    }
    expect(metricNames('sum(rate(pushbench_deliveries_total[1m])').errors.length).toBeGreaterThan(0);
  });

  it('names only metrics a real run and a real reference server expose', async () => {
    const server = await startServer({ port: 0, ratePerS: 5, topics: 1 });
    try {
      const metrics = new GeneratorMetrics();
      const s = runSettings('ws', ['--clients', '20', '--duration', '1500ms', '--warmup', '500ms', '--rate', '5', '--topics', '1', '--workers', '1', '--target', server.url], 'dashboard');
      await runOnce(s, { metrics });
      // a family may have no series yet (errors without an error): its HELP/TYPE declare it
      const names = (x: ReturnType<typeof checkExposition>) => [...sampleNames(x), ...x.families.keys()];
      const exposed = new Set([
        ...names(checkExposition(await metrics.text())),
        ...names(checkExposition(await (await fetch(`${server.url}/metrics`)).text())),
      ]);
      const named = new Set(queries.flatMap((q) => metricNames(q.expr).names));
      expect([...named].filter((n) => !exposed.has(n))).toEqual([]);
      // and a typo would be caught
      expect(exposed.has('pushbench_delivery_total')).toBe(false);
    } finally {
      await server.close();
    }
  });
});
